"""The broker's own tables, beside the vault's in the same database, made by the vault's migration
mechanism (:mod:`gtoken.vault.migrations`) with a versions table of their own,
``gtoken_broker_schema``.

Times are unix seconds. Sealed columns hold the vault's sealed text (AES-256-GCM, bound to table,
row and column), under the vault's keys.
"""

from __future__ import annotations

from typing import Final

from gtoken.vault.database import Database, Dialect
from gtoken.vault.migrations import Migration, applied_version, migrate

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "VERSIONS_TABLE", "broker_version", "migrate_broker"]

VERSIONS_TABLE: Final = "gtoken_broker_schema"


def _v1(dialect: Dialect) -> tuple[str, ...]:
    serial = "INTEGER PRIMARY KEY AUTOINCREMENT" if dialect == "sqlite" else "BIGSERIAL PRIMARY KEY"
    return (
        # API keys: the secret part is kept as its SHA-256 only (it is 256 random bits, so a
        # slow hash adds nothing); ``permissions`` is space-separated.
        """
        CREATE TABLE gtoken_broker_api_keys (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            secret_hash TEXT NOT NULL,
            permissions TEXT NOT NULL,
            client_id TEXT,
            created_at BIGINT NOT NULL,
            revoked_at BIGINT
        )
        """,
        # Every token handed out.
        f"""
        CREATE TABLE gtoken_broker_audit (
            id {serial},
            at BIGINT NOT NULL,
            key_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            client_id TEXT NOT NULL,
            scopes TEXT NOT NULL,
            caller TEXT
        )
        """,
        "CREATE INDEX gtoken_broker_audit_at ON gtoken_broker_audit (at)",
        "CREATE INDEX gtoken_broker_audit_user ON gtoken_broker_audit (user_id, id)",
        # Per client, where connect links may send the user back to.
        """
        CREATE TABLE gtoken_broker_clients (
            client_id TEXT PRIMARY KEY,
            return_origins TEXT NOT NULL,
            updated_at BIGINT NOT NULL
        )
        """,
        # The return URL of each consent under way, by the hash of the vault's state.
        """
        CREATE TABLE gtoken_broker_consents (
            state_hash TEXT PRIMARY KEY,
            return_url TEXT,
            expires_at BIGINT NOT NULL
        )
        """,
        """
        CREATE TABLE gtoken_broker_webhooks (
            id TEXT PRIMARY KEY,
            url TEXT NOT NULL,
            events TEXT NOT NULL,
            secret TEXT NOT NULL,
            created_at BIGINT NOT NULL
        )
        """,
        # The outbox: one row per (event, endpoint), delivered by whichever replica claims it.
        """
        CREATE TABLE gtoken_broker_outbox (
            id TEXT PRIMARY KEY,
            endpoint_id TEXT NOT NULL,
            event TEXT NOT NULL,
            payload TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            next_attempt_at BIGINT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            claimed_until BIGINT,
            delivered_at BIGINT,
            failed_at BIGINT,
            last_status INTEGER,
            last_error TEXT
        )
        """,
        "CREATE INDEX gtoken_broker_outbox_due"
        " ON gtoken_broker_outbox (delivered_at, failed_at, next_attempt_at)",
        f"""
        CREATE TABLE gtoken_broker_attempts (
            id {serial},
            message_id TEXT NOT NULL,
            at BIGINT NOT NULL,
            status INTEGER,
            error TEXT
        )
        """,
        "CREATE INDEX gtoken_broker_attempts_message ON gtoken_broker_attempts (message_id)",
        # Admin sessions, by the hash of the cookie's value; the CSRF token is per session.
        """
        CREATE TABLE gtoken_broker_sessions (
            id_hash TEXT PRIMARY KEY,
            csrf TEXT NOT NULL,
            who TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            expires_at BIGINT NOT NULL
        )
        """,
    )


MIGRATIONS: Final[tuple[Migration, ...]] = (
    Migration(
        1,
        "API keys, audit log, client return origins, consents, webhooks, admin sessions",
        _v1("sqlite"),
        _v1("postgresql"),
    ),
)
SCHEMA_VERSION: Final = len(MIGRATIONS)


def migrate_broker(db: Database) -> list[int]:
    """Apply the broker's migrations ``db`` lacks; the versions applied."""
    return migrate(db, migrations=MIGRATIONS, table=VERSIONS_TABLE)


def broker_version(db: Database) -> int:
    return applied_version(db, migrations=MIGRATIONS, table=VERSIONS_TABLE)
