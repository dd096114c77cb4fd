# google-auth leaves some public functions (``refresh``, ``from_service_account_info``,
# ``AuthorizedSession``) unannotated; calling them is the point of this module.
# mypy: disable-error-code="no-untyped-call"
"""Google's own Python clients against the emulator: google-auth-oauthlib's loopback login,
google-auth's user and service-account credentials, and its ID-token verification.

Two environment settings come with the emulator rather than with gtoken: oauthlib refuses a
token endpoint that is not https unless ``OAUTHLIB_INSECURE_TRANSPORT`` is set (Google's
endpoints are https, the emulator's are plain http on loopback, as with every Cloud emulator),
and google-auth's ``from_authorized_user_info`` ignores a ``token_uri``, so user credentials are
built with the constructor. No token value is ever compared in an ``assert`` directly: the
comparisons go through :func:`fingerprint` so that a failure cannot print one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import google.auth.exceptions
import google.auth.transport.requests
import httpx
import pytest
from google.auth.transport.requests import AuthorizedSession
from google.oauth2 import id_token, service_account
from google.oauth2.credentials import Credentials
from google_auth_oauthlib.flow import InstalledAppFlow

from gtoken.emulator.client import Emulator
from tests.browser import HttpBrowser, fingerprint
from tests.support import login

AUTH = "https://www.googleapis.com/auth/"
GMAIL_RO = AUTH + "gmail.readonly"
DRIVE_RO = AUTH + "drive.readonly"
EMAIL = AUTH + "userinfo.email"
PROFILE = AUTH + "userinfo.profile"
DELEGATION_REFUSED = (
    "Client is unauthorized to retrieve access tokens using this method, or client not "
    "authorized for any of the scopes requested."
)
SUCCESS_PAGE = "The authentication flow has completed. You may close this window."

# webbrowser starts a background browser ("... &") and drops its Popen at once, as it does for
# a person's BROWSER="firefox &"; Python then notes the still-running child when warnings are on.
pytestmark = pytest.mark.filterwarnings(r"ignore:subprocess \d+ is still running:ResourceWarning")


@pytest.fixture
def oauthlib_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    monkeypatch.delenv("OAUTHLIB_RELAX_TOKEN_SCOPE", raising=False)


@pytest.fixture
def google_request() -> google.auth.transport.requests.Request:
    return google.auth.transport.requests.Request()


def run_local_server(
    client: dict[str, Any], scopes: list[str], browser: HttpBrowser
) -> Credentials:
    """The quickstart's two lines, with ``browser`` as the person's browser (the quickstart's
    default host, ``localhost``, would also reserve ``::1``; these tests bind 127.0.0.1 only)."""
    flow = InstalledAppFlow.from_client_config(client, scopes=scopes)
    creds: Credentials = flow.run_local_server(
        host="127.0.0.1",
        port=0,
        open_browser=True,
        browser=browser.command,
        timeout_seconds=30,
        authorization_prompt_message=None,
    )
    return creds


def tokeninfo(emu: Emulator, access_token: str | None) -> dict[str, Any]:
    assert access_token is not None
    response = httpx.get(f"{emu.url}/tokeninfo", params={"access_token": access_token})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def user_credentials(
    client: dict[str, Any], refresh_token: str, scopes: list[str] | None = None
) -> Credentials:
    info = client["installed"]
    return Credentials(
        token=None,
        refresh_token=refresh_token,
        client_id=info["client_id"],
        client_secret=info["client_secret"],
        token_uri=info["token_uri"],
        scopes=scopes,
    )


# -- google-auth-oauthlib: InstalledAppFlow.run_local_server ------------------------------------


@pytest.mark.usefixtures("oauthlib_env")
def test_installed_app_flow_logs_in_through_the_loopback_server(
    emulator: Emulator, tmp_path: Path, google_request: google.auth.transport.requests.Request
) -> None:
    client = emulator.create_client(type="installed")
    emulator.create_user("ada@example.com", "Ada Lovelace")
    emulator.consent_auto(email="ada@example.com")
    browser = HttpBrowser(tmp_path / "page.txt")

    creds = run_local_server(client, ["openid", EMAIL, GMAIL_RO], browser)

    assert browser.final_page() == (200, SUCCESS_PAGE)
    assert creds.valid
    assert creds.refresh_token is not None
    assert set(creds.granted_scopes) == {"openid", EMAIL, GMAIL_RO}
    assert creds.token_uri == client["installed"]["token_uri"]
    client_id = client["installed"]["client_id"]
    for certs in ("/oauth2/v1/certs", "/oauth2/v3/certs"):  # PEM certificates, then JWKs
        claims = id_token.verify_token(
            creds.id_token, google_request, audience=client_id, certs_url=emulator.url + certs
        )
        assert claims["email"] == "ada@example.com"
        assert claims["iss"] == "https://accounts.google.com"
    info = tokeninfo(emulator, creds.token)
    assert info["email"] == "ada@example.com"
    assert set(info["scope"].split()) == {"openid", EMAIL, GMAIL_RO}

    first_token, first_refresh = fingerprint(creds.token), fingerprint(creds.refresh_token)
    creds.refresh(google_request)

    token_now, refresh_now = fingerprint(creds.token), fingerprint(creds.refresh_token)
    assert token_now != first_token
    assert refresh_now == first_refresh  # Google sends no new refresh token; google-auth keeps it
    info = tokeninfo(emulator, creds.token)
    assert info["email"] == "ada@example.com"
    stats = emulator.stats()["token"]
    assert (stats["authorization_code"], stats["refresh_token"]) == (1, 1)


@pytest.mark.usefixtures("oauthlib_env")
def test_installed_app_flow_warns_like_google_when_short_scope_names_come_back_as_urls(
    emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Google answers "email profile" with the userinfo URLs and openid; oauthlib treats that as
    # a changed scope and raises, as people report against the real service
    # (googleapis/google-api-python-client#1088). Asking with the full names avoids it.
    client = emulator.create_client(type="installed")
    emulator.create_user("ada@example.com")
    emulator.consent_auto()

    with pytest.raises(Warning, match="Scope has changed") as raised:
        run_local_server(client, ["email", "profile"], HttpBrowser(tmp_path / "first.txt"))
    assert set(raised.value.new_scope) == {"openid", EMAIL, PROFILE}  # type: ignore[attr-defined]

    monkeypatch.setenv("OAUTHLIB_RELAX_TOKEN_SCOPE", "1")
    creds = run_local_server(client, ["email", "profile"], HttpBrowser(tmp_path / "second.txt"))
    assert set(creds.granted_scopes) == {"openid", EMAIL, PROFILE}
    assert creds.scopes == ["email", "profile"]


@pytest.mark.usefixtures("oauthlib_env")
def test_partial_consent_leaves_google_auth_refreshing_with_scopes_never_granted(
    emulator: Emulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    google_request: google.auth.transport.requests.Request,
) -> None:
    # The person unticks Drive. google-auth-oauthlib keeps the requested scopes as
    # ``creds.scopes`` and google-auth sends them with every refresh, which Google refuses with
    # invalid_scope (reported in googlecolab/google-colab-cli#116). Refreshing with the granted
    # scopes works: gtoken must keep what was granted, not what was asked.
    client = emulator.create_client(type="installed")
    emulator.create_user("ada@example.com")
    emulator.consent_auto(grant=["gmail.readonly"])

    with pytest.raises(Warning, match="Scope has changed"):
        run_local_server(client, [GMAIL_RO, DRIVE_RO], HttpBrowser(tmp_path / "first.txt"))

    monkeypatch.setenv("OAUTHLIB_RELAX_TOKEN_SCOPE", "1")
    creds = run_local_server(client, [GMAIL_RO, DRIVE_RO], HttpBrowser(tmp_path / "second.txt"))
    assert creds.granted_scopes == [GMAIL_RO]
    assert creds.scopes == [GMAIL_RO, DRIVE_RO]

    with pytest.raises(google.auth.exceptions.RefreshError) as refused:
        creds.refresh(google_request)
    assert refused.value.args[1] == {"error": "invalid_scope", "error_description": "Bad Request"}

    assert creds.refresh_token is not None
    granted = user_credentials(client, creds.refresh_token, scopes=creds.granted_scopes)
    granted.refresh(google_request)
    info = tokeninfo(emulator, granted.token)
    assert info["scope"] == GMAIL_RO


# -- google-auth: user credentials ---------------------------------------------------------------


def test_user_credentials_refresh_at_the_emulator_token_uri(
    emulator: Emulator, google_request: google.auth.transport.requests.Request
) -> None:
    client = emulator.create_client(type="installed")
    emulator.create_user("ada@example.com")
    emulator.consent_auto()
    tokens = login(emulator, client, f"openid {EMAIL} {GMAIL_RO}")
    creds = user_credentials(client, tokens["refresh_token"])

    creds.refresh(google_request)

    assert creds.valid
    assert creds.expiry is not None
    fresh, issued = fingerprint(creds.token), fingerprint(tokens["access_token"])
    assert fresh != issued
    kept, original = fingerprint(creds.refresh_token), fingerprint(tokens["refresh_token"])
    assert kept == original
    assert creds.id_token is not None  # openid was granted, so the refresh brings an ID token
    info = tokeninfo(emulator, creds.token)
    assert info["email"] == "ada@example.com"
    assert set(info["scope"].split()) == {"openid", EMAIL, GMAIL_RO}
    userinfo = AuthorizedSession(creds).get(f"{emulator.url}/oauth2/v2/userinfo")
    assert userinfo.status_code == 200
    assert userinfo.json()["email"] == "ada@example.com"


def test_user_credentials_with_fewer_scopes_get_a_narrower_token(
    emulator: Emulator, google_request: google.auth.transport.requests.Request
) -> None:
    client = emulator.create_client(type="installed")
    emulator.create_user("ada@example.com")
    emulator.consent_auto()
    tokens = login(emulator, client, f"{GMAIL_RO} {DRIVE_RO}")

    narrow = user_credentials(client, tokens["refresh_token"], scopes=[DRIVE_RO])
    narrow.refresh(google_request)
    info = tokeninfo(emulator, narrow.token)
    assert info["scope"] == DRIVE_RO

    wider = user_credentials(client, tokens["refresh_token"], scopes=[DRIVE_RO, AUTH + "drive"])
    with pytest.raises(google.auth.exceptions.RefreshError) as refused:
        wider.refresh(google_request)
    assert refused.value.args[1]["error"] == "invalid_scope"


@pytest.mark.parametrize("who", ["app revokes the token", "user removes the app"])
def test_revoked_refresh_token_raises_refresh_error_with_invalid_grant(
    emulator: Emulator, google_request: google.auth.transport.requests.Request, who: str
) -> None:
    client = emulator.create_client(type="installed")
    emulator.create_user("ada@example.com")
    emulator.consent_auto()
    tokens = login(emulator, client, GMAIL_RO)
    if who == "app revokes the token":
        response = httpx.post(f"{emulator.url}/revoke", data={"token": tokens["refresh_token"]})
        assert response.status_code == 200
    else:
        emulator.revoke_user("ada@example.com")
    creds = user_credentials(client, tokens["refresh_token"])

    with pytest.raises(google.auth.exceptions.RefreshError) as refused:
        creds.refresh(google_request)

    error = refused.value
    assert str(error.args[0]) == "invalid_grant: Token has been expired or revoked."
    assert error.args[1] == {
        "error": "invalid_grant",
        "error_description": "Token has been expired or revoked.",
    }
    assert not error.retryable
    assert not creds.valid


def test_wrong_client_secret_is_refused_as_invalid_client(
    emulator: Emulator, google_request: google.auth.transport.requests.Request
) -> None:
    client = emulator.create_client(type="installed")
    emulator.create_user("ada@example.com")
    emulator.consent_auto()
    tokens = login(emulator, client, GMAIL_RO)
    client["installed"]["client_secret"] = "GOCSPX-not-the-secret"

    with pytest.raises(google.auth.exceptions.RefreshError) as refused:
        user_credentials(client, tokens["refresh_token"]).refresh(google_request)
    assert refused.value.args[1] == {"error": "invalid_client", "error_description": "Unauthorized"}


def test_authorized_session_refreshes_when_the_emulator_says_the_token_expired(
    emulator: Emulator, google_request: google.auth.transport.requests.Request
) -> None:
    # google-auth believes its token has an hour left; the emulator's clock has moved past it.
    # The 401 from the API makes AuthorizedSession refresh once and retry.
    client = emulator.create_client(type="installed")
    emulator.create_user("ada@example.com")
    emulator.consent_auto()
    tokens = login(emulator, client, f"openid {EMAIL}")
    creds = user_credentials(client, tokens["refresh_token"])
    creds.refresh(google_request)
    before = fingerprint(creds.token)
    emulator.advance(3600)

    response = AuthorizedSession(creds).get(f"{emulator.url}/v1/userinfo")

    assert response.status_code == 200
    assert response.json()["email"] == "ada@example.com"
    after = fingerprint(creds.token)
    assert after != before
    assert emulator.stats()["token"]["refresh_token"] == 2


# -- google-auth: service accounts ---------------------------------------------------------------


def test_service_account_credentials_get_a_token_for_the_service_account(
    emulator: Emulator, google_request: google.auth.transport.requests.Request
) -> None:
    key = emulator.create_service_account(client_email="robot@gtoken-test.iam.gserviceaccount.com")
    creds = service_account.Credentials.from_service_account_info(key, scopes=[DRIVE_RO])

    creds.refresh(google_request)

    assert creds.valid
    info = tokeninfo(emulator, creds.token)
    assert info["email"] == "robot@gtoken-test.iam.gserviceaccount.com"
    assert info["scope"] == DRIVE_RO
    assert emulator.stats()["token"]["jwt_bearer"] == 1


def test_domain_wide_delegation_acts_as_the_user_when_the_scopes_are_allowed(
    emulator: Emulator, google_request: google.auth.transport.requests.Request
) -> None:
    emulator.create_user("ada@example.com")
    key = emulator.create_service_account(delegation_scopes=["gmail.readonly", "drive.readonly"])
    creds = service_account.Credentials.from_service_account_info(key, scopes=[GMAIL_RO])

    delegated = creds.with_subject("ada@example.com")
    delegated.refresh(google_request)

    info = tokeninfo(emulator, delegated.token)
    assert info["email"] == "ada@example.com"
    assert info["scope"] == GMAIL_RO


def test_domain_wide_delegation_is_refused_for_scopes_not_allowed(
    emulator: Emulator, google_request: google.auth.transport.requests.Request
) -> None:
    emulator.create_user("ada@example.com")
    key = emulator.create_service_account(delegation_scopes=["drive.readonly"])
    creds = service_account.Credentials.from_service_account_info(key, scopes=[GMAIL_RO])

    with pytest.raises(google.auth.exceptions.RefreshError) as refused:
        creds.with_subject("ada@example.com").refresh(google_request)

    assert refused.value.args[0] == f"unauthorized_client: {DELEGATION_REFUSED}"
    assert refused.value.args[1] == {
        "error": "unauthorized_client",
        "error_description": DELEGATION_REFUSED,
    }


def test_domain_wide_delegation_to_an_unknown_user_is_invalid_grant(
    emulator: Emulator, google_request: google.auth.transport.requests.Request
) -> None:
    key = emulator.create_service_account(delegation_scopes=["gmail.readonly"])
    creds = service_account.Credentials.from_service_account_info(key, scopes=[GMAIL_RO])

    with pytest.raises(google.auth.exceptions.RefreshError) as refused:
        creds.with_subject("nobody@example.com").refresh(google_request)
    assert refused.value.args[1]["error"] == "invalid_grant"


def test_service_account_id_token_credentials_get_a_verifiable_id_token(
    emulator: Emulator, google_request: google.auth.transport.requests.Request
) -> None:
    key = emulator.create_service_account()
    audience = "https://backend.example.com"
    creds = service_account.IDTokenCredentials.from_service_account_info(
        key, target_audience=audience
    )

    creds.refresh(google_request)

    assert creds.valid
    claims = id_token.verify_token(
        creds.token, google_request, audience=audience, certs_url=f"{emulator.url}/oauth2/v3/certs"
    )
    assert claims["email"] == key["client_email"]
    assert claims["iss"] == "https://accounts.google.com"
    assert claims["sub"] == key["client_id"]
