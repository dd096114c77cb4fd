"""The vault's tables, and the versioned migrations that make them, per dialect.

Why small versioned statements and not Alembic over SQLAlchemy Core: the vault has three tables
and its SQL is the same on SQLite and PostgreSQL but for a word or two; Alembic would bring
SQLAlchemy (several MB, slower imports) into every web app that uses the vault, and would still
need a lock of our own to make concurrent starts safe. The local store migrates the same way.

``gtoken_vault_schema`` lists the versions applied. Each migration runs in one transaction with
its row in that table, under a lock (PostgreSQL: a transaction-scoped advisory lock; SQLite:
``BEGIN IMMEDIATE``), and reads the applied versions again once it holds the lock, so several
processes starting at once apply each migration once. A database whose schema is newer than this
gtoken knows is refused before anything is written.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from gtoken.errors import StoreError
from gtoken.vault.database import Database, Dialect, Sql

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "Migration", "applied_version", "migrate"]

VERSIONS_TABLE: Final = "gtoken_vault_schema"
_CREATE_VERSIONS: Final = (
    f"CREATE TABLE IF NOT EXISTS {VERSIONS_TABLE} ("
    " version INTEGER PRIMARY KEY,"
    " description TEXT NOT NULL,"
    " applied_at BIGINT NOT NULL)"
)
# Any number will do, as long as it is the same in every process: "gtokvlt\0".
_PG_MIGRATION_LOCK: Final = 0x67746F6B766C7400


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    sqlite: tuple[str, ...]
    postgresql: tuple[str, ...]

    def statements(self, dialect: Dialect) -> tuple[str, ...]:
        return self.sqlite if dialect == "sqlite" else self.postgresql


def _v1(dialect: Dialect) -> tuple[str, ...]:
    # Times are unix seconds; sealed columns hold text "v1:<key id>:<data>" (see sealing.py).
    return (
        """
        CREATE TABLE gtoken_vault_clients (
            client_id TEXT PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('web', 'installed')),
            auth_uri TEXT NOT NULL,
            token_uri TEXT NOT NULL,
            redirect_uris TEXT NOT NULL,
            project_id TEXT,
            client_secret TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL
        )
        """,
        """
        CREATE TABLE gtoken_vault_connections (
            id TEXT PRIMARY KEY,
            client_id TEXT NOT NULL REFERENCES gtoken_vault_clients (client_id),
            user_id TEXT NOT NULL,
            email TEXT,
            sub TEXT,
            scopes TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL DEFAULT 'active'
                CHECK (status IN ('active', 'needs_consent', 'revoked')),
            status_reason TEXT,
            expires_at BIGINT,
            refresh_token_expires_at BIGINT,
            refreshed_at BIGINT,
            claimed_until BIGINT,
            refresh_serial BIGINT NOT NULL DEFAULT 0,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL,
            access_token TEXT,
            refresh_token TEXT,
            id_token TEXT,
            UNIQUE (client_id, user_id)
        )
        """,
        # Pages of connections by user id, and lookups by user id across clients.
        "CREATE INDEX gtoken_vault_connections_user"
        " ON gtoken_vault_connections (user_id, client_id)",
        # What refresh_due looks for: active connections by expiry, and by last use.
        "CREATE INDEX gtoken_vault_connections_expiry"
        " ON gtoken_vault_connections (status, expires_at)",
        "CREATE INDEX gtoken_vault_connections_refreshed"
        " ON gtoken_vault_connections (status, refreshed_at)",
        """
        CREATE TABLE gtoken_vault_states (
            state_hash TEXT PRIMARY KEY,
            client_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            redirect_uri TEXT NOT NULL,
            scopes TEXT NOT NULL,
            nonce TEXT NOT NULL,
            verifier TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            expires_at BIGINT NOT NULL
        )
        """,
        "CREATE INDEX gtoken_vault_states_expiry ON gtoken_vault_states (expires_at)",
    )


MIGRATIONS: Final[tuple[Migration, ...]] = (
    Migration(1, "clients, connections and consent states", _v1("sqlite"), _v1("postgresql")),
)
SCHEMA_VERSION: Final = len(MIGRATIONS)


def applied_version(
    db: Database, *, migrations: tuple[Migration, ...] = MIGRATIONS, table: str = VERSIONS_TABLE
) -> int:
    """The newest migration applied to ``db`` (0 for an empty database); refuses a newer schema.
    ``migrations`` and ``table``: another part's migrations and versions table (the broker's)."""
    with db.read() as sql:
        return _checked(sql, db, known=len(migrations), table=table)


def migrate(
    db: Database,
    *,
    migrations: tuple[Migration, ...] = MIGRATIONS,
    table: str = VERSIONS_TABLE,
    clock: Callable[[], float] = time.time,
) -> list[int]:
    """Apply the migrations ``db`` lacks, each in its own transaction; the versions applied.
    ``table`` lists the versions applied: a part with tables of its own beside the vault's (the
    broker) keeps its own list, so that each numbers its migrations without the other's."""
    applied: list[int] = []
    while True:
        with db.transaction() as sql:
            if sql.dialect == "postgresql":
                sql.one("SELECT pg_advisory_xact_lock(?)", (_PG_MIGRATION_LOCK,))
            sql.run(_CREATE_VERSIONS.replace(VERSIONS_TABLE, table))
            current = _checked(sql, db, known=len(migrations), table=table)
            if current >= len(migrations):
                return applied
            step = migrations[current]
            for statement in step.statements(sql.dialect):
                sql.run(statement)
            sql.run(
                f"INSERT INTO {table} (version, description, applied_at)"  # noqa: S608
                " VALUES (?, ?, ?)",
                (step.version, step.description, int(clock())),
            )
            applied.append(step.version)


def _checked(
    sql: Sql, db: Database, *, known: int = SCHEMA_VERSION, table: str = VERSIONS_TABLE
) -> int:
    if not _table_exists(sql, table):
        if table == VERSIONS_TABLE and _has_vault_tables(sql):
            raise StoreError(
                f"{db.name} holds gtoken vault tables but no {VERSIONS_TABLE} table; gtoken will "
                "not guess their version",
                hint="Restore the table from a backup, or move the gtoken_vault_* tables away.",
            )
        return 0
    row = sql.one(f"SELECT max(version) FROM {table}")  # noqa: S608
    version = int(row[0]) if row is not None and row[0] is not None else 0
    if version > known:
        raise StoreError(
            f"the vault database {db.name} has schema version {version}, written by a newer "
            f"gtoken; this one knows versions up to {known} and will not touch it",
            hint="Upgrade gtoken (pip install -U gtoken) wherever this database is used.",
        )
    return version


def _has_vault_tables(sql: Sql) -> bool:
    return _table_exists(sql, "gtoken_vault_connections")


def _table_exists(sql: Sql, name: str) -> bool:
    if sql.dialect == "sqlite":
        found = sql.one("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,))
    else:
        found = sql.one("SELECT to_regclass(?) IS NOT NULL", (name,))
        return bool(found and found[0])
    return found is not None
