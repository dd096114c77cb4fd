"""Access tokens that belong to no stored account: a service account's, an ADC file's.

They are kept sealed in the store's key-value entries (``namespace``, ``key``; expiring with the
token) and renewed through the refresh engine (:class:`gtoken.refresh.Engine`), like an
account's: a fast read; else one renewal per key in this process, a per-key lock across
processes, a second read once the lock is held, and only then a trip to Google, whose answer is
stored before the lock is let go. What the trip is (a signed assertion, a file's refresh token)
is the caller's ``fetch``.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Hashable
from typing import Any

from gtoken.oauth.token import Token
from gtoken.refresh import DEFAULT_MIN_TTL, CrossProcessLock, Engine, Grant, GrantStatus
from gtoken.store import SqliteStore
from gtoken.store.format import from_unix_seconds

__all__ = ["KvGrants", "TokenCache"]

log = logging.getLogger("gtoken")


class KvGrants:
    """Cached tokens in a store's key-value entries as the engine's
    :class:`~gtoken.refresh.GrantStore`; a key is ``(namespace, key)``. These grants hold no
    refresh token and no status: every one is active, and one with no entry has no token yet."""

    def __init__(self, store: SqliteStore) -> None:
        self.store = store

    @property
    def name(self) -> str:
        return str(self.store.path)

    def read(self, key: Hashable) -> Grant:
        namespace, name = _split(key)
        value = self.store.kv_get(namespace, name)
        token = None if value is None else _decode(value)
        if token is None:
            return Grant(key=key, label=name)
        return Grant(
            key=key,
            label=name,
            access_token=token.access_token,
            expires_at=token.expires_at,
            scopes=token.scopes,
            row=token,
        )

    def swap(self, read: Grant, token: Token) -> Grant:
        # Written under the engine's lock; an entry holds no refresh token to compare.
        namespace, name = _split(read.key)
        expires_at = token.expires_at.timestamp() if token.expires_at else None
        self.store.kv_put(namespace, name, _encode(token), expires_at=expires_at)
        return Grant(
            key=read.key,
            label=read.label,
            access_token=token.access_token,
            expires_at=token.expires_at,
            scopes=token.scopes,
            row=token,
        )

    def mark(self, read: Grant, status: GrantStatus, reason: str) -> None:
        raise AssertionError("cached tokens have no refresh token to be refused")


class TokenCache:
    """Tokens by ``(namespace, key)`` in ``store``, each fetched once per expiry however many
    threads and processes ask."""

    def __init__(
        self,
        store: SqliteStore,
        *,
        locks: CrossProcessLock,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.engine = Engine(KvGrants(store), lock=locks, clock=clock)

    def get(
        self,
        namespace: str,
        key: str,
        fetch: Callable[[], Token],
        *,
        min_ttl: float = DEFAULT_MIN_TTL,
        rejected: str | None = None,
    ) -> Token:
        """The stored token if it stays valid ``min_ttl`` more seconds (and is not
        ``rejected``, one an API refused), else ``fetch()``'s, stored for the next caller."""
        grant = self.engine.fresh(
            (namespace, key), min_ttl=min_ttl, rejected=rejected, renew=lambda _: fetch()
        )
        assert isinstance(grant.row, Token)
        return grant.row


def _split(key: Hashable) -> tuple[str, str]:
    assert isinstance(key, tuple)
    namespace, name = key
    return str(namespace), str(name)


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
        return Token(
            access_token=data["access_token"],
            expires_at=from_unix_seconds(data["expires_at"]),
            scopes=frozenset(data["scopes"]),
            token_type=data["token_type"],
        )
    except (ValueError, TypeError, KeyError, OverflowError):
        log.warning("gtoken: a cached token entry is unreadable; fetching a new one")
        return None
