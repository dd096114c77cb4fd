"""Service-account access tokens: signed, exchanged, cached and explained.

The key is kept sealed in the store (``service-account-key``, by client email and key id) and
read back from there to sign, so credentials objects never hold it. Tokens are cached sealed
(``service-account-token``, by client email, subject and sorted scopes) and fetched once per
expiry across threads and processes, through :class:`gtoken.service_accounts.cache.TokenCache`.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

from gtoken.errors import ConfigError, OAuthError
from gtoken.oauth import grants
from gtoken.oauth import scopes as _scopes
from gtoken.oauth.responses import parse_token_response
from gtoken.oauth.token import Token
from gtoken.refresh import DEFAULT_MIN_TTL, CrossProcessLock
from gtoken.service_accounts.assertion import sign_assertion
from gtoken.service_accounts.cache import TokenCache
from gtoken.service_accounts.explain import explain
from gtoken.service_accounts.keys import ServiceAccountKey
from gtoken.store import SqliteStore

if TYPE_CHECKING:
    from gtoken.accounts import Accounts
    from gtoken.endpoints import Endpoints
    from gtoken.transport import Transport

__all__ = ["KEY_NAMESPACE", "TOKEN_NAMESPACE", "ServiceAccountSource", "ServiceAccounts"]

KEY_NAMESPACE: Final = "service-account-key"
TOKEN_NAMESPACE: Final = "service-account-token"

log = logging.getLogger("gtoken")


@dataclass(frozen=True)
class KeyRef:
    """Which stored key: a service account's email and the key's id (neither is secret)."""

    client_email: str
    private_key_id: str
    origin: str = field(default="", compare=False)  # where the key was read from, for messages

    @property
    def name(self) -> str:
        return f"{self.client_email} {self.private_key_id}"


class ServiceAccounts:
    """Access tokens of service accounts, with domain-wide delegation (``subject``) or without,
    from the keys and tokens in one store."""

    def __init__(
        self,
        store: SqliteStore,
        *,
        locks: CrossProcessLock,
        endpoints: Endpoints,
        transport: Callable[[], Transport],
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``transport`` returns the transport to send with (called once per request, so it may
        create one lazily); token requests go to the key's ``token_uri``, or to the emulator's
        token endpoint when ``endpoints`` is the emulator's."""
        self.store = store
        self.endpoints = endpoints
        self.clock = clock
        self.cache = TokenCache(store, locks=locks, clock=clock)
        self._transport = transport

    @classmethod
    def of(cls, accounts: Accounts) -> ServiceAccounts:
        """The service accounts of ``accounts``' store, sharing its locks, transport and clock."""
        return cls(
            accounts.store,
            locks=accounts.refresher.locks,
            endpoints=accounts.endpoints,
            transport=accounts.refresher.transport,
            clock=accounts.clock,
        )

    def token(
        self,
        key: ServiceAccountKey,
        scopes: Iterable[str],
        *,
        subject: str | None = None,
        min_ttl: float = DEFAULT_MIN_TTL,
    ) -> Token:
        """An access token of ``key``'s service account for ``scopes`` (acting as ``subject``,
        a Workspace user, when given), valid ``min_ttl`` more seconds at least.

        Raises UnauthorizedClient when domain-wide delegation is not allowed for these scopes,
        InvalidGrant for an unknown subject, a stale clock or a deleted key, each saying how to
        fix it; ValueError for no scopes."""
        return self.source(key, scopes, subject=subject).fresh(min_ttl=min_ttl)

    def source(
        self,
        key: ServiceAccountKey,
        scopes: Iterable[str],
        *,
        subject: str | None = None,
        source: str | None = None,
    ) -> ServiceAccountSource:
        """The tokens of ``key`` for ``scopes`` as ``subject``, for a credentials object to
        refresh from. Stores the key (sealed) if the store does not hold it yet. ``source``
        says where the key came from, for people (default: its file)."""
        wanted = _scopes.canonical(scopes)
        if not wanted:
            raise ValueError("a service-account token needs at least one scope")
        return ServiceAccountSource(
            self,
            self.remember(key),
            wanted,
            subject=subject or None,
            source=source or f"service account {key.client_email} from {key.source}",
        )

    def remember(self, key: ServiceAccountKey) -> KeyRef:
        """Store ``key`` sealed, unless the store holds it already; returns its reference."""
        ref = KeyRef(key.client_email, key.private_key_id, key.source)
        info = key.to_info()
        stored = self.store.kv_get(KEY_NAMESPACE, ref.name)
        if stored is None or _loads(stored) != info:
            self.store.kv_put(KEY_NAMESPACE, ref.name, json.dumps(info))
        return ref

    def stored_key(self, ref: KeyRef) -> ServiceAccountKey:
        """The key ``ref`` names, from the store."""
        stored = self.store.kv_get(KEY_NAMESPACE, ref.name)
        info = None if stored is None else _loads(stored)
        if not isinstance(info, dict):
            raise ConfigError(
                f"the key {ref.private_key_id} of {ref.client_email} is no longer in the gtoken "
                f"store {self.store.path}",
                hint="Call gtoken.credentials(..., service_account=...) again with the key file.",
            )
        key = ServiceAccountKey.from_info(info, source=f"the key stored in {self.store.path}")
        return replace(key, source=ref.origin) if ref.origin else key

    def exchange(
        self, key: ServiceAccountKey, scopes: frozenset[str], subject: str | None
    ) -> Token:
        """Sign an assertion with ``key`` and trade it for an access token, now."""
        now = self.clock()
        moment = datetime.fromtimestamp(now, UTC)
        assertion = sign_assertion(key, scopes=scopes, now=now, subject=subject)
        url = self.endpoints.token if self.endpoints.emulator else key.token_uri
        response = self._transport().send(grants.jwt_bearer(token_uri=url, assertion=assertion))
        try:
            token = parse_token_response(
                response.status,
                response.headers,
                response.body,
                grant="jwt_bearer",
                now=moment,
                requested_scopes=scopes,
            )
        except OAuthError as exc:
            explained = explain(
                exc,
                key=key,
                scopes=scopes,
                subject=subject,
                now=moment,
                server_date=response.headers.get("date"),
            )
            if explained is exc:
                raise
            raise explained from exc
        log.debug(
            "gtoken: service account %s got a token%s",
            key.client_email,
            f" acting as {subject}" if subject else "",
        )
        return token


