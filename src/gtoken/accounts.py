"""Local accounts: the Google accounts a person has signed in with, per OAuth client.

An account is keyed by its client id and the Google account's ``sub`` (from the ID token), so one
person may keep several Google accounts per client and several clients per Google account. One
account is the default; ``gtoken login`` makes the account it signs in the default.

Granted scopes are what Google says was granted, never what was asked (DESIGN invariant 7): asking
for a token with a scope the account lacks raises :class:`~gtoken.errors.ScopeNotGranted` naming
the missing scopes (the library API answers it with incremental consent when it may).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal, cast

from gtoken.endpoints import Endpoints, Issuers
from gtoken.endpoints import current as current_endpoints
from gtoken.errors import (
    ConfigError,
    ConsentRequired,
    GTokenError,
    NoAccount,
    ProtocolError,
    ScopeNotGranted,
    WrongAccount,
)
from gtoken.oauth import scopes as _scopes
from gtoken.oauth.clients import ClientSecrets
from gtoken.oauth.endpoints import ISSUERS as GOOGLE_ISSUERS
from gtoken.oauth.issuers import Issuer, check_id_token, parse_userinfo
from gtoken.oauth.token import Token, id_token_claims
from gtoken.refresh import (
    DEFAULT_MIN_TTL,
    FLIGHTS,
    Engine,
    FileLocks,
    Grant,
    GrantStatus,
    keep_refresh_token,
    usable,
)
from gtoken.store import (
    AccountHead,
    AccountRecord,
    DamagedAccount,
    NotFound,
    ReadOnlyStore,
    SqliteStore,
    gtoken_home,
    open_store,
)
from gtoken.store.format import (
    default_account,
    from_unix_seconds,
    named_accounts,
    unix_seconds,
)

if TYPE_CHECKING:
    from gtoken.flows.console import Console
    from gtoken.transport import Transport

#: What every login asks for besides the caller's scopes: who signed in.
IDENTITY_SCOPES = frozenset({"openid", _scopes.expand("email")})

LoginMode = Literal["auto", "browser", "paste", "device"]


@dataclass(frozen=True)
class Account:
    """A stored account as people see it: no secrets."""

    id: str
    email: str | None
    client_id: str
    scopes: frozenset[str]
    status: str
    status_reason: str | None
    is_default: bool
    expires_at: datetime | None

    @classmethod
    def of(cls, record: AccountRecord | DamagedAccount) -> Account:
        if isinstance(record, DamagedAccount):
            return cls(
                id=record.id,
                email=record.email,
                client_id=record.client_id or "",
                scopes=frozenset(),
                status="damaged",
                status_reason=record.problem,
                is_default=record.is_default,
                expires_at=None,
            )
        return cls(
            id=record.id,
            email=record.email,
            client_id=record.client_id,
            scopes=frozenset(record.scopes),
            status=record.status,
            status_reason=record.status_reason,
            is_default=record.is_default,
            expires_at=None
            if record.expires_at is None
            else datetime.fromtimestamp(record.expires_at, UTC),
        )

    @property
    def label(self) -> str:
        return self.email or self.id


def account_id(client_id: str, sub: str) -> str:
    """The stable id of Google account ``sub`` signed in through ``client_id``."""
    return hashlib.sha256(f"{client_id}\0{sub}".encode()).hexdigest()[:20]


def label(record: AccountRecord) -> str:
    """How people see an account in messages: its email, else its id."""
    return record.email or record.id


class AccountGrants:
    """The accounts of one SQLite store as the refresh engine's
    :class:`~gtoken.refresh.GrantStore`: keyed by account id, refreshed through the client each
    account was signed in with (at the emulator's token endpoint when there is one)."""

    def __init__(self, store: SqliteStore, endpoints: Endpoints) -> None:
        self.store = store
        self.endpoints = endpoints

    @property
    def name(self) -> str:
        return str(self.store.path)

    def read(self, key: object) -> Grant | None:
        record = self.store.get(str(key))
        return None if record is None else self.grant(record)

    def grant(self, record: AccountRecord) -> Grant:
        """``record`` as the engine sees it (the record itself is the grant's ``row``)."""
        token_uri = self.endpoints.token if self.endpoints.emulator else record.token_uri
        return Grant(
            key=record.id,
            label=label(record),
            access_token=record.access_token,
            expires_at=from_unix_seconds(record.expires_at),
            scopes=frozenset(record.scopes),
            refresh_token=record.refresh_token,
            refresh_token_expires_at=from_unix_seconds(record.refresh_token_expires_at),
            id_token=record.id_token,
            client=ClientSecrets(
                kind="installed",
                client_id=record.client_id,
                client_secret=record.client_secret or "",
                token_uri=token_uri,
            ),
            status=record.status,
            status_reason=record.status_reason,
            row=record,
        )

    def swap(self, read: Grant, token: Token) -> Grant | None:
        with self.store.transaction():
            current = self.store.get(str(read.key))
            if current is None or current.refresh_token != read.refresh_token:
                return None
            stored = self.store.update_tokens(
                current.id,
                access_token=token.access_token,
                expires_at=unix_seconds(token.expires_at),
                refresh_token=token.refresh_token,
                refresh_token_expires_at=unix_seconds(token.refresh_token_expires_at),
                id_token=token.id_token,
                scopes=sorted(token.scopes),
            )
        return self.grant(stored)

    def mark(self, read: Grant, status: GrantStatus, reason: str) -> None:
        # An account forgotten meanwhile (gtoken logout) has nothing left to mark.
        with contextlib.suppress(NotFound):
            self.store.set_status(str(read.key), status, reason)


class AccountRefresher:
    """The refresh engine over one home's accounts, in the store's terms: hands out
    :class:`~gtoken.store.AccountRecord` values."""

    def __init__(
        self,
        store: SqliteStore,
        *,
        locks: FileLocks,
        endpoints: Endpoints,
        transport: Callable[[], Transport],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.locks = locks
        self.grants = AccountGrants(store, endpoints)
        self.engine = Engine(self.grants, lock=locks, transport=transport, clock=clock)

    def fresh(
        self,
        account_id: str,
        *,
        min_ttl: float = DEFAULT_MIN_TTL,
        rejected: str | None = None,
        known: AccountRecord | None = None,
    ) -> AccountRecord:
        """The account with an access token valid ``min_ttl`` more seconds (and other than
        ``rejected``, one an API refused), refreshed if needed: see :meth:`Engine.fresh`.
        Raises ReadOnlyStore, before Google is asked, when a refresh is needed and the store
        cannot save it."""
        if self.store.read_only:
            self._refuse_unsavable(account_id, min_ttl, rejected, known)
        grant = self.engine.fresh(
            account_id,
            min_ttl=min_ttl,
            rejected=rejected,
            known=None if known is None else self.grants.grant(known),
        )
        return cast("AccountRecord", grant.row)

    def _refuse_unsavable(
        self, account_id: str, min_ttl: float, rejected: str | None, known: AccountRecord | None
    ) -> None:
        record = known if known is not None and known.id == account_id else None
        record = record or self.store.get(account_id)
        if record is None or record.status != "active" or not record.refresh_token:
            return  # the engine says what is wrong with it
        if not self.usable(record, min_ttl, rejected):
            raise ReadOnlyStore(
                f"the access token of {label(record)} needs a refresh, but the refreshed token "
                f"cannot be saved: the store {self.store.path} is read-only here "
                f"({self.store.path.parent} cannot be written)"
            )

    def usable(self, record: AccountRecord, min_ttl: float, rejected: str | None = None) -> bool:
        """Whether ``record`` may be handed out without refreshing it."""
        return usable(self.grants.grant(record), min_ttl, self.engine.clock(), rejected)

    def token(self, record: AccountRecord) -> Token:
        """The stored tokens of ``record`` (one with an access token) as a :class:`Token`."""
        return self.grants.grant(record).token()

    def transport(self) -> Transport:
        return self.engine.transport()

    def close(self) -> None:
        self.engine.close()


def _new_transport() -> Transport:
    from gtoken.transport import Transport

    return Transport()


class Accounts:
    """The accounts in one gtoken home: sign in, list, hand out fresh tokens, revoke, forget."""

    def __init__(
        self,
        *,
        env: Mapping[str, str] = os.environ,
        home: Path | None = None,
        store: SqliteStore | None = None,
        transport: Callable[[], Transport] = _new_transport,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.env = env
        self.home = home or gtoken_home(env)
        self.store = store or open_store(env, home=self.home)
        self.endpoints = current_endpoints(env)
        self.clock = clock
        self.refresher = AccountRefresher(
            self.store,
            locks=FileLocks(self.home / "locks"),
            endpoints=self.endpoints,
            transport=transport,
            clock=clock,
        )
        self.issuers = Issuers(self.endpoints, self.refresher.transport)

    def close(self) -> None:
        self.refresher.close()
        self.store.close()

    def __enter__(self) -> Accounts:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading ------------------------------------------------------------------------------

    def list(self) -> list[Account]:
        """Every stored account; a damaged one has the status ``damaged``, and its
        ``status_reason`` says what is wrong and how to recover."""
        return [Account.of(r) for r in self.store.survey()]

    def find(self, account: str | None = None, *, client_id: str | None = None) -> AccountRecord:
        """The account named by email or id, or the default one. Raises ConsentRequired when
        there is none yet, ConfigError when the name fits none or several, and CorruptRecord
        when the chosen account is damaged. Opens that account only."""
        record = self.store.get(self.choose(account, client_id=client_id).id)
        if record is None:  # forgotten a moment ago, by another process
            raise ConsentRequired(account or "the default account", "it is no longer stored")
        return record

    def choose(self, account: str | None = None, *, client_id: str | None = None) -> AccountHead:
        """Which account :meth:`find` means, chosen by the columns that are not secret."""
        if account is None:
            # Among the few defaults (or, with none, the first two accounts): the rule of
            # gtoken.store.format, which gtoken token's fast path follows too.
            candidates = self.store.heads(client_id=client_id, default=True) or self.store.heads(
                client_id=client_id, limit=2
            )
            chosen = default_account(
                candidates, is_default=lambda h: h.is_default, updated_at=lambda h: h.updated_at
            )
            if chosen is not None:
                return chosen
            if not candidates:
                raise self._no_account(client_id)
            raise ConfigError(
                f"{len(self.store.heads(client_id=client_id))} accounts are signed in and none "
                "is the default",
                hint="Pick one with --account (gtoken accounts lists them).",
            )
        # The store finds the few rows the name may fit through its indexes; the rule decides.
        fitting = self.store.heads(client_id=client_id, name=account.strip().lower())
        matches = named_accounts(fitting, account, id=lambda h: h.id, email=lambda h: h.email)
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise ConfigError(
                f"{account!r} is signed in through several clients",
                hint="Name the account by its id (gtoken accounts shows them).",
            )
        every = self.store.heads(client_id=client_id)
        if not every:
            raise self._no_account(client_id)
        known = ", ".join(sorted(head.label for head in every))
        raise ConfigError(
            f"no account {account!r} in the store (there are: {known})",
            hint="Pick one of those, or sign it in with gtoken login --account.",
        )

    def _no_account(self, client_id: str | None) -> NoAccount:
        return NoAccount(f"through client {client_id}" if client_id else f"in {self.home}")

    def token(
        self,
        account: str | None = None,
        *,
        client_id: str | None = None,
        scopes: Iterable[str] | None = None,
        min_ttl: float = DEFAULT_MIN_TTL,
    ) -> Token:
        """A fresh access token of the account (valid ``min_ttl`` more seconds at least).

        Raises ScopeNotGranted when ``scopes`` asks for more than was granted, and
        ConsentRequired when the account needs consent again.

        Threads asking the same question at the same moment share one answer: at the moment a
        token expires, the ones that arrive while a refresh is under way join it instead of
        each reading the store first."""
        wanted = None if scopes is None else tuple(sorted(set(scopes)))
        question = f"{self.store.path}:token:{account}:{client_id}:{wanted}:{min_ttl}"
        return FLIGHTS.run(question, lambda: self._token(account, client_id, wanted, min_ttl))

    def _token(
        self,
        account: str | None,
        client_id: str | None,
        scopes: Iterable[str] | None,
        min_ttl: float,
    ) -> Token:
        record = self.find(account, client_id=client_id)
        if scopes is not None:
            self.check_scopes(record, scopes)
        return self.refresher.token(self.refresher.fresh(record.id, min_ttl=min_ttl, known=record))

    @staticmethod
    def check_scopes(record: AccountRecord, wanted: Iterable[str]) -> None:
        wanted = _scopes.canonical(_scopes.expand(s) for s in wanted)
        missing = _scopes.missing(frozenset(record.scopes), wanted)
        if missing:
            raise ScopeNotGranted(missing, account=label(record), granted=record.scopes)

    # -- signing in ---------------------------------------------------------------------------

    def login(
        self,
        client: ClientSecrets,
        scopes: Iterable[str],
        *,
        console: Console,
        mode: LoginMode = "auto",
        account: str | None = None,
        timeout: float = 300,
    ) -> Account:
        """Run consent for ``scopes`` (plus openid and email) and store the account.

        Earlier grants are kept (``include_granted_scopes``), so signing in again for one more
        scope adds it. When the server returns no refresh token and none is stored, consent is
        asked once more with ``prompt=consent``, which makes Google issue one; if there is still
        none, ``console`` is told that the account cannot be refreshed, and why.

        ``account`` (an e-mail address) is who should sign in; it is the consent page's
        ``login_hint``, and a login that ends signed in as someone else raises WrongAccount:
        nothing is stored and the grant just made is revoked."""
        from gtoken.flows import run_login

        client = self.endpoints.client(client)
        issuer = self.issuers.of(client.token_uri)
        wanted = _scopes.canonical(_scopes.expand(s) for s in scopes) | IDENTITY_SCOPES
        if mode == "device":
            device_url = issuer.endpoint("device", to="sign in with the device flow")
        else:
            device_url = issuer.device or ""

        def consent(prompt: tuple[str, ...]) -> AccountRecord:
            token = run_login(
                client,
                wanted,
                transport=self.refresher.transport(),
                mode=mode,
                console=console,
                env=self.env,
                device_url=device_url,
                login_hint=account,
                include_granted_scopes=True,
                prompt=prompt,
                timeout=timeout,
            )
            sub, email = self._identity(client, issuer, token)
            if account is not None and "@" in account:
                self._check_account(account, email, issuer, token, client)
            return self.adopt(client, token, sub=sub, email=email)

        record = consent(())
        if record.refresh_token is None:
            record = consent(("consent",))
        if record.refresh_token is None:
            _cannot_refresh(console, issuer, record)
        return Account.of(record)

    def add(self, client: ClientSecrets, token: Token) -> AccountRecord:
        """Store the account a login returned, as the default; keeps a stored refresh token when
        the login brought none (DESIGN invariant 3). The ID token must be the client's issuer's,
        for this client, and not expired."""
        issuer = self.issuers.of(client.token_uri)
        sub, email = self._identity(client, issuer, token)
        return self.adopt(client, token, sub=sub, email=email)

    def _identity(
        self, client: ClientSecrets, issuer: Issuer, token: Token
    ) -> tuple[str, str | None]:
        """Who signed in: the ID token's ``sub``, and the e-mail address from the ID token or,
        when it has none, from the issuer's userinfo endpoint."""
        if not token.id_token:
            raise ProtocolError(
                f"The answer of the OAuth server at {issuer.host} to the login has no ID token, "
                "so the account cannot be told apart from others; the login asks for openid, so "
                "the server does not follow OpenID Connect."
            )
        claims = id_token_claims(token.id_token)
        now = datetime.fromtimestamp(self.clock(), UTC)
        check_id_token(claims, issuer=issuer, client_id=client.client_id, now=now)
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub:
            raise ProtocolError("the ID token of the login names no account (no 'sub').")
        email = claims.get("email")
        if isinstance(email, str) and email:
            return sub, email
        if issuer.userinfo is None:
            return sub, None
        response = self.refresher.transport().request(
            "GET",
            issuer.userinfo,
            headers={"Authorization": f"Bearer {token.access_token}", "Accept": "application/json"},
        )
        return sub, parse_userinfo(response.status, response.body, sub=sub)

    def _check_account(
        self, asked: str, email: str | None, issuer: Issuer, token: Token, client: ClientSecrets
    ) -> None:
        """Raise WrongAccount, after revoking the new grant, when ``email`` is not ``asked``."""
        if email is not None and email.strip().lower() == asked.strip().lower():
            return
        from gtoken.oauth import grants
        from gtoken.oauth.responses import parse_revoke_response

        revoked = False
        if issuer.revoke is not None:
            secret = token.refresh_token or token.access_token
            try:
                response = self.refresher.transport().send(
                    grants.revoke(
                        secret,
                        revoke_url=issuer.revoke,
                        client=None if issuer.name in GOOGLE_ISSUERS else client,
                    )
                )
                parse_revoke_response(response.status, response.headers, response.body)
                revoked = True
            except GTokenError:
                pass  # said in the error: the person revokes it at the server's pages
        raise WrongAccount(asked=asked, signed_in=email, revoked=revoked, server=issuer.host)

    def adopt(
        self, client: ClientSecrets, token: Token, *, sub: str, email: str | None
    ) -> AccountRecord:
        """Store ``token`` as Google account ``sub`` of ``client`` and make it the default.

        Keeps a stored refresh token when ``token`` brings none (DESIGN invariant 3); the
        account's scopes become the token's, which are what Google granted."""
        record_id = account_id(client.client_id, sub)
        with self.store.transaction():
            stored = self.store.entry(record_id)
            if isinstance(stored, AccountRecord):  # a damaged one is replaced, tokens and all
                token = keep_refresh_token(self.refresher.grants.grant(stored), token)
            self.store.put(
                AccountRecord(
                    id=record_id,
                    client_id=client.client_id,
                    email=email,
                    sub=sub,
                    scopes=tuple(sorted(token.scopes)),
                    status="active",
                    token_uri=client.token_uri,
                    expires_at=unix_seconds(token.expires_at),
                    refresh_token_expires_at=unix_seconds(token.refresh_token_expires_at),
                    access_token=token.access_token,
                    refresh_token=token.refresh_token,
                    id_token=token.id_token,
                    client_secret=client.client_secret,
                )
            )
            self.store.set_default(record_id, every_client=True)
        adopted = self.store.get(record_id)
        assert adopted is not None
        return adopted

    # -- changing -----------------------------------------------------------------------------

    def set_default(self, account: str) -> Account:
        """Make ``account`` (email or id) the default, for every client."""
        with self.store.transaction():
            chosen = self.choose(account)
            return Account.of(self.store.set_default(chosen.id, every_client=True))

    def forget(self, account: str | None = None) -> Account:
        """Delete the account from the store, without telling Google; a damaged one too."""
        with self.store.transaction():
            chosen = self.choose(account)
            entry = self.store.entry(chosen.id)
            self.store.delete(chosen.id)
        if entry is None:
            raise ConsentRequired(chosen.label, "it is no longer stored")
        return Account.of(entry)

    def revoke(self, account: str | None = None) -> Account:
        """Revoke the account's grant at its issuer (Google, for Google's accounts), then forget
        it. A grant the issuer already considers dead is forgotten all the same; an issuer with
        no revocation endpoint is a ConfigError, and nothing is forgotten."""
        from gtoken.oauth import grants
        from gtoken.oauth.responses import parse_revoke_response

        record = self.find(account)
        secret = record.refresh_token or record.access_token
        if secret:
            issuer = self.issuers.of(record.token_uri)
            url = issuer.endpoint("revoke", to=f"revoke {label(record)}'s grant")
            client = None
            if issuer.name not in GOOGLE_ISSUERS and record.client_secret:
                client = ClientSecrets(
                    kind="installed",
                    client_id=record.client_id,
                    client_secret=record.client_secret,
                    token_uri=record.token_uri,
                )
            request = grants.revoke(secret, revoke_url=url, client=client)
            response = self.refresher.transport().send(request)
            parse_revoke_response(response.status, response.headers, response.body)
        self.store.delete(record.id)
        return Account.of(record)


def _cannot_refresh(console: Console, issuer: Issuer, record: AccountRecord) -> None:
    until = (
        "until it expires"
        if record.expires_at is None
        else f"until {datetime.fromtimestamp(record.expires_at, UTC):%Y-%m-%d %H:%M} UTC"
    )
    why = (
        "Google issues one for access_type=offline, which gtoken asks for; something between "
        "this machine and Google dropped it."
        if issuer.name in GOOGLE_ISSUERS
        else "Standard OpenID Connect servers issue one only for the offline_access scope: sign "
        "in again asking for it (--scope offline_access)."
    )
    console.say(
        f"Warning: the OAuth server at {issuer.host} issued no refresh token, even when asked "
        f"again with prompt=consent, so {label(record)} cannot be refreshed: its access token "
        f"works {until}, then you must sign in again. {why}"
    )
