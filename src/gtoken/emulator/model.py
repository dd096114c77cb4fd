"""The emulator's world: clients, users, grants and tokens, kept in memory.

Everything here is plain data and bookkeeping; the protocol rules live in ``authorization`` and
``grants``, the HTTP in ``endpoints``. All time is read from :class:`Clock`, which the control API
can move forward, so a test can let an access token or a Testing app's refresh token expire without
waiting.
"""

from __future__ import annotations

import hashlib
import secrets
import string
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from gtoken.emulator import scopes as sc
from gtoken.emulator.apis.data import UserData, seed_user
from gtoken.emulator.keys import SigningKey

ClientType = Literal["installed", "web"]
PublishingStatus = Literal["production", "testing"]

SEVEN_DAYS = 7 * 24 * 3600
SIX_MONTHS = 183 * 24 * 3600
#: Settings stay below this (a hundred years of seconds) so that time arithmetic stays finite.
MAX_SETTING = 100 * 365 * 24 * 3600


@dataclass
class Config:
    """Tunables, set with ``POST /_emulator/config``."""

    access_token_lifetime: int = 3599
    code_lifetime: int = 600
    consent_session_lifetime: int = 3600
    testing_refresh_token_lifetime: int = SEVEN_DAYS - 1
    unused_refresh_token_lifetime: int = SIX_MONTHS
    refresh_token_limit: int = 100
    device_code_lifetime: int = 1800
    device_poll_interval: int = 5
    max_body_bytes: int = 64 * 1024

    def update(self, values: dict[str, Any]) -> None:
        for name, value in values.items():
            if name not in self.__dataclass_fields__:
                raise ValueError(f"unknown setting {name!r}; known: {', '.join(self.names())}")
            if (
                isinstance(value, bool)
                or not isinstance(value, int)
                or not 0 <= value <= MAX_SETTING
            ):
                raise ValueError(f"setting {name!r} must be a whole number from 0 to {MAX_SETTING}")
        for name, value in values.items():
            setattr(self, name, value)

    @classmethod
    def names(cls) -> list[str]:
        return list(cls.__dataclass_fields__)


class Clock:
    """Wall time plus an offset that only ever grows."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@dataclass(eq=False)
class Client:
    client_id: str
    client_secret: str
    type: ClientType
    redirect_uris: list[str]
    publishing_status: PublishingStatus
    name: str
    project_id: str
    test_users: list[str] | None = None

    def secrets_json(self, base_url: str) -> dict[str, Any]:
        """The ``client_secret.json`` a person downloads from the Cloud console."""
        body: dict[str, Any] = {
            "client_id": self.client_id,
            "project_id": self.project_id,
            "auth_uri": f"{base_url}/o/oauth2/auth",
            "token_uri": f"{base_url}/token",
            "auth_provider_x509_cert_url": f"{base_url}/oauth2/v1/certs",
            "client_secret": self.client_secret,
            "redirect_uris": list(self.redirect_uris),
        }
        return {self.type: body}


@dataclass(eq=False)
class User:
    sub: str
    email: str
    name: str
    data: UserData
    locale: str = "en"
    #: Workspace session control: refreshes fail with ``invalid_rapt`` until the next consent.
    reauth_required: bool = False

    @property
    def given_name(self) -> str:
        return self.name.split(" ")[0]

    @property
    def family_name(self) -> str:
        parts = self.name.split(" ", 1)
        return parts[1] if len(parts) > 1 else ""

    @property
    def picture(self) -> str:
        return f"https://lh3.googleusercontent.com/a/{self.sub}"

    def public(self) -> dict[str, Any]:
        return {"sub": self.sub, "email": self.email, "name": self.name}


@dataclass(eq=False)
class ServiceAccount:
    client_email: str
    client_id: str
    key_id: str
    public_key_pem: bytes
    delegation_scopes: frozenset[str]
    project_id: str


@dataclass(eq=False)
class Grant:
    """What one user has allowed one client; removed when the user revokes the app."""

    user: User
    client: Client
    scopes: set[str]
    consented_at: float


@dataclass(eq=False)
class RefreshToken:
    value: str
    grant: Grant
    scopes: frozenset[str]
    issued_at: float
    expires_at: float | None
    last_used: float
    revoked: bool = False

    def alive(self, now: float, unused_lifetime: int) -> bool:
        if self.revoked:
            return False
        if self.expires_at is not None and now >= self.expires_at:
            return False
        return now - self.last_used < unused_lifetime


@dataclass(eq=False)
class AccessToken:
    value: str
    client_id: str
    scopes: frozenset[str]
    expires_at: float
    user: User | None
    service_account: ServiceAccount | None = None
    refresh_token: RefreshToken | None = None
    grant: Grant | None = None
    revoked: bool = False
    access_type: str = "online"

    def alive(self, now: float) -> bool:
        if self.revoked or now >= self.expires_at:
            return False
        return self.refresh_token is None or not self.refresh_token.revoked

    @property
    def email(self) -> str:
        if self.user is not None:
            return self.user.email
        assert self.service_account is not None
        return self.service_account.client_email

    @property
    def subject_id(self) -> str:
        if self.user is not None:
            return self.user.sub
        assert self.service_account is not None
        return self.service_account.client_id


@dataclass(eq=False)
class AuthRequest:
    """A checked authorization request, waiting for the person's answer."""

    client: Client
    redirect_uri: str
    scopes: list[str]
    state: str | None
    access_type: str
    prompt: frozenset[str]
    include_granted_scopes: bool
    login_hint: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    nonce: str | None
    created_at: float


