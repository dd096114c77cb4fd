"""The one place a refresh token (or any other way to a new access token) becomes an access
token that every process sharing the grant sees.

The engine knows nothing of where grants live. It asks for two things, each a small protocol:

- a :class:`GrantStore` that reads a grant by an opaque key, compares and swaps its tokens
  (stores new ones only if the grant's refresh token is still the one read), and marks a grant
  that needs consent again;
- a :class:`~gtoken.refresh.locks.CrossProcessLock` over the processes that share that store.

The local SQLite accounts, the cached service-account and ADC tokens, and a web app's grants in
SQLite or PostgreSQL all go through :meth:`Engine.fresh`, so each rule below is written once:

- a usable token is handed out without asking Google; one an API rejected (a 401) is not, unless
  the store already holds another (:func:`usable`);
- threads of one process share one renewal per grant (:data:`~gtoken.refresh.flights.FLIGHTS`);
- processes take the grant's cross-process lock and read the grant again once they hold it, so
  the ones that waited find the token another process stored (:meth:`Engine._renew_locked`);
  with a :class:`~gtoken.refresh.locks.WaitingLock` (``FileLocks`` is one) the processes that
  waited read it all at once, holding the lock shared, instead of one after another;
- a grant that needs consent is not sent to Google again;
- Google's answer keeps the stored refresh token when it sends none, and a new one replaces it
  (:func:`keep_refresh_token`);
- ``invalid_grant`` marks the grant ``needs_consent`` with the likely cause and raises
  :class:`~gtoken.errors.ConsentRequired` (:meth:`Engine._refresh`);
- any other failure (network, 5xx, 429, a bad answer) is raised as it is and changes nothing
  stored: nothing is written before Google's answer is in hand, and a refresh token is never
  deleted, only replaced by a newer one.

Crash-safe by construction: nothing is given up before the new token is stored in one write; a
process killed anywhere leaves the old refresh token in place and its lock released.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal, Protocol

from gtoken.errors import ConsentRequired, InvalidGrant, StoreError
from gtoken.oauth import grants
from gtoken.oauth.clients import ClientSecrets
from gtoken.oauth.responses import parse_token_response
from gtoken.oauth.token import Token
from gtoken.redact import fingerprint
from gtoken.refresh.flights import FLIGHTS, Flights
from gtoken.refresh.locks import CrossProcessLock, WaitingLock
from gtoken.store.format import DEFAULT_MIN_TTL

if TYPE_CHECKING:
    from gtoken.transport import Transport

__all__ = [
    "DEFAULT_MIN_TTL",
    "Engine",
    "Grant",
    "GrantStatus",
    "GrantStore",
    "Renew",
    "consent_reason",
    "keep_refresh_token",
    "refresh_answer",
    "usable",
]

GrantStatus = Literal["active", "needs_consent", "revoked"]

#: How many times a renewal is tried when the grant keeps changing under it.
_SWAP_ATTEMPTS = 3


@dataclass(frozen=True, kw_only=True, repr=False)
class Grant:
    """A grant as its store held it when read: the tokens, and what the engine needs to renew it.

    ``key`` is the store's own name for the grant (an account id, a ``(client, user)`` pair...);
    the engine only compares it and puts it in lock names. ``client`` is where and as whom the
    refresh token is sent (its ``token_uri`` is the token endpoint). ``row`` is whatever the store
    wants back from :meth:`Engine.fresh` (its own record type); the engine never looks at it.
    """

    key: Hashable
    label: str
    access_token: str | None = None
    expires_at: datetime | None = None
    scopes: frozenset[str] = frozenset()
    refresh_token: str | None = None
    refresh_token_expires_at: datetime | None = None
    id_token: str | None = None
    client: ClientSecrets | None = None
    status: GrantStatus = "active"
    status_reason: str | None = None
    row: object = None

    def token(self) -> Token:
        """The stored tokens as a :class:`Token` (for a grant with an access token)."""
        if not self.access_token:
            raise ValueError(f"the grant of {self.label} holds no access token")
        return Token(
            access_token=self.access_token,
            expires_at=self.expires_at,
            refresh_token=self.refresh_token,
            scopes=self.scopes,
            id_token=self.id_token,
            refresh_token_expires_at=self.refresh_token_expires_at,
        )

    def __repr__(self) -> str:
        def shown(secret: str | None) -> str:
            return "None" if secret is None else fingerprint(secret)

        return (
            f"Grant(key={self.key!r}, label={self.label!r}, status={self.status!r}, "
            f"access_token={shown(self.access_token)}, expires_at={self.expires_at}, "
            f"refresh_token={shown(self.refresh_token)})"
        )


class GrantStore(Protocol):
    """Where grants live, as the engine needs it. Implementations: the local accounts
    (:class:`gtoken.accounts.AccountGrants`), cached tokens
    (:class:`gtoken.service_accounts.cache.KvGrants`), and a web app's grants of many users."""

    @property
    def name(self) -> str:
        """Tells this store's grants apart from another store's with the same keys (a file's
        path, a database's name); part of the single-flight and lock names."""
        ...

    def read(self, key: Hashable) -> Grant | None:
        """The grant ``key`` as stored now, or None when there is none."""
        ...

    def swap(self, read: Grant, token: Token) -> Grant | None:
        """Store ``token`` (access token, expiry, scopes, ID token and the refresh token to keep)
        as grant ``read.key``, only if its stored refresh token is still ``read.refresh_token``;
        return the grant as stored, or None (nothing written) when it has changed."""
        ...

    def mark(self, read: Grant, status: GrantStatus, reason: str) -> None:
        """Record that grant ``read.key`` is ``status`` ("needs_consent"), with a reason for
        people. Its tokens are left as they are."""
        ...


