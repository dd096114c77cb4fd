"""gtoken's client core against a standard OpenID Connect server that is not Google: login
(authorization code with PKCE, through the loopback), refresh, revoke."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gtoken.accounts import Accounts
from gtoken.errors import ConsentRequired
from gtoken.oauth import ClientSecrets, id_token_claims
from gtoken.tokeninfo import tokeninfo
from tests.browser import HttpBrowser
from tests.flows.fakes import Screen
from tests.oidc.conftest import EMAIL, OidcServer


@pytest.fixture
def accounts(tmp_path: Path) -> Iterator[Accounts]:
    browser = HttpBrowser(tmp_path / "page")
    env = {"GTOKEN_HOME": str(tmp_path / "home"), "BROWSER": browser.command}
    with Accounts(env=env) as accounts:
        yield accounts


def client_of(server: OidcServer) -> ClientSecrets:
    return ClientSecrets.from_json(server.client_secret_json())


def test_login_refresh_and_revoke_through_the_client_core(
    oidc_server: OidcServer, accounts: Accounts
) -> None:
    screen = Screen()
    account = accounts.login(
        client_of(oidc_server),
        ["offline_access", "read", "literal:calendar"],
        console=screen.console,
        mode="browser",
        account=EMAIL,
    )

    # The e-mail address is not in this server's ID token: it came from its userinfo endpoint.
    assert account.email == EMAIL
    # The scopes as the server wrote them: no Google URLs.
    assert account.scopes == {"openid", "email", "offline_access", "read", "calendar"}
    record = accounts.find()
    assert record.id_token
    assert "email" not in id_token_claims(record.id_token)
    assert record.refresh_token  # asked again with prompt=consent, which offline_access needs
    assert record.token_uri == f"{oidc_server.url}/token"
    assert "cannot be refreshed" not in screen.text

    first = accounts.token()
    refreshed = accounts.token(min_ttl=7200)  # longer than the token lives: a refresh
    assert refreshed.access_token != first.access_token
    assert refreshed.scopes == account.scopes
    introspected = httpx.get(
        f"{oidc_server.url}/me",
        headers={"Authorization": f"Bearer {refreshed.access_token}"},
    )
    assert introspected.status_code == 200
    assert introspected.json()["email"] == EMAIL

    with pytest.raises(Exception, match="tokeninfo"):
        tokeninfo(accounts)  # Google's alone; nothing is sent to Google for this account
    accounts.revoke()
    assert accounts.list() == []
    gone = httpx.get(
        f"{oidc_server.url}/me", headers={"Authorization": f"Bearer {refreshed.access_token}"}
    )
    assert gone.status_code == 401


def test_a_login_that_gets_no_refresh_token_says_the_account_cannot_refresh(
    oidc_server: OidcServer, accounts: Accounts
) -> None:
    screen = Screen()
    account = accounts.login(
        client_of(oidc_server), ["read"], console=screen.console, mode="browser"
    )  # no offline_access: this server issues no refresh token

    assert account.email == EMAIL
    assert accounts.find().refresh_token is None
    text = " ".join(screen.text.split())
    assert "issued no refresh token, even when asked again with prompt=consent" in text
    assert f"so {EMAIL} cannot be refreshed: its access token works until" in text
    assert "ask for the offline_access scope" in text or "--scope offline_access" in text
    assert accounts.token().access_token  # usable until it expires
    with pytest.raises(ConsentRequired, match="no refresh token"):
        accounts.token(min_ttl=7200)
