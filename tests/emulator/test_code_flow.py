"""The authorization-code flow end to end over HTTP, as an application sees it."""

from __future__ import annotations

import httpx
import jwt

from gtoken.emulator.client import Emulator
from tests.support import authorize, login, redirect_params, refresh

GMAIL_RO = "https://www.googleapis.com/auth/gmail.readonly"


def test_client_secret_json_points_at_the_emulator(emulator: Emulator) -> None:
    secrets = emulator.create_client(type="installed")
    info = secrets["installed"]
    assert info["token_uri"] == f"{emulator.url}/token"
    assert info["auth_uri"] == f"{emulator.url}/o/oauth2/auth"
    assert info["client_secret"].startswith("GOCSPX-")
    assert info["client_id"].endswith(".apps.googleusercontent.com")
    assert info["redirect_uris"] == ["http://localhost"]


def test_code_flow_returns_tokens_and_a_verifiable_id_token(emulator: Emulator) -> None:
    client = emulator.create_client()
    emulator.create_user("ada@example.com", "Ada Lovelace")
    emulator.consent_auto(email="ada@example.com")
    tokens = login(emulator, client, f"openid email profile {GMAIL_RO}")
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 3599
    assert tokens["refresh_token"].startswith("1//")
    assert set(tokens["scope"].split()) == {
        "openid",
        GMAIL_RO,
        "https://www.googleapis.com/auth/userinfo.email",
        "https://www.googleapis.com/auth/userinfo.profile",
    }
    jwks = jwt.PyJWKClient(f"{emulator.url}/oauth2/v3/certs")
    key = jwks.get_signing_key_from_jwt(tokens["id_token"])
    claims = jwt.decode(
        tokens["id_token"],
        key.key,
        algorithms=["RS256"],
        audience=client["installed"]["client_id"],
    )
    assert claims["email"] == "ada@example.com"
    assert claims["name"] == "Ada Lovelace"
    assert claims["iss"] == "https://accounts.google.com"


def test_state_is_echoed_and_scope_uses_google_mixed_form(emulator: Emulator) -> None:
    client = emulator.create_client()
    emulator.create_user("ada@example.com")
    emulator.consent_auto()
    params = redirect_params(authorize(emulator, client, "email", state="s-123"))
    assert params["state"] == "s-123"
    assert params["scope"].split() == [
        "email",
        "https://www.googleapis.com/auth/userinfo.email",
        "openid",
    ]
    assert params["iss"] == "https://accounts.google.com"


def test_refresh_omits_refresh_token_and_is_counted(emulator: Emulator) -> None:
    client = emulator.create_client()
    emulator.create_user("ada@example.com")
    emulator.consent_auto()
    tokens = login(emulator, client, GMAIL_RO)
    response = refresh(emulator, client, tokens["refresh_token"])
    assert response.status_code == 200
    body = response.json()
    assert "refresh_token" not in body
    assert body["access_token"] != tokens["access_token"]
    stats = emulator.stats()
    assert stats["token"]["refresh_token"] == 1
    assert stats["token"]["authorization_code"] == 1
    (entry,) = stats["refresh_tokens"].values()
    assert entry["count"] == 1
    assert entry["email"] == "ada@example.com"


def test_tokeninfo_and_userinfo_describe_the_token(emulator: Emulator) -> None:
    client = emulator.create_client()
    emulator.create_user("ada@example.com", "Ada Lovelace")
    emulator.consent_auto()
    tokens = login(emulator, client, f"email profile {GMAIL_RO}")
    info = httpx.get(f"{emulator.url}/tokeninfo", params={"access_token": tokens["access_token"]})
    assert info.status_code == 200
    body = info.json()
    assert body["email"] == "ada@example.com"
    assert isinstance(body["exp"], str)
    assert isinstance(body["expires_in"], str)
    assert GMAIL_RO in body["scope"].split()
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    v2 = httpx.get(f"{emulator.url}/oauth2/v2/userinfo", headers=auth).json()
    assert v2["verified_email"] is True
    assert v2["given_name"] == "Ada"
    oidc = httpx.get(f"{emulator.url}/v1/userinfo", headers=auth).json()
    assert oidc["email_verified"] is True
    assert oidc["sub"] == body["sub"]


def test_expired_access_token_is_refused_after_the_clock_moves(emulator: Emulator) -> None:
    client = emulator.create_client()
    emulator.create_user("ada@example.com")
    emulator.consent_auto()
    tokens = login(emulator, client, "email")
    emulator.advance(3600)
    info = httpx.get(f"{emulator.url}/tokeninfo", params={"access_token": tokens["access_token"]})
    assert info.status_code == 400
    assert info.json() == {"error": "invalid_token", "error_description": "Invalid Value"}
