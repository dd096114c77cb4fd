"""What the broker does, without HTTP: the routes in :mod:`gtoken.broker.app` parse a request,
call one method here, and format the answer.

Everything about a user's Google consent and tokens is the Vault's; this adds what a shared
service needs around it: API keys and what each may do, connect links and return URLs, the audit
log, and webhooks.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from gtoken.broker.links import Link, Signer
from gtoken.broker.migrations import SCHEMA_VERSION as BROKER_SCHEMA
from gtoken.broker.migrations import broker_version, migrate_broker
from gtoken.broker.records import ApiKey, Permission, Records
from gtoken.broker.settings import Settings, origin_of
from gtoken.broker.webhooks import Webhooks
from gtoken.errors import AccessDenied, ConfigError, ConsentRequired, GTokenError, StateError
from gtoken.oauth import scopes as _scopes
from gtoken.oauth.clients import ClientSecrets
from gtoken.oauth.token import Token
from gtoken.store.crypto import Keyring
from gtoken.vault.consent import IDENTITY_SCOPES, state_hash
from gtoken.vault.database import Database, open_database
from gtoken.vault.keys import vault_keyring
from gtoken.vault.migrations import SCHEMA_VERSION as VAULT_SCHEMA
from gtoken.vault.migrations import applied_version
from gtoken.vault.records import Connection, Status
from gtoken.vault.vault import Vault

if TYPE_CHECKING:
    from gtoken.transport import Transport

__all__ = ["CALLBACK_PATH", "Broker", "Forbidden", "NotFound", "Outcome", "Refused"]

log = logging.getLogger("gtoken.broker")
CALLBACK_PATH = "/connect/callback"


class Refused(ValueError):
    """A request the broker will not act on (400/422), with a stable ``kind``."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class Forbidden(Exception):
    """The API key may not do this (403)."""


class NotFound(LookupError):
    """No such connection (404)."""


@dataclass(frozen=True)
class Outcome:
    """Where a finished (or failed) consent sends the browser, or the page to show."""

    ok: bool
    message: str
    redirect: str | None = None


def open_storage(settings: Settings, env: Mapping[str, str]) -> tuple[Database, Keyring]:
    keyring = vault_keyring(None, env)
    db = open_database(
        settings.database_url, max_connections=settings.max_connections, timeout=30.0
    )
    return db, keyring