@dataclass(eq=False)
class AuthCode:
    value: str
    request: AuthRequest
    user: User
    scopes: frozenset[str]
    issue_refresh_token: bool
    expires_at: float
    used: bool = False


@dataclass(eq=False)
class DeviceCode:
    device_code: str
    user_code: str
    client: Client
    scopes: list[str]
    expires_at: float
    interval: int
    last_poll: float | None = None
    status: Literal["pending", "approved", "denied", "used"] = "pending"
    user: User | None = None
    granted: frozenset[str] = frozenset()


@dataclass
class ConsentMode:
    """How authorization requests are answered: ``interactive`` (a page) or ``auto``."""

    mode: Literal["interactive", "auto"] = "interactive"
    email: str | None = None
    #: ``"all"``, ``"deny"`` or the scopes to grant (sign-in scopes are always granted).
    grant: Literal["all", "deny"] | frozenset[str] = "all"


@dataclass
class Fault:
    """The next ``count`` requests to ``endpoint`` fail or slow down this way."""

    endpoint: str
    count: int
    status: int | None = None
    delay: float = 0.0
    drop: bool = False
    retry_after: int | None = None
    error: str | None = None


@dataclass
class Stats:
    token: dict[str, int] = field(default_factory=dict)
    refresh_tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    endpoints: dict[str, int] = field(default_factory=dict)
    api: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "token": dict(self.token, total=sum(self.token.values())),
            "refresh_tokens": self.refresh_tokens,
            "endpoints": self.endpoints,
            "api": dict(self.api, total=sum(self.api.values())),
        }


