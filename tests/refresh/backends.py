"""The refresh engine's protocols, twice: in memory (the smallest store that obeys them) and
the SQLite accounts of a gtoken home (a real file)."""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections.abc import Hashable, Iterator
from pathlib import Path

from gtoken import endpoints
from gtoken.accounts import AccountGrants
from gtoken.oauth import ClientSecrets, Token
from gtoken.refresh import FileLocks, Grant, GrantStatus
from gtoken.store import AccountRecord, Keyring, SqliteStore, new_key
from gtoken.store.format import unix_seconds


class MemoryGrants:
    """Grants in a dict: every method of :class:`gtoken.refresh.GrantStore`, and a count of
    the writes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.grants: dict[Hashable, Grant] = {}
        self.swaps = 0
        self.marks = 0

    @property
    def name(self) -> str:
        return f"memory-{id(self)}"

    def read(self, key: Hashable) -> Grant | None:
        with self._lock:
            return self.grants.get(key)

    def swap(self, read: Grant, token: Token) -> Grant | None:
        with self._lock:
            current = self.grants.get(read.key)
            if current is None or current.refresh_token != read.refresh_token:
                return None
            self.swaps += 1
            stored = dataclasses.replace(
                current,
                access_token=token.access_token,
                expires_at=token.expires_at,
                scopes=token.scopes,
                refresh_token=token.refresh_token,
                refresh_token_expires_at=token.refresh_token_expires_at,
                id_token=token.id_token,
            )
            self.grants[read.key] = stored
            return stored

    def mark(self, read: Grant, status: GrantStatus, reason: str) -> None:
        with self._lock:
            self.marks += 1
            current = self.grants[read.key]
            self.grants[read.key] = dataclasses.replace(
                current, status=status, status_reason=reason
            )

    def put(self, grant: Grant) -> None:
        with self._lock:
            self.grants[grant.key] = grant


class MemoryLocks:
    """A lock per name for the threads of this process (the processes of an in-memory store)."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self.taken = 0

    @contextlib.contextmanager
    def hold(self, name: str) -> Iterator[None]:
        with self._guard:
            lock = self._locks.setdefault(name, threading.Lock())
        with lock:
            self.taken += 1
            yield


class SqliteGrants(AccountGrants):
    """The accounts of a real SQLite store, seeded from grants."""

    def put(self, grant: Grant) -> None:
        assert grant.client is not None
        self.store.put(
            AccountRecord(
                id=str(grant.key),
                client_id=grant.client.client_id,
                email=grant.label,
                scopes=tuple(sorted(grant.scopes)),
                status=grant.status,
                status_reason=grant.status_reason,
                token_uri=grant.client.token_uri,
                expires_at=unix_seconds(grant.expires_at),
                refresh_token_expires_at=unix_seconds(grant.refresh_token_expires_at),
                access_token=grant.access_token,
                refresh_token=grant.refresh_token,
                id_token=grant.id_token,
                client_secret=grant.client.client_secret,
            )
        )


def sqlite_grants(directory: Path, emulator_host: str, key: bytes | None = None) -> SqliteGrants:
    keyring = Keyring([key or new_key()])
    store = SqliteStore(directory / "store.sqlite3", keyring)
    return SqliteGrants(store, endpoints.emulator(emulator_host))


def file_locks(directory: Path) -> FileLocks:
    return FileLocks(directory / "locks")


PLACEHOLDER_CLIENT = ClientSecrets(
    kind="installed",
    client_id="1234-engine.apps.googleusercontent.com",
    client_secret="GOCSPX-engine-test-secret",
    token_uri="http://127.0.0.1:9/token",
)
