"""``gtoken.Vault``: every user's Google consent for a web application.

    vault = gtoken.Vault("postgresql://...", client_secrets="client_secret.json",
                         redirect_uri="https://app.example.com/oauth2callback")
    url = vault.authorization_url("user-42", scopes=["gmail.readonly"])   # send the user there
    conn = vault.complete(request.url)                                   # in the callback
    creds = vault.credentials("user-42", scopes=["gmail.readonly"])      # later, any process

The parts: :mod:`~gtoken.vault.storage` (rows, sealing), :mod:`~gtoken.vault.consent` (state,
PKCE, the callback), :mod:`~gtoken.vault.grants` (the refresh engine's view of a connection, and
the lock across processes), :mod:`~gtoken.vault.due` (keeping grants alive).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Literal

from gtoken import endpoints
from gtoken.errors import ConfigError, ConsentRequired, TransientError
from gtoken.oauth import scopes as _scopes
from gtoken.oauth.clients import ClientSecrets
from gtoken.oauth.grants import revoke as revoke_request
from gtoken.oauth.responses import parse_revoke_response
from gtoken.oauth.token import Token
from gtoken.refresh import DEFAULT_MIN_TTL, Engine, Grant
from gtoken.vault import consent, due, rekey
from gtoken.vault.clients import ClientSecretsArg, load_clients, redirect_uri_for
from gtoken.vault.database import Database, open_database
from gtoken.vault.events import EVENTS, Event, EventKind, Hooks
from gtoken.vault.grants import VaultGrants, grant_of, lock_for, merge_consent
from gtoken.vault.idtokens import IdTokenVerifier
from gtoken.vault.keys import Keys, vault_keyring
from gtoken.vault.migrations import SCHEMA_VERSION, applied_version, migrate
from gtoken.vault.records import Connection, Status, StoredConnection
from gtoken.vault.storage import Storage

if TYPE_CHECKING:
    from gtoken.adapters.google_auth import Credentials
    from gtoken.transport import Transport

__all__ = ["ENV_DATABASE_URL", "Vault"]

ENV_DATABASE_URL = "GTOKEN_DATABASE_URL"
_NO_REFRESH_TOKEN = (
    "Google sent no refresh token (it sends one only at the first consent, or when asked with "
    "prompt=consent) and none was stored, so access would end within the hour"
)


def _new_transport() -> Transport:
    from gtoken.transport import Transport

    return Transport()


class Vault:
    """Every user's Google consent for a web application, in SQLite or PostgreSQL.

    Safe to share between threads; any number of processes and machines may use one database.
    """

    def __init__(
        self,
        database_url: str | Database | None = None,
        *,
        client_secrets: ClientSecretsArg | Sequence[ClientSecretsArg] | None = None,
        redirect_uri: str | None = None,
        keys: Keys | None = None,
        env: Mapping[str, str] = os.environ,
        migrate_schema: bool = True,
        transport: Callable[[], Transport] = _new_transport,
        clock: Callable[[], float] = time.time,
        max_connections: int = 10,
        lock_timeout: float = 30.0,
    ) -> None:
        """Open the vault at ``database_url`` (default ``GTOKEN_DATABASE_URL``):
        ``sqlite:///path`` or ``postgresql://...``.

        ``client_secrets``: one ``web`` client_secret.json (a path, its parsed JSON, or a
        :class:`~gtoken.ClientSecrets`) or several; the first is the default ``client=`` of
        every method, and the others are picked by client id. Clients are kept (secrets sealed)
        in the database, so a worker may open the vault without them. ``redirect_uri``: the
        application's callback, one of the first client's registered redirect URIs (default: its
        only one). ``keys``: see :mod:`gtoken.vault.keys` (default ``GTOKEN_VAULT_KEYS``); none
        at all is an error. ``migrate_schema``: bring the schema up to date (safe when several
        processes start at once); when false, an out-of-date schema is an error.

        ``database_url`` may also be a database already open (:func:`open_database`), for a
        part that keeps tables of its own beside the vault's in it (the broker); the vault
        closes it when it closes."""
        self._keyring = vault_keyring(keys, env)
        if isinstance(database_url, Database):
            self._db = database_url
        else:
            url = database_url if database_url is not None else env.get(ENV_DATABASE_URL, "")
            self._db = open_database(url, max_connections=max_connections, timeout=lock_timeout)
        try:
            self._open(migrate_schema)
            self._endpoints = endpoints.current(env)
            self._storage = Storage(self._db, self._keyring, clock=clock)
            self._clock = clock
            self._hooks = Hooks()
            self._transport_factory = transport
            self._transport: Transport | None = None
            self._transport_lock = threading.Lock()
            given = load_clients(client_secrets)
            for client in given:
                self._storage.put_client(client)
            self._clients = self._storage.clients()
            self._clients_lock = threading.Lock()
            self._default = given[0].client_id if given else None
            self._redirect_uri = redirect_uri_for(given[0], redirect_uri) if given else redirect_uri
            self._ids = IdTokenVerifier(self._endpoints.certs, self.transport, clock=clock)
            self._grants = VaultGrants(self._storage, self._client, self._hooks)
            self._engine = Engine(
                self._grants,
                lock=lock_for(self._db, timeout=lock_timeout),
                transport=self.transport,
                clock=clock,
            )
        except BaseException:
            self._db.close()
            raise

    def _open(self, migrate_schema: bool) -> None:
        if migrate_schema:
            migrate(self._db)
            return
        version = applied_version(self._db)
        if version < SCHEMA_VERSION:
            raise ConfigError(
                f"the vault database {self._db.name} has schema version {version}; this gtoken "
                f"needs {SCHEMA_VERSION}",
                hint="Run: gtoken vault migrate --database-url URL",
            )

    # -- plumbing -------------------------------------------------------------------------------

    def transport(self) -> Transport:
        with self._transport_lock:
            if self._transport is None:
                self._transport = self._transport_factory()
            return self._transport

    def close(self) -> None:
        """Close the database connections and the HTTP client."""
        if self._transport is not None:
            self._transport.close()
        self._db.close()

    def __enter__(self) -> Vault:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"gtoken.Vault({self._db!r}, clients={sorted(self._clients)})"

    @property
    def sealing_key_id(self) -> str:
        """The id of the key new values are sealed with (the newest)."""
        return self._keyring.current

    @property
    def database(self) -> str:
        """Which database this is, for people (no password)."""
        return self._db.name

    def _client(self, client_id: str) -> ClientSecrets | None:
        client = self._clients.get(client_id)
        if client is None:
            with self._clients_lock:
                self._clients = self._storage.clients()
                client = self._clients.get(client_id)
        return None if client is None else self._endpoints.client(client)

    def _client_id(self, client: str | None) -> str:
        if client is not None:
            if self._client(client) is None:
                raise ValueError(f"the vault knows no client {client!r}")
            return client
        if self._default is not None:
            return self._default
        if len(self._clients) == 1:
            return next(iter(self._clients))
        raise ConfigError(
            "this vault was given no client_secrets and holds "
            f"{len(self._clients) or 'no'} clients; say which one with client=",
            hint="Pass client_secrets= when opening the vault.",
        )

    def add_client(self, client_secrets: ClientSecretsArg) -> ClientSecrets:
        """Keep another Web application client (its secret sealed) for ``client=`` to name, in
        this vault and in every process that opens its database; a client already kept is
        brought up to date. Returns it."""
        (client,) = load_clients([client_secrets])
        self._storage.put_client(client)
        with self._clients_lock:
            self._clients = self._storage.clients()
        return client

    def client_ids(self) -> list[str]:
        """The ids of the clients this vault keeps."""
        with self._clients_lock:
            self._clients = self._storage.clients()
            return sorted(self._clients)

    def on(
        self, callback: Callable[[Event], object], *events: EventKind
    ) -> Callable[[Event], object]:
        """Call ``callback(event)`` after each status change in this process (``events``:
        which kinds; default all of connected, needs_consent, revoked, refresh_failed,
        recovered). Returns ``callback``."""
        self._hooks.add(callback, frozenset(events or EVENTS))
        return callback

    # -- consent --------------------------------------------------------------------------------

    def authorization_url(
        self,
        user_id: str,
        scopes: Iterable[str],
        login_hint: str | None = None,
        *,
        prompt: Literal["consent", "select_account"] | None = None,
        client: str | None = None,
        redirect_uri: str | None = None,
    ) -> str:
        """The consent page's URL for the application's user ``user_id``. The state and the
        PKCE verifier are kept in the database for 10 minutes; scopes already granted are kept
        (incremental consent)."""
        _check_user_id(user_id)
        if isinstance(scopes, str):
            raise TypeError("scopes is a collection of scope names, not a str")
        wanted = _wanted(scopes)
        if not wanted:
            raise ValueError("ask for at least one scope")
        client_id = self._client_id(client)
        secrets = self._client(client_id)
        assert secrets is not None
        if redirect_uri is None:
            redirect_uri = (
                self._redirect_uri if client_id == self._default else None
            ) or redirect_uri_for(secrets, None)
        else:
            redirect_uri = redirect_uri_for(secrets, redirect_uri)
        return consent.start(
            self._storage,
            secrets,
            redirect_uri=redirect_uri,
            user_id=user_id,
            scopes=wanted,
            login_hint=login_hint,
            prompt=(prompt,) if prompt else (),
        )

    def complete(self, callback_url: str, *, user_id: str | None = None) -> Connection:
        """Finish a consent from the URL (or query string) the user came back with, and store
        the connection. ``user_id``, when given, must be the user the consent was started for.

        Raises StateError (a missing, unknown, used, expired or another user's state),
        AccessDenied (the user said no), and the token endpoint's errors; nothing is stored
        then. When Google sent no refresh token and none is stored, the connection comes back
        ``needs_consent`` with ``consent_url`` to send the user to."""
        with self._clients_lock:
            self._clients = self._storage.clients()
        finished = consent.finish(
            self._storage,
            callback_url,
            clients={cid: c for cid in self._clients if (c := self._client(cid)) is not None},
            transport=self.transport(),
            verifier=self._ids,
            user_id=user_id,
        )
        pending = finished.pending
        stored, before = self._storage.save_consent(
            client_id=pending.client_id,
            user_id=pending.user_id,
            sub=finished.sub,
            email=finished.email,
            answer=finished.token,
            merge=merge_consent,
            no_refresh_token=_NO_REFRESH_TOKEN,
        )
        self._announce(stored, before)
        url = None
        if stored.status == "needs_consent":
            url = self._consent_url(stored, stored.scopes)
        return stored.public(consent_url=url)

    def _announce(self, stored: StoredConnection, before: StoredConnection | None) -> None:
        who = (stored.user_id, stored.client_id)
        if stored.status == "needs_consent":
            self._hooks.emit(Event("needs_consent", *who, stored.status_reason))
        elif before is None:
            self._hooks.emit(Event("connected", *who))
        elif before.status != "active":
            self._hooks.emit(Event("recovered", *who))

    def _consent_url(self, conn: StoredConnection, scopes: Iterable[str]) -> str:
        return self.authorization_url(
            conn.user_id,
            scopes=frozenset(scopes) - consent.IDENTITY_SCOPES or consent.IDENTITY_SCOPES,
            login_hint=conn.email,
            prompt="consent",
            client=conn.client_id,
        )

    # -- use ------------------------------------------------------------------------------------

    def token(
        self,
        user_id: str,
        *,
        scopes: Iterable[str] | None = None,
        min_ttl: float = DEFAULT_MIN_TTL,
        client: str | None = None,
        rejected: str | None = None,
    ) -> Token:
        """The user's token, valid ``min_ttl`` more seconds, refreshed if needed (once, however
        many threads and processes ask). Raises ConsentRequired (with ``.url``) when the user
        must give consent (again, or for ``scopes`` not granted), TransientError when Google or
        the network failed for now (nothing changed)."""
        _check_user_id(user_id)
        client_id = self._client_id(client)
        conn = self._storage.get(client_id, user_id, secrets_wanted=("access_token",))
        wanted = None if scopes is None else _wanted(scopes)
        if conn is None:
            url = None if wanted is None else self._new_consent_url(user_id, wanted, client_id)
            raise ConsentRequired(
                f"user {user_id!r}",
                "has not connected a Google account"
                + ("" if url else " (pass scopes= to get a consent URL)"),
                url=url,
                hint="Send the user to the consent URL.",
            )
        if wanted is not None and conn.scopes and not wanted <= conn.scopes:
            missing = wanted - conn.scopes
            words = sorted(s.removeprefix(_scopes.AUTH_PREFIX) for s in missing)
            raise ConsentRequired(
                f"user {user_id!r}",
                f"has not granted {', '.join(words)}",
                url=self._consent_url(conn, missing | conn.scopes),
                hint="Send the user to the consent URL to grant them (incremental consent).",
            )
        grant = self._fresh(conn, min_ttl=min_ttl, rejected=rejected)
        return grant.token()

    def access_token(
        self,
        user_id: str,
        min_ttl: float = 60,
        *,
        scopes: Iterable[str] | None = None,
        client: str | None = None,
    ) -> str:
        """The user's access token, valid at least ``min_ttl`` more seconds (see :meth:`token`)."""
        return self.token(user_id, scopes=scopes, min_ttl=min_ttl, client=client).access_token

    def credentials(
        self,
        user_id: str,
        scopes: Iterable[str] | None = None,
        *,
        client: str | None = None,
    ) -> Credentials:
        """google-auth Credentials for the user, refreshed through the vault: for
        ``googleapiclient``, ``AuthorizedSession``, gspread. Checks now that the user granted
        ``scopes`` (ConsentRequired otherwise)."""
        from gtoken.adapters.google_auth import Credentials
        from gtoken.vault.source import VaultSource

        wanted = frozenset() if scopes is None else _wanted(scopes)
        token = self.token(user_id, scopes=wanted or None, client=client)
        source = VaultSource(self, user_id, self._client_id(client), token)
        creds = Credentials(source, scopes=wanted)
        creds.refresh(None)  # hands over the token just read: valid at once, no second read
        return creds

    def _fresh(
        self, conn: StoredConnection, *, min_ttl: float, rejected: str | None = None
    ) -> Grant:
        key = (conn.client_id, conn.user_id)
        try:
            return self._engine.fresh(
                key,
                min_ttl=min_ttl,
                rejected=rejected,
                known=grant_of(conn, self._client(conn.client_id)),
            )
        except ConsentRequired as exc:
            current = self._storage.get(*key, secrets_wanted=()) or conn
            raise ConsentRequired(
                exc.account,
                exc.reason,
                likely_causes=exc.likely_causes,
                url=self._consent_url(current, current.scopes),
                hint="Send the user to the consent URL to connect again.",
            ) from exc
        except TransientError as exc:
            self._hooks.emit(Event("refresh_failed", conn.user_id, conn.client_id, str(exc)))
            raise

    # -- connections ----------------------------------------------------------------------------

    def connection(self, user_id: str, *, client: str | None = None) -> Connection | None:
        """The user's connection, or None."""
        conn = self._storage.get(self._client_id(client), user_id, secrets_wanted=())
        return None if conn is None else conn.public()

    def connections(
        self,
        *,
        client: str | None = None,
        status: Status | None = None,
        after: str | Connection | None = None,
        limit: int = 100,
    ) -> list[Connection]:
        """Up to ``limit`` connections by user id; for the next page pass the last one as
        ``after``."""
        if status is not None and status not in ("active", "needs_consent", "revoked"):
            raise ValueError(f"status is active, needs_consent or revoked, not {status!r}")
        if not 1 <= limit <= 10_000:
            raise ValueError("limit is 1 to 10000")
        cursor = None
        if isinstance(after, Connection):
            cursor = (after.user_id, after.client_id)
        elif after is not None:
            cursor = (after, "\U0010ffff")
        rows = self._storage.page(client_id=client, status=status, after=cursor, limit=limit)
        return [r.public() for r in rows]

    def forget(self, user_id: str, *, client: str | None = None) -> bool:
        """Delete the user's connection (nothing is sent to Google). True if there was one."""
        return self._storage.delete(self._client_id(client), user_id)

    def revoke(self, user_id: str, *, client: str | None = None) -> bool:
        """Revoke the user's grant at Google, then forget it. A grant Google already considers
        invalid is forgotten too; any other error from Google keeps the connection and is
        raised. True if there was a connection."""
        client_id = self._client_id(client)
        conn = self._storage.get(client_id, user_id)
        if conn is None:
            return False
        token = conn.refresh_token or conn.access_token
        if token:
            reply = self.transport().send(revoke_request(token, revoke_url=self._endpoints.revoke))
            # "Already invalid" (revoked, expired) is fine: there is nothing left to revoke.
            parse_revoke_response(reply.status, reply.headers, reply.body)
        self._storage.delete(client_id, user_id)
        self._hooks.emit(Event("revoked", user_id, client_id))
        return True

    def _new_consent_url(self, user_id: str, scopes: frozenset[str], client_id: str) -> str:
        return self.authorization_url(user_id, scopes=scopes, client=client_id)

    # -- keeping grants alive ------------------------------------------------------------------

    def refresh_due(
        self,
        within: float = 600,
        limit: int = 1000,
        *,
        idle_days: float = 30,
        concurrency: int = 4,
    ) -> due.DueReport:
        """Refresh connections whose access token expires within ``within`` seconds, and those
        whose refresh token has not been used for ``idle_days`` (Google drops refresh tokens
        unused for six months). At most ``limit`` connections, ``concurrency`` at a time. Safe
        to run in every replica at once: each connection is claimed by one runner."""
        return due.refresh_due(
            self._storage,
            self._fresh,
            within=within,
            limit=limit,
            idle_seconds=idle_days * 86400,
            concurrency=concurrency,
        )

    def import_refresh_tokens(
        self,
        rows: Iterable[tuple[str, str] | tuple[str, str, Iterable[str]]],
        *,
        client: str | None = None,
    ) -> tuple[int, int]:
        """Adopt refresh tokens from a hand-written table: ``(user_id, refresh_token)`` rows
        (optionally with the granted scopes), issued to this vault's client. Each is refreshed on
        first use. Users already in the vault are skipped. Returns (added, skipped)."""
        client_id = self._client_id(client)
        cleaned = []
        for n, row in enumerate(rows, 1):
            if len(row) not in (2, 3):
                raise ValueError(f"row {n}: expected (user_id, refresh_token[, scopes])")
            user_id, refresh_token = row[0], row[1]
            scopes = row[2] if len(row) == 3 else ()
            if not isinstance(user_id, str) or not user_id.strip():
                raise ValueError(f"row {n}: the user id is empty")
            if not isinstance(refresh_token, str) or not refresh_token.strip():
                raise ValueError(f"row {n} (user {user_id!r}): the refresh token is empty")
            cleaned.append((user_id, refresh_token.strip(), _wanted(scopes)))
        return self._storage.import_refresh_tokens(client_id, cleaned)

    def rekey(self) -> int:
        """Re-seal with the newest key every value sealed with an older one, while the
        application keeps serving; afterwards the older keys can be dropped. Returns the number
        of rows re-sealed."""
        return rekey.rekey(self._storage)

    def status_counts(self) -> dict[str, int]:
        """How many connections are in each status (for metrics)."""
        with self._db.read() as sql:
            rows = sql.all("SELECT status, count(*) FROM gtoken_vault_connections GROUP BY status")
        return {str(status): int(count) for status, count in rows}

    def key_ids_in_use(self) -> set[str]:
        """The ids of the keys stored values are sealed with."""
        return rekey.key_ids_in_use(self._storage)


def _wanted(scopes: Iterable[str]) -> frozenset[str]:
    if isinstance(scopes, str):
        raise TypeError("scopes is a collection of scope names, not a str")
    return _scopes.canonical(scopes)


def _check_user_id(user_id: object) -> None:
    if not isinstance(user_id, str) or not user_id or len(user_id) > 512:
        raise ValueError("user_id is the application's id for the user: 1 to 512 characters")