def fingerprint(token: str) -> str:
    """How the emulator names a token in its stats: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def _digits(n: int) -> str:
    return "".join(secrets.choice(string.digits) for _ in range(n))


class World:
    """All of the emulator's state. One per running emulator; ``reset()`` empties it."""

    def __init__(self, signing_key: SigningKey | None = None) -> None:
        self.signing_key = signing_key or SigningKey.generate()
        self.clock = Clock()
        self.reset()

    def reset(self) -> None:
        self.clock.offset = 0.0
        self.config = Config()
        self.consent = ConsentMode()
        self.clients: dict[str, Client] = {}
        self.users: dict[str, User] = {}  # by lower-case email
        self.service_accounts: dict[str, ServiceAccount] = {}  # by client_email
        self.grants: dict[tuple[str, str], Grant] = {}  # by (sub, client_id)
        self.pending: dict[str, AuthRequest] = {}  # consent sessions by id
        self.pending_devices: dict[str, DeviceCode] = {}
        self.codes: dict[str, AuthCode] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        # Each user and client's refresh tokens not yet revoked, so that enforcing the limit of
        # 100 looks at those alone, not at every token of every user (revoked is for good).
        self.unrevoked_refresh_tokens: dict[tuple[User, Client], list[RefreshToken]] = {}
        self.access_tokens: dict[str, AccessToken] = {}
        self.device_codes: dict[str, DeviceCode] = {}
        self.faults: list[Fault] = []
        self.stats = Stats()

    def now(self) -> float:
        return self.clock.now()

    # -- creation (control API) ---------------------------------------------------------------

    def add_client(
        self,
        *,
        type: ClientType,
        redirect_uris: list[str] | None = None,
        publishing_status: PublishingStatus = "production",
        name: str = "gtoken emulator app",
        test_users: list[str] | None = None,
    ) -> Client:
        default_uris = ["http://localhost"] if type == "installed" else []
        client = Client(
            client_id=f"{_digits(12)}-{secrets.token_hex(16)}.apps.googleusercontent.com",
            client_secret="GOCSPX-" + secrets.token_urlsafe(21),
            type=type,
            redirect_uris=list(redirect_uris if redirect_uris is not None else default_uris),
            publishing_status=publishing_status,
            name=name,
            project_id="gtoken-emulator",
            test_users=[e.lower() for e in test_users] if test_users is not None else None,
        )
        self.clients[client.client_id] = client
        return client

    def add_user(self, email: str, name: str | None = None) -> User:
        key = email.lower()
        if key in self.users:
            raise ValueError(f"a user with email {email!r} exists already")
        local = email.split("@", 1)[0]
        display = name or " ".join(p.capitalize() for p in local.replace("_", ".").split("."))
        sub = "1" + _digits(20)
        user = User(sub=sub, email=email, name=display, data=seed_user(email, display))
        self.users[key] = user
        return user

    def add_service_account(
        self,
        *,
        client_email: str | None,
        delegation_scopes: list[str],
        private_key_id: str,
        public_key_pem: bytes,
    ) -> ServiceAccount:
        n = len(self.service_accounts) + 1
        email = client_email or f"robot-{n}@gtoken-emulator.iam.gserviceaccount.com"
        if email in self.service_accounts:
            raise ValueError(f"a service account {email!r} exists already")
        account = ServiceAccount(
            client_email=email,
            client_id="1" + _digits(20),
            key_id=private_key_id,
            public_key_pem=public_key_pem,
            delegation_scopes=frozenset(sc.expand_control(delegation_scopes)),
            project_id="gtoken-emulator",
        )
        self.service_accounts[email] = account
        return account

    def user(self, email: str) -> User | None:
        return self.users.get(email.lower())

    # -- tokens ---------------------------------------------------------------------------------

    def mint_access_token(
        self,
        *,
        client_id: str,
        scopes: frozenset[str],
        user: User | None,
        service_account: ServiceAccount | None = None,
        refresh_token: RefreshToken | None = None,
        grant: Grant | None = None,
        access_type: str = "online",
    ) -> AccessToken:
        token = AccessToken(
            value="ya29.a0" + secrets.token_urlsafe(120),
            client_id=client_id,
            scopes=scopes,
            expires_at=self.now() + self.config.access_token_lifetime,
            user=user,
            service_account=service_account,
            refresh_token=refresh_token,
            grant=grant,
            access_type=access_type,
        )
        self.access_tokens[token.value] = token
        return token

    def mint_refresh_token(self, grant: Grant, scopes: frozenset[str]) -> RefreshToken:
        now = self.now()
        expires_at = None
        if grant.client.publishing_status == "testing" and not scopes <= sc.BASIC:
            expires_at = now + self.config.testing_refresh_token_lifetime
        token = RefreshToken(
            value="1//0" + secrets.token_urlsafe(75),
            grant=grant,
            scopes=scopes,
            issued_at=now,
            expires_at=expires_at,
            last_used=now,
        )
        self.refresh_tokens[token.value] = token
        self.unrevoked_refresh_tokens.setdefault((grant.user, grant.client), []).append(token)
        self._enforce_refresh_token_limit(grant)
        return token

    def _enforce_refresh_token_limit(self, grant: Grant) -> None:
        """Google keeps at most 100 live refresh tokens per user and client; the oldest goes."""
        now = self.now()
        key = (grant.user, grant.client)
        unrevoked = [t for t in self.unrevoked_refresh_tokens.get(key, []) if not t.revoked]
        self.unrevoked_refresh_tokens[key] = unrevoked
        live = [t for t in unrevoked if t.alive(now, self.config.unused_refresh_token_lifetime)]
        live.sort(key=lambda t: t.issued_at)
        for token in live[: max(0, len(live) - self.config.refresh_token_limit)]:
            token.revoked = True

    def live_access_token(self, value: str) -> AccessToken | None:
        token = self.access_tokens.get(value)
        if token is None or not token.alive(self.now()):
            return None
        return token

    def revoke_grant(self, grant: Grant) -> None:
        """Remove the app's access for this user: every token of the grant dies."""
        for rt in self.refresh_tokens.values():
            if rt.grant is grant:
                rt.revoked = True
        for at in self.access_tokens.values():
            if at.grant is grant:
                at.revoked = True
        self.grants.pop((grant.user.sub, grant.client.client_id), None)

    def revoke_user_grants(self, user: User, *, only_gmail: bool = False) -> int:
        """The user removes apps (or changes password, which kills tokens with Gmail scopes)."""
        count = 0
        for grant in [g for g in self.grants.values() if g.user is user]:
            if only_gmail:
                count += self._revoke_gmail_tokens(grant)
            else:
                self.revoke_grant(grant)
                count += 1
        return count

    def _revoke_gmail_tokens(self, grant: Grant) -> int:
        count = 0
        for rt in self.refresh_tokens.values():
            if rt.grant is grant and not rt.revoked and rt.scopes & sc.GMAIL:
                rt.revoked = True
                count += 1
        return count

    def count(self, table: dict[str, int], key: str) -> None:
        table[key] = table.get(key, 0) + 1