class ServiceAccountSource:
    """One service account's tokens for one set of scopes (as one subject): what a
    :class:`gtoken.Credentials` refreshes through. Holds the key's reference, not the key."""

    quota_project_id: str | None = None

    def __init__(
        self,
        owner: ServiceAccounts,
        ref: KeyRef,
        scopes: frozenset[str],
        *,
        subject: str | None,
        source: str,
    ) -> None:
        self._owner = owner
        self._ref = ref
        self.scopes = scopes
        self.subject = subject
        self.source = source
        self._cache_key = json.dumps([ref.client_email, subject or "", sorted(scopes)])

    @property
    def account(self) -> str:
        """Who the tokens act as: the subject, else the service account."""
        return self.subject or self._ref.client_email

    @property
    def client_email(self) -> str:
        return self._ref.client_email

    def fresh(self, *, min_ttl: float = DEFAULT_MIN_TTL, rejected: str | None = None) -> Token:
        """A token valid ``min_ttl`` more seconds (and not ``rejected``), from the store or,
        once per expiry, from Google."""
        return self._owner.cache.get(
            TOKEN_NAMESPACE, self._cache_key, self._fetch, min_ttl=min_ttl, rejected=rejected
        )

    def _fetch(self) -> Token:
        key = self._owner.stored_key(self._ref)
        return self._owner.exchange(key, self.scopes, self.subject)

    def __repr__(self) -> str:
        return (
            f"ServiceAccountSource({self._ref.client_email!r}, subject={self.subject!r}, "
            f"scopes={sorted(self.scopes)!r})"
        )


def _loads(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError:
        return None