#: Another way to a new token than the grant's refresh token (a service account's signed
#: assertion, a file's refresh token that is not stored): called with the grant as read under
#: the lock, returns Google's answer.
Renew = Callable[[Grant], Token]


def usable(grant: Grant, min_ttl: float, now: float, rejected: str | None = None) -> bool:
    """Whether ``grant`` may be handed out as it is: active, with an access token valid for more
    than ``min_ttl`` seconds after ``now``, and other than ``rejected`` (one an API refused)."""
    return (
        grant.status == "active"
        and bool(grant.access_token)
        and grant.access_token != rejected
        and grant.expires_at is not None
        and grant.expires_at.timestamp() - now > min_ttl
    )


def keep_refresh_token(read: Grant, answer: Token) -> Token:
    """The tokens to store after Google answered ``answer`` for the grant ``read``.

    Google's refresh answers carry no refresh token (and may carry no ID token): then the stored
    ones are kept, with the stored refresh token's time limit unless the answer states one afresh
    (Testing apps' answers do). A new refresh token replaces the old one. Everything else, the
    granted scopes included, comes from ``answer``. A sign-in that brings no refresh token keeps
    the stored one the same way."""
    if answer.refresh_token:
        return dataclasses.replace(answer, id_token=answer.id_token or read.id_token)
    return dataclasses.replace(
        answer,
        refresh_token=read.refresh_token,
        refresh_token_expires_at=answer.refresh_token_expires_at or read.refresh_token_expires_at,
        id_token=answer.id_token or read.id_token,
    )


def consent_reason(exc: InvalidGrant, refused: str = "Google refused its refresh token") -> str:
    """Why a refresh token needs consent again, for people: ``refused``, Google's words, and the
    likely causes."""
    said = f"{exc.error}: {exc.description}" if exc.description else str(exc.error)
    listed = "; ".join(f"({n}) {cause}" for n, cause in enumerate(exc.likely_causes, 1))
    reason = f"{refused} ({said})"
    return f"{reason}. Likely causes: {listed}" if listed else reason


def refresh_answer(
    transport: Transport,
    client: ClientSecrets,
    refresh_token: str,
    *,
    now: datetime,
    scopes: Iterable[str] = (),
    refresh_token_expires_at: datetime | None = None,
) -> Token:
    """Google's answer to ``refresh_token`` sent as ``client`` to its token endpoint, as it
    came (see :func:`keep_refresh_token`); its errors raised as gtoken's (InvalidGrant...).
    ``scopes`` are the grant's, the answer's when Google leaves them out."""
    response = transport.send(grants.refresh(client, refresh_token))
    return parse_token_response(
        response.status,
        response.headers,
        response.body,
        grant="refresh_token",
        now=now,
        requested_scopes=scopes,
        refresh_token_expires_at=refresh_token_expires_at,
    )


