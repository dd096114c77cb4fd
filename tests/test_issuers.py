"""Tokens go only to the issuer they came from: Google's endpoints for Google, the emulator's for
the emulator (with or without GTOKEN_EMULATOR_HOST), and for any other server the endpoints its
discovery document names on its own host; else the command is refused."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus, urlsplit

import httpx
import pytest

from gtoken.accounts import Accounts
from gtoken.emulator.client import Emulator
from gtoken.errors import ConfigError, ProtocolError
from gtoken.oauth import ClientSecrets, Token
from gtoken.tokeninfo import tokeninfo
from gtoken.transport import RetryPolicy, Transport
from tests.support import stored_login

GMAIL_RO = "https://www.googleapis.com/auth/gmail.readonly"
ISSUER = "https://id.example.com"
TOKEN_URI = f"{ISSUER}/oauth/token"
SECRETS = ("at-0123456789abcdefGHIJ", "rt-0123456789abcdefGHIJ", "cs-0123456789abcdefGHIJ")


class Recording(Transport):
    """gtoken's transport, keeping the method and URL of every request it sent."""

    def __init__(self, client: httpx.Client | None = None) -> None:
        super().__init__(RetryPolicy(sleep=lambda s: None), client=client)
        self.sent: list[tuple[str, str, bytes, Mapping[str, str]]] = []

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
    ) -> Any:
        self.sent.append((method, url, content or b"", dict(headers or {})))
        return super().request(method, url, headers=headers, content=content)

    def hosts(self) -> set[str]:
        return {urlsplit(url).netloc for _, url, _, _ in self.sent}

    def carried(self, secret: str) -> set[str]:
        """The hosts of the requests that carried ``secret`` (in the body or a header)."""
        forms = {secret.encode(), quote_plus(secret).encode()}
        return {
            urlsplit(url).netloc
            for _, url, body, headers in self.sent
            if any(f in body for f in forms) or any(secret in v for v in headers.values())
        }


def test_the_emulator_reached_by_its_url_gets_its_own_tokens_back(
    emulator: Emulator, tmp_path: Path
) -> None:
    env = {"GTOKEN_HOME": str(tmp_path / "home")}  # no GTOKEN_EMULATOR_HOST
    transport = Recording()
    with Accounts(env=env, transport=lambda: transport) as accounts:
        _, token = stored_login(emulator, accounts, f"openid email {GMAIL_RO}")
        about = tokeninfo(accounts)
        accounts.revoke()
        assert accounts.list() == []

    assert about.email == "ada@example.com"
    assert transport.hosts() == {emulator.host}
    assert transport.carried(token.refresh_token or "") == {emulator.host}
    assert emulator.stats()["endpoints"]["revoke"] == 1
    assert emulator.stats()["endpoints"]["tokeninfo"] == 1


def test_with_the_emulator_host_set_every_endpoint_is_the_emulators(
    emulator: Emulator, env: dict[str, str]
) -> None:
    transport = Recording()
    with Accounts(env=env, transport=lambda: transport) as accounts:
        stored_login(emulator, accounts, f"openid email {GMAIL_RO}")
        tokeninfo(accounts)
        accounts.revoke()
    assert transport.hosts() == {emulator.host}
    assert [path for _, url, _, _ in transport.sent if (path := urlsplit(url).path)] == [
        "/tokeninfo",
        "/revoke",
    ]


# -- a server that is not Google, behind an injected transport --------------------------------


class Server:
    """An OAuth server at ``ISSUER`` answering from ``routes`` (path -> JSON), 404 elsewhere."""

    def __init__(self, routes: dict[str, Any]) -> None:
        self.routes = routes
        self.transport = Recording(httpx.Client(transport=httpx.MockTransport(self.answer)))

    def answer(self, request: httpx.Request) -> httpx.Response:
        if request.url.host != "id.example.com":
            return httpx.Response(599, json={"error": "sent to another host"})
        body = self.routes.get(request.url.path)
        if body is None:
            return httpx.Response(404, text="not found")
        return httpx.Response(200, json=body)


def discovery(**endpoints: str) -> dict[str, Any]:
    return {"issuer": ISSUER, "token_endpoint": TOKEN_URI, **endpoints}


@pytest.fixture
def home(tmp_path: Path) -> dict[str, str]:
    return {"GTOKEN_HOME": str(tmp_path / "home")}


def open_accounts(home: dict[str, str], server: Server) -> Accounts:
    return Accounts(env=home, transport=lambda: server.transport)


def store_account(accounts: Accounts) -> None:
    client = ClientSecrets(
        kind="installed",
        client_id="app",
        client_secret=SECRETS[2],
        auth_uri=f"{ISSUER}/authorize",
        token_uri=TOKEN_URI,
    )
    token = Token(
        access_token=SECRETS[0],
        refresh_token=SECRETS[1],
        expires_at=datetime.now(UTC) + timedelta(hours=1),
        scopes=frozenset({"openid", "read"}),
    )
    accounts.adopt(client, token, sub="u-1", email="ada@example.com")


@pytest.fixture
def stored(home: dict[str, str]) -> None:
    with Accounts(env=home) as accounts:
        store_account(accounts)


@pytest.mark.usefixtures("stored")
def test_revoke_uses_the_revocation_endpoint_the_discovery_document_names(
    home: dict[str, str],
) -> None:
    server = Server(
        {
            "/oauth/.well-known/openid-configuration": discovery(
                revocation_endpoint=f"{ISSUER}/oauth/revoke"
            ),
            "/oauth/revoke": {},
        }
    )
    with open_accounts(home, server) as accounts:
        accounts.revoke()
        assert accounts.list() == []
    assert [url for _, url, _, _ in server.transport.sent] == [
        f"{ISSUER}/oauth/.well-known/openid-configuration",
        f"{ISSUER}/oauth/revoke",
    ]
    assert server.transport.carried(SECRETS[1]) == {"id.example.com"}


