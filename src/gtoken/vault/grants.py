"""The vault's connections as the refresh engine's grants, and the lock its processes share.

No refresh rule is written here: :class:`gtoken.refresh.Engine` decides when to refresh, keeps
the stored refresh token when Google sends none, marks ``invalid_grant`` and leaves everything as
it was on a passing failure. This module only says how a connection is read, compared-and-swapped
and marked, and which lock spans the processes:

- PostgreSQL: a transaction-scoped advisory lock per connection, held across the call to Google
  on a connection of its own (a process that dies lets it go with its session), with a timeout;
- SQLite: one ``flock`` per connection in a directory next to the database file, as the local
  store does (one machine).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Hashable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, cast

from gtoken.oauth.clients import ClientSecrets
from gtoken.oauth.token import Token
from gtoken.refresh import CrossProcessLock, FileLocks, Grant, GrantStatus, keep_refresh_token
from gtoken.vault.database import PostgresDatabase, SqliteDatabase
from gtoken.vault.events import Event, Hooks
from gtoken.vault.records import StoredConnection
from gtoken.vault.storage import Storage

if TYPE_CHECKING:
    from gtoken.vault.database import Database

__all__ = ["AdvisoryLocks", "VaultGrants", "grant_of", "lock_for", "merge_consent"]

Key = tuple[str, str]  # (client_id, user_id)


def _moment(seconds: int | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


def grant_of(conn: StoredConnection, client: ClientSecrets | None) -> Grant:
    """A connection as the engine sees it."""
    return Grant(
        key=(conn.client_id, conn.user_id),
        label=f"user {conn.user_id!r}" + (f" ({conn.email})" if conn.email else ""),
        access_token=conn.access_token,
        expires_at=_moment(conn.expires_at),
        scopes=conn.scopes,
        refresh_token=conn.refresh_token,
        refresh_token_expires_at=_moment(conn.refresh_token_expires_at),
        id_token=conn.id_token,
        client=client,
        status=conn.status,
        status_reason=conn.status_reason,
        row=conn,
    )


def merge_consent(before: StoredConnection | None, answer: Token) -> Token:
    """The tokens to store after a consent: the engine's rule, so that a consent that brings no
    refresh token keeps the stored one exactly as a refresh does."""
    if before is None:
        return answer
    return keep_refresh_token(grant_of(before, None), answer)


class VaultGrants:
    """The engine's :class:`~gtoken.refresh.GrantStore` over the vault's connections."""

    def __init__(
        self,
        storage: Storage,
        clients: Callable[[str], ClientSecrets | None],
        hooks: Hooks,
    ) -> None:
        self.storage = storage
        self._clients = clients
        self._hooks = hooks

    @property
    def name(self) -> str:
        return f"vault:{self.storage.db.name}"

    def read(self, key: Hashable) -> Grant | None:
        client_id, user_id = cast("Key", key)
        conn = self.storage.get(client_id, user_id)
        return None if conn is None else grant_of(conn, self._clients(client_id))

    def swap(self, read: Grant, token: Token) -> Grant | None:
        conn = self.storage.swap(cast("StoredConnection", read.row), token)
        return None if conn is None else grant_of(conn, read.client)

    def mark(self, read: Grant, status: GrantStatus, reason: str) -> None:
        conn = cast("StoredConnection", read.row)
        if self.storage.mark(conn, status, reason) and status == "needs_consent":
            self._hooks.emit(Event("needs_consent", conn.user_id, conn.client_id, reason))


class AdvisoryLocks:
    """PostgreSQL advisory locks, one per name, each held on its own pooled connection."""

    def __init__(self, db: PostgresDatabase, *, timeout: float) -> None:
        self._db = db
        self.timeout = timeout

    @contextlib.contextmanager
    def hold(self, name: str) -> Iterator[None]:
        with self._db.advisory_lock(name, timeout=self.timeout):
            yield


def lock_for(db: Database, *, timeout: float) -> CrossProcessLock:
    """The lock that spans every process using ``db``."""
    if isinstance(db, PostgresDatabase):
        return AdvisoryLocks(db, timeout=timeout)
    assert isinstance(db, SqliteDatabase)
    return FileLocks(Path(f"{db.path}.locks"))
