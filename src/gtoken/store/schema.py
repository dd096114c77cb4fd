"""The SQLite store's tables, and how an older file is brought up to date.

The schema version is ``PRAGMA user_version``; ``PRAGMA application_id`` marks the file as
gtoken's so that another program's database is never migrated by mistake. Each migration runs in
the same ``BEGIN IMMEDIATE`` transaction as the version bump, so a crash leaves the old schema or
the new one, never half of it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Final

from gtoken.store.errors import StoreError
from gtoken.store.format import APPLICATION_ID, SCHEMA_VERSION

__all__ = ["APPLICATION_ID", "MIGRATIONS", "SCHEMA_VERSION", "migrate", "schema_version"]


_V1 = (
    """
    CREATE TABLE accounts (
        id TEXT PRIMARY KEY NOT NULL,
        client_id TEXT NOT NULL,
        email TEXT,
        sub TEXT,
        scopes TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL DEFAULT 'active'
            CHECK (status IN ('active', 'needs_consent', 'revoked')),
        status_reason TEXT,
        is_default INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
        token_uri TEXT NOT NULL,
        expires_at INTEGER,
        refresh_token_expires_at INTEGER,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        version INTEGER NOT NULL,
        access_token TEXT,
        refresh_token TEXT,
        id_token TEXT,
        client_secret TEXT
    )
    """,
    # At most one default account per client, whoever writes.
    "CREATE UNIQUE INDEX accounts_default ON accounts (client_id) WHERE is_default = 1",
    "CREATE INDEX accounts_client ON accounts (client_id, email)",
    """
    CREATE TABLE kv (
        namespace TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        expires_at REAL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (namespace, key)
    )
    """,
    """
    CREATE TABLE leases (
        name TEXT PRIMARY KEY NOT NULL,
        owner TEXT NOT NULL,
        expires_at REAL NOT NULL
    )
    """,
)

# Accounts are named by e-mail whatever its case: the index finds one among thousands without
# reading the others.
_V2 = ("CREATE INDEX accounts_email ON accounts (lower(email))",)

#: Statements that take a file from version ``i`` to ``i + 1``.
MIGRATIONS: Final[tuple[tuple[str, ...], ...]] = (_V1, _V2)
# The format module states the version for readers that do not import this one.
assert len(MIGRATIONS) == SCHEMA_VERSION, "update gtoken.store.format.SCHEMA_VERSION"


def schema_version(conn: sqlite3.Connection, path: Path) -> int:
    """The file's schema version, after checking it is a gtoken store this code can read."""
    try:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
        tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise StoreError(
            f"{path} is not a readable SQLite database ({exc}); move it away and log in again, "
            "or point GTOKEN_HOME elsewhere"
        ) from None
    if app_id != APPLICATION_ID and (app_id != 0 or version != 0 or tables):
        raise StoreError(
            f"{path} is an SQLite database, but not a gtoken store; gtoken will not touch it. "
            "Use another path"
        )
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{path} was written by a newer gtoken (schema {version}; this one knows up to "
            f"{SCHEMA_VERSION}); upgrade gtoken"
        )
    return version


def migrate(conn: sqlite3.Connection, path: Path) -> int:
    """Bring the file up to :data:`SCHEMA_VERSION`. ``conn`` must be in autocommit mode; the
    migration takes the write lock itself. Returns the number of migrations applied."""
    if schema_version(conn, path) == SCHEMA_VERSION:
        return 0
    conn.execute("BEGIN IMMEDIATE")
    try:
        # Another process may have migrated while we waited for the lock.
        start = schema_version(conn, path)
        for statements in MIGRATIONS[start:]:
            for statement in statements:
                conn.execute(statement)
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return SCHEMA_VERSION - start