class Broker:
    """The broker over one database: a Vault plus the broker's own records."""

    def __init__(
        self,
        settings: Settings,
        *,
        env: Mapping[str, str],
        base_url: str,
        migrate_schema: bool = True,
        clock: Callable[[], float] = time.time,
        transport: Callable[[], Transport] | None = None,
    ) -> None:
        """``transport``: how the vault reaches Google (tests: one that retries at once)."""
        self.settings = settings
        self.base_url = base_url.rstrip("/")
        self.callback_url = self.base_url + CALLBACK_PATH
        self.clock = clock
        db, self.keyring = open_storage(settings, env)
        try:
            if migrate_schema:
                migrate_broker(db)
            elif broker_version(db) < BROKER_SCHEMA:
                raise ConfigError(
                    f"the broker's tables in {db.name} are not up to date",
                    hint="Run: gtoken serve migrate",
                )
            options: dict[str, Any] = {} if transport is None else {"transport": transport}
            self.vault = Vault(
                db,
                keys=self.keyring,
                env=env,
                migrate_schema=migrate_schema,
                clock=clock,
                **options,
            )
        except BaseException:
            db.close()
            raise
        self.db = db
        self._client_ids: list[str] = []
        self._clients_read = -1e18
        self.records = Records(db, clock=clock, key_cache_seconds=settings.key_cache)
        self.signer = Signer(self.keyring)
        self.webhooks = Webhooks(db, self.keyring, clock=clock)
        self.vault.on(self.webhooks.on_event)
        if settings.client_secrets:
            self.register_client(settings.client_secrets, settings.return_origins)

    def close(self) -> None:
        self.records.close()
        self.vault.close()

    # -- clients --------------------------------------------------------------------------------

    def register_client(self, client_secrets: Any, return_origins: Iterable[str]) -> ClientSecrets:
        """Keep a Web application client and the origins its connect links may return to."""
        from gtoken.files.clients import read_client_secrets

        client = read_client_secrets(client_secrets)
        if self.callback_url not in client.redirect_uris:
            raise ConfigError(
                f"the client {client.client_id} does not list the broker's callback "
                f"{self.callback_url} among its redirect URIs, so Google would refuse every "
                "consent",
                hint="Add it to the client's Authorized redirect URIs in Google Cloud console "
                "(and set public_url if browsers reach the broker at another address).",
            )
        origins = [origin_of(o) for o in return_origins]
        self.vault.add_client(client)
        self.records.set_origins(client.client_id, origins)
        self._known_clients(refresh=True)
        return client

    def _known_clients(self, *, refresh: bool) -> list[str]:
        # Asked on every request: read from the database at most every few seconds (another
        # replica may register a client meanwhile).
        now = self.clock()
        if refresh or now - self._clients_read > 10:
            self._client_ids = self.vault.client_ids()
            self._clients_read = now
        return self._client_ids

    def clients(self) -> list[tuple[str, frozenset[str]]]:
        return [(c, self.records.origins(c)) for c in self.vault.client_ids()]

    def client_for(self, key: ApiKey, asked: str | None) -> str:
        """The client a request is about: the key's own, else the one asked for, else the only
        one."""
        if key.client_id is not None:
            if asked not in (None, key.client_id):
                raise Forbidden(f"the API key {key.id} is limited to the client {key.client_id}")
            return key.client_id
        known = self._known_clients(refresh=False)
        if asked is not None:
            if asked not in known and asked not in self._known_clients(refresh=True):
                raise Refused("unknown-client", f"the broker keeps no client {asked!r}")
            return asked
        if len(known) == 1:
            return known[0]
        raise Refused(
            "client-required",
            f"the broker keeps {len(known) or 'no'} clients: say which with client_id"
            if known
            else "the broker keeps no Google client yet: register one (POST /v1/clients, or "
            "the client_secrets setting)",
        )

    # -- keys -----------------------------------------------------------------------------------

    def authorize(self, secret: str, permission: Permission) -> ApiKey:
        """The API key ``secret``, if it may do ``permission``: KeyRefused (401) or Forbidden
        (403) otherwise."""
        key = self.records.check_key(secret)
        if not key.allows(permission):
            raise Forbidden(
                f"the API key {key.id} ({key.name}) has {', '.join(sorted(key.permissions))}; "
                f"this needs {permission}"
            )
        return key

    # -- connect links and consent --------------------------------------------------------------

    def connect_link(
        self,
        key: ApiKey,
        user_id: str,
        scopes: Iterable[str],
        return_url: str | None,
        client_id: str | None = None,
    ) -> tuple[str, int]:
        client = self.client_for(key, client_id)
        wanted = self._scopes(scopes)
        if not wanted:
            raise Refused("bad-scopes", "ask for at least one scope")
        if return_url is not None:
            self._check_return(client, return_url)
        expires = int(self.clock() + self.settings.link_ttl)
        token = self.signer.sign(Link(user_id, tuple(sorted(wanted)), client, return_url, expires))
        return f"{self.base_url}/connect/{token}", expires

    def _scopes(self, scopes: Iterable[str]) -> frozenset[str]:
        try:
            return _scopes.canonical(scopes)
        except ValueError as exc:
            raise Refused("bad-scopes", str(exc)) from None

    def _check_return(self, client_id: str, return_url: str) -> None:
        try:
            origin = origin_of(return_url)
        except ValueError as exc:
            raise Refused("bad-return-url", str(exc)) from None
        allowed = self.records.origins(client_id)
        if origin not in allowed:
            raise Refused(
                "return-url-not-allowed",
                f"the return URL's origin {origin} is not one the client {client_id} may return "
                f"to ({', '.join(sorted(allowed)) or 'none configured'}); add it to the client's "
                "return_origins",
            )

    def start_consent(self, token: str) -> str:
        """The Google consent URL for the connect link ``token`` (BadLink, ExpiredLink)."""
        link = self.signer.check(token, now=self.clock())
        if link.return_url is not None:
            self._check_return(link.client_id, link.return_url)
        url = self.vault.authorization_url(
            link.user_id, link.scopes, client=link.client_id, redirect_uri=self.callback_url
        )
        state = parse_qs(urlsplit(url).query)["state"][0]
        self.records.add_consent(state_hash(state), link.return_url, link.expires_at + 900)
        return url

    def finish_consent(self, callback_url: str) -> Outcome:
        query = parse_qs(urlsplit(callback_url).query)
        state = (query.get("state") or [""])[0]
        known, return_url = self.records.take_consent(state_hash(state)) if state else (False, None)
        try:
            conn = self.vault.complete(callback_url)
        except StateError as exc:
            return Outcome(False, exc.message)
        except AccessDenied:
            return self._back(return_url, False, "You declined access.", error="access_denied")
        except GTokenError as exc:
            log.warning("a consent failed: %s", exc)
            return self._back(return_url, False, exc.message, error="failed")
        if not known:  # pragma: no cover - the vault took a state the broker never recorded
            return Outcome(True, "Connected.")
        return self._back(return_url, True, "Connected.", user_id=conn.user_id)

    def _back(self, return_url: str | None, ok: bool, message: str, **params: str) -> Outcome:
        if return_url is None:
            return Outcome(ok, message)
        parts = urlsplit(return_url)
        status = {"status": "connected" if ok else "error"}
        query = "&".join(q for q in (parts.query, urlencode({**status, **params})) if q)
        return Outcome(ok, message, urlunsplit(parts._replace(query=query)))

    # -- tokens ---------------------------------------------------------------------------------

    def token(
        self,
        key: ApiKey,
        user_id: str,
        *,
        scopes: Iterable[str] | None,
        min_ttl: float,
        caller: str | None,
        client_id: str | None = None,
        return_url: str | None = None,
    ) -> Token:
        """A fresh access token, written to the audit log. ConsentRequired carries ``url``: a
        connect link (not Google's URL) that returns to ``return_url``."""
        client = self.client_for(key, client_id)
        wanted = None if scopes is None else self._scopes(scopes)
        if return_url is not None:
            self._check_return(client, return_url)
        try:
            token = self.vault.token(user_id, scopes=wanted or None, min_ttl=min_ttl, client=client)
        except ConsentRequired as exc:
            exc.url = self._reconnect(user_id, client, wanted, return_url)
            raise
        self.records.audit(key.id, user_id, client, token.scopes, caller)
        return token

    def _reconnect(
        self, user_id: str, client: str, wanted: frozenset[str] | None, return_url: str | None
    ) -> str | None:
        conn = self.vault.connection(user_id, client=client)
        scopes = set(wanted or ()) | set(conn.scopes if conn is not None else ())
        scopes -= IDENTITY_SCOPES
        if not scopes:
            return None
        expires = int(self.clock() + self.settings.link_ttl)
        token = self.signer.sign(Link(user_id, tuple(sorted(scopes)), client, return_url, expires))
        return f"{self.base_url}/connect/{token}"

    # -- connections ----------------------------------------------------------------------------

    def connection(self, key: ApiKey, user_id: str, client_id: str | None = None) -> Connection:
        conn = self.vault.connection(user_id, client=self.client_for(key, client_id))
        if conn is None:
            raise NotFound(f"no connection for user {user_id!r}")
        return conn

    def connections(
        self,
        key: ApiKey,
        *,
        status: Status | None,
        after: tuple[str, str] | None,
        limit: int,
        client_id: str | None = None,
    ) -> list[Connection]:
        client = key.client_id or client_id
        if client_id is not None:
            client = self.client_for(key, client_id)
        cursor = None
        if after is not None:
            cursor = Connection(
                user_id=after[0],
                client_id=after[1],
                email=None,
                scopes=frozenset(),
                status="active",
            )
        return self.vault.connections(client=client, status=status, after=cursor, limit=limit)

    def delete(self, key: ApiKey, user_id: str, client_id: str | None = None) -> None:
        """Revoke the user's grant at Google and forget the connection."""
        if not self.vault.revoke(user_id, client=self.client_for(key, client_id)):
            raise NotFound(f"no connection for user {user_id!r}")

    # -- health ---------------------------------------------------------------------------------

    def ready(self) -> None:
        """Raises unless the database answers, the schema is current and the keys open what is
        stored (the clients' sealed secrets)."""
        if applied_version(self.db) < VAULT_SCHEMA or broker_version(self.db) < BROKER_SCHEMA:
            raise ConfigError("the database schema is not up to date", hint="gtoken serve migrate")
        self.vault.client_ids()

    def gauges(self) -> tuple[dict[str, int], int]:
        """Connections by status, and the webhook backlog (read at each metrics scrape)."""
        return self.vault.status_counts(), self.webhooks.backlog()