class Engine:
    """Hands out fresh access tokens for the grants of one store, renewing each expiry once
    however many threads and processes ask."""

    def __init__(
        self,
        grants: GrantStore,
        *,
        lock: CrossProcessLock,
        transport: Callable[[], Transport] | None = None,
        clock: Callable[[], float] = time.time,
        flights: Flights = FLIGHTS,
    ) -> None:
        """``transport`` makes the transport refresh requests go through (called once, on first
        use; not needed when every renewal is a ``renew`` of the caller's); ``clock`` is the time
        in unix seconds."""
        self.grants = grants
        self.lock = lock
        self.clock = clock
        self.flights = flights
        self._transport_factory = transport
        self._transport: Transport | None = None
        self._transport_lock = threading.Lock()

    def fresh(
        self,
        key: Hashable,
        *,
        min_ttl: float = DEFAULT_MIN_TTL,
        rejected: str | None = None,
        known: Grant | None = None,
        renew: Renew | None = None,
    ) -> Grant:
        """The grant ``key`` with an access token valid ``min_ttl`` more seconds, renewed if
        needed: by ``renew`` when given, else with its refresh token.

        ``rejected`` is an access token an API refused (a 401): it is renewed even if it looks
        valid, unless the store already holds another one. ``known`` is the grant as the caller
        just read it, which spares reading it again. Raises ConsentRequired when the grant needs
        consent again (or is not stored); errors of the renewal otherwise, nothing changed."""
        grant = known if known is not None and known.key == key else self._read(key)
        if usable(grant, min_ttl, self.clock(), rejected):
            return grant
        flight = f"{self.grants.name}\0{key!r}"
        return self.flights.run(flight, lambda: self._renew_locked(key, min_ttl, rejected, renew))

    def _read(self, key: Hashable) -> Grant:
        grant = self.grants.read(key)
        if grant is None:
            raise ConsentRequired(
                str(key), "it is not in the store (logged out?)", hint="Sign in with gtoken login."
            )
        return grant

    def _renew_locked(
        self, key: Hashable, min_ttl: float, rejected: str | None, renew: Renew | None
    ) -> Grant:
        name = f"refresh:{self.grants.name}\0{key!r}"
        if isinstance(self.lock, WaitingLock):
            with self.lock.first_or_wait(name) as first:
                if first:
                    return self._renew_held(key, min_ttl, rejected, renew)
                # Another process was renewing it: its result is read by every process that
                # waited, at once. Only when it left none usable does this one queue to renew.
                grant = self._read(key)
                if usable(grant, min_ttl, self.clock(), rejected):
                    return grant
        with self.lock.hold(name):
            return self._renew_held(key, min_ttl, rejected, renew)

    def _renew_held(
        self, key: Hashable, min_ttl: float, rejected: str | None, renew: Renew | None
    ) -> Grant:
        """Renew ``key``, this process holding its lock alone."""
        for _ in range(_SWAP_ATTEMPTS):
            # Another process may have renewed it while this one waited for the lock.
            grant = self._read(key)
            if usable(grant, min_ttl, self.clock(), rejected):
                return grant
            if grant.status != "active":
                raise ConsentRequired(grant.label, grant.status_reason or grant.status)
            answer = renew(grant) if renew is not None else self._refresh(grant)
            stored = self.grants.swap(grant, keep_refresh_token(grant, answer))
            if stored is not None:
                return stored
            # Written meanwhile by something that takes no lock (a new sign-in): its tokens
            # are newer than the answer in hand, which is dropped.
        raise StoreError(
            f"the grant of {grant.label} kept changing while it was being refreshed",
            hint="Try again.",
            retryable=True,
        )

    def _refresh(self, grant: Grant) -> Token:
        """Google's answer to the grant's refresh token; ``invalid_grant`` marks it."""
        if not grant.refresh_token:
            raise ConsentRequired(grant.label, "it has no refresh token")
        if grant.client is None:
            raise ConsentRequired(grant.label, "its store names no OAuth client to refresh with")
        try:
            return refresh_answer(
                self.transport(),
                grant.client,
                grant.refresh_token,
                now=datetime.fromtimestamp(self.clock(), UTC),
                scopes=grant.scopes,
                refresh_token_expires_at=grant.refresh_token_expires_at,
            )
        except InvalidGrant as exc:
            reason = consent_reason(exc)
            self.grants.mark(grant, "needs_consent", reason)
            raise ConsentRequired(grant.label, reason, likely_causes=exc.likely_causes) from exc

    def transport(self) -> Transport:
        """The transport token requests go through, made on first use."""
        with self._transport_lock:
            if self._transport is None:
                if self._transport_factory is None:
                    raise ValueError("this engine was made without a transport to refresh with")
                self._transport = self._transport_factory()
            return self._transport

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