@pytest.mark.usefixtures("stored")
@pytest.mark.parametrize(
    "routes",
    [
        {},  # no discovery document at all
        {"/.well-known/openid-configuration": {"issuer": "x", "token_endpoint": "https://o/t"}},
        {"/.well-known/openid-configuration": "not an object"},
    ],
    ids=["none", "another-servers", "not-json-object"],
)
def test_a_server_without_discovery_is_refused_and_nothing_is_sent_or_forgotten(
    home: dict[str, str], routes: dict[str, Any]
) -> None:
    server = Server(routes)
    with open_accounts(home, server) as accounts:
        with pytest.raises(ConfigError) as caught:
            accounts.revoke()
        with pytest.raises(ConfigError):
            tokeninfo(accounts)
        assert len(accounts.list()) == 1  # nothing forgotten
    assert "publishes no discovery document" in str(caught.value)
    assert "id.example.com" in str(caught.value)
    assert {m for m, _, _, _ in server.transport.sent} == {"GET"}
    for secret in SECRETS:
        assert server.transport.carried(secret) == set()
        assert secret not in str(caught.value)


@pytest.mark.usefixtures("stored")
@pytest.mark.parametrize(
    "revocation",
    ["https://revoke.other.example/revoke", "http://id.example.com/oauth/revoke", "ftp://x/y"],
)
def test_an_endpoint_on_another_host_or_in_clear_is_never_used(
    home: dict[str, str], revocation: str
) -> None:
    server = Server(
        {"/.well-known/openid-configuration": discovery(revocation_endpoint=revocation)}
    )
    with open_accounts(home, server) as accounts:
        with pytest.raises(ConfigError) as caught:
            accounts.revoke()
        assert len(accounts.list()) == 1
    assert "offers no revoke endpoint on that host" in str(caught.value)
    assert server.transport.carried(SECRETS[1]) == set()


@pytest.mark.usefixtures("stored")
def test_tokeninfo_is_googles_only(home: dict[str, str]) -> None:
    server = Server({"/.well-known/openid-configuration": discovery()})
    with open_accounts(home, server) as accounts, pytest.raises(ConfigError) as caught:
        tokeninfo(accounts)
    assert "offers no tokeninfo endpoint" in str(caught.value)
    assert server.transport.carried(SECRETS[0]) == set()


# -- the ID token a login is read from --------------------------------------------------------


def jwt(claims: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256'})}.{part(claims)}.c2ln"


def login_token(**claims: Any) -> Token:
    now = int(datetime.now(UTC).timestamp())
    base = {"iss": ISSUER, "aud": "app", "sub": "u-1", "exp": now + 600, "iat": now}
    given = {k: v for k, v in {**base, **claims}.items() if v is not None}
    return Token(
        access_token=SECRETS[0],
        refresh_token=SECRETS[1],
        expires_at=datetime.now(UTC) + timedelta(hours=1),
        id_token=jwt(given),
        scopes=frozenset({"openid"}),
    )


def client() -> ClientSecrets:
    return ClientSecrets(
        kind="installed", client_id="app", client_secret=SECRETS[2], token_uri=TOKEN_URI
    )


@pytest.fixture
def oidc(home: dict[str, str]) -> Iterator[Callable[[Token], Any]]:
    server = Server(
        {
            "/oauth/.well-known/openid-configuration": discovery(
                userinfo_endpoint=f"{ISSUER}/oauth/userinfo"
            ),
            "/oauth/userinfo": {"sub": "u-1", "email": "ada@example.com"},
        }
    )
    with open_accounts(home, server) as accounts:
        yield lambda token: accounts.add(client(), token)


@pytest.mark.parametrize(
    ("claims", "says"),
    [
        ({"iss": "https://accounts.google.com"}, "issued by 'https://accounts.google.com'"),
        ({"iss": None}, "issued by nothing"),
        ({"aud": "another-app"}, "meant for another client ('another-app')"),
        ({"aud": ["app", "other"]}, "meant for another client"),  # several, and no azp
        ({"aud": None}, "meant for another client (nothing)"),
        ({"exp": None}, "has no expiry"),
        ({"exp": int(datetime.now(UTC).timestamp()) - 3600}, "expired at"),
    ],
)
def test_an_id_token_not_from_the_issuer_for_this_client_or_expired_is_refused(
    oidc: Callable[[Token], Any], home: dict[str, str], claims: dict[str, Any], says: str
) -> None:
    with pytest.raises(ProtocolError) as caught:
        oidc(login_token(**claims))
    assert says in str(caught.value)
    for secret in SECRETS:
        assert secret not in str(caught.value)
    with Accounts(env=home) as accounts:
        assert accounts.list() == []


def test_an_id_token_within_the_skew_and_with_azp_is_accepted(
    oidc: Callable[[Token], Any],
) -> None:
    now = int(datetime.now(UTC).timestamp())
    record = oidc(login_token(exp=now - 60, aud=["app", "other"], azp="app"))
    assert record.sub == "u-1"


def test_the_email_comes_from_userinfo_when_the_id_token_has_none(
    oidc: Callable[[Token], Any],
) -> None:
    record = oidc(login_token())
    assert record.email == "ada@example.com"
