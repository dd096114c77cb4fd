"""Access tokens that belong to no stored account: a service account's, an ADC file's.

They are kept sealed in the store's key-value entries (``namespace``, ``key``; expiring with the
token) and fetched the way :mod:`gtoken.refresh` refreshes an account: a fast read; else one
call per key in this process (:data:`gtoken.refresh.FLIGHTS`), a per-key file lock across
processes, a second read once the lock is held (another process may have fetched meanwhile),
and only then a trip to Google, whose answer is stored before the lock is let go.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from gtoken.oauth.token import Token
from gtoken.refresh import FLIGHTS, ProcessLocks
from gtoken.store import SqliteStore

__all__ = ["TokenCache"]

log = logging.getLogger("gtoken")


class TokenCache:
    """Tokens by ``(namespace, key)`` in ``store``, each fetched once per expiry however many
    threads and processes ask."""

    def __init__(
        self,
        store: SqliteStore,
        *,
        locks: ProcessLocks,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.locks = locks
        self.clock = clock

    def get(
        self,
        namespace: str,
        key: str,
        fetch: Callable[[], Token],
        *,
        min_ttl: float,
        rejected: str | None = None,
    ) -> Token:
        """The stored token if it stays valid ``min_ttl`` more seconds (and is not
        ``rejected``, one an API refused), else ``fetch()``'s, stored for the next caller."""
        token = self.peek(namespace, key)
        if self._usable(token, min_ttl, rejected):
            assert token is not None
            return token
        flight = f"{self.store.path}:{namespace}:{key}"
        return FLIGHTS.run(
            flight, lambda: self._fetch_once(namespace, key, fetch, min_ttl, rejected)
        )

    def peek(self, namespace: str, key: str) -> Token | None:
        """The stored token, valid or not (None when there is none or it is unreadable)."""
        value = self.store.kv_get(namespace, key)
        return None if value is None else _decode(value)

    def _fetch_once(
        self,
        namespace: str,
        key: str,
        fetch: Callable[[], Token],
        min_ttl: float,
        rejected: str | None,
    ) -> Token:
        with self.locks.hold(f"{namespace}:{self.store.path}:{key}"):
            token = self.peek(namespace, key)
            if self._usable(token, min_ttl, rejected):
                assert token is not None
                return token
            token = fetch()
            expires_at = token.expires_at.timestamp() if token.expires_at else None
            self.store.kv_put(namespace, key, _encode(token), expires_at=expires_at)
            return token

    def _usable(self, token: Token | None, min_ttl: float, rejected: str | None) -> bool:
        now = datetime.fromtimestamp(self.clock(), UTC)
        return (
            token is not None
            and token.access_token != rejected
            and not token.expires_within(min_ttl, now=now)
        )


def _encode(token: Token) -> str:
    return json.dumps(
        {
            "access_token": token.access_token,
            "expires_at": token.expires_at.timestamp() if token.expires_at else None,
            "scopes": sorted(token.scopes),
            "token_type": token.token_type,
        }
    )


def _decode(value: str) -> Token | None:
    """A stored token; None for an entry that is not one (it is then fetched and replaced)."""
    try:
        data: Any = json.loads(value)
        expires_at = data["expires_at"]
        return Token(
            access_token=data["access_token"],
            expires_at=None if expires_at is None else datetime.fromtimestamp(expires_at, UTC),
            scopes=frozenset(data["scopes"]),
            token_type=data["token_type"],
        )
    except (ValueError, TypeError, KeyError, OverflowError):
        log.warning("gtoken: a cached token entry is unreadable; fetching a new one")
        return None
