"""client_secret.json as Google Cloud console downloads it, and every way it can be wrong."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gtoken.oauth import ClientSecrets, ConfigError, endpoints
from tests.oauth.samples import CLIENT_ID, CLIENT_SECRET, INSTALLED, assert_no_secret

WEB: dict[str, Any] = {
    "web": {
        "client_id": CLIENT_ID,
        "project_id": "webapp-42",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": "https://oauth2.googleapis.com/token",
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "client_secret": CLIENT_SECRET,
        "redirect_uris": ["https://app.example.com/oauth2callback"],
        "javascript_origins": ["https://app.example.com"],
    }
}

SERVICE_ACCOUNT = {
    "type": "service_account",
    "project_id": "p",
    "private_key_id": "abc123",
    "private_key": "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n",
    "client_email": "robot@p.iam.gserviceaccount.com",
    "client_id": "104000000000000000000",
    "auth_uri": "https://accounts.google.com/o/oauth2/auth",
    "token_uri": "https://oauth2.googleapis.com/token",
    "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
    "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/robot",
    "universe_domain": "googleapis.com",
}

AUTHORIZED_USER = {
    "type": "authorized_user",
    "client_id": CLIENT_ID,
    "client_secret": CLIENT_SECRET,
    "refresh_token": "1//0gExampleRefreshTokenValue-AbC123_xyz",
    "universe_domain": "googleapis.com",
}

TOKEN_JSON = {
    "token": "ya29.a0AfB_byC1x2Y3z4ExampleAccessTokenValue0123456789",
    "refresh_token": "1//0gExampleRefreshTokenValue-AbC123_xyz",
    "token_uri": "https://oauth2.googleapis.com/token",
    "client_id": CLIENT_ID,
    "client_secret": CLIENT_SECRET,
    "scopes": ["https://www.googleapis.com/auth/gmail.readonly"],
    "expiry": "2026-05-01T12:59:59.123456Z",
}


def test_installed_client_as_downloaded():
    client = ClientSecrets.from_json(json.dumps(INSTALLED))
    assert client == ClientSecrets(
        kind="installed",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        auth_uri="https://accounts.google.com/o/oauth2/auth",
        token_uri="https://oauth2.googleapis.com/token",
        redirect_uris=("http://localhost",),
        project_id="quickstart-1234567890123",
    )


def test_web_client_from_bytes():
    client = ClientSecrets.from_json(json.dumps(WEB).encode())
    assert client.kind == "web"
    assert client.redirect_uris == ("https://app.example.com/oauth2callback",)


def test_uris_are_used_as_given():
    emulated = {
        "installed": {
            **INSTALLED["installed"],
            "auth_uri": "http://127.0.0.1:8089/o/oauth2/auth",
            "token_uri": "http://127.0.0.1:8089/token",
        }
    }
    client = ClientSecrets.from_json(emulated)
    assert client.auth_uri == "http://127.0.0.1:8089/o/oauth2/auth"
    assert client.token_uri == "http://127.0.0.1:8089/token"


def test_googles_uris_when_absent():
    minimal = {"installed": {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}}
    client = ClientSecrets.from_json(minimal)
    assert client.auth_uri == endpoints.AUTH_URI
    assert client.token_uri == endpoints.TOKEN_URI
    assert client.redirect_uris == ()
    assert client.project_id is None


def test_repr_and_str_never_show_the_secret():
    client = ClientSecrets.from_json(INSTALLED)
    assert_no_secret(repr(client), str(client))
    assert CLIENT_ID in repr(client)
    assert "…MnOp" in repr(client)


def installed_with(**fields: Any) -> dict[str, Any]:
    section = {**INSTALLED["installed"], **fields}
    return {"installed": {k: v for k, v in section.items() if v is not None}}


@pytest.mark.parametrize(
    ("data", "says", "fix"),
    [
        (SERVICE_ACCOUNT, "is a service-account key, not an OAuth client", "service account"),
        (AUTHORIZED_USER, "is an authorized_user credentials file", "gtoken import"),
        (TOKEN_JSON, "is a saved token (a quickstart token.json)", "gtoken import"),
        ({**INSTALLED, **WEB}, "has both an 'installed' and a 'web' section", "Download"),
        ({"other": {}}, "has no 'installed' or 'web' section", "Download"),
        ({"installed": "x"}, "has an 'installed' that is not an object", "Download"),
        (installed_with(client_id=None), "lacks installed.client_id", "Download"),
        (installed_with(client_id=""), "has an empty or non-text installed.client_id", "Download"),
        (installed_with(client_id=42), "has an empty or non-text installed.client_id", "Download"),
        (
            installed_with(client_id=f" {CLIENT_ID}"),
            "has spaces around installed.client_id",
            "Remove",
        ),
        (installed_with(client_secret=None), "lacks installed.client_secret", "Download"),
        (
            installed_with(redirect_uris="http://localhost"),
            "has installed.redirect_uris that is not a list",
            "Download",
        ),
        (
            installed_with(token_uri="oauth2.googleapis.com/token"),
            "has installed.token_uri 'oauth2.googleapis.com/token', which is not an http(s) URL",
            "Download",
        ),
        (
            installed_with(token_uri="http://oauth.example.com/token"),
            "has installed.token_uri 'http://oauth.example.com/token', which uses plain http to "
            "oauth.example.com, so secrets and codes would cross the network unencrypted",
            "https",
        ),
        (
            installed_with(auth_uri="http://10.0.0.7:8080/auth"),
            "has installed.auth_uri 'http://10.0.0.7:8080/auth', which uses plain http to 10.0.0.7",
            "https",
        ),
        (installed_with(auth_uri=["x"]), "has a non-text installed.auth_uri", "Download"),
        (installed_with(project_id=7), "has a non-text installed.project_id", "Download"),
    ],
)
def test_malformed_files_say_what_and_how_to_fix(data, says, fix):
    with pytest.raises(ConfigError) as info:
        ClientSecrets.from_json(json.dumps(data), source="/home/ann/creds.json")
    message = str(info.value)
    assert message.startswith(f"/home/ann/creds.json {says}")
    assert fix in info.value.hint
    assert_no_secret(message, repr(info.value))


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('{"installed": {"client_secret": "' + CLIENT_SECRET + '",', "is not JSON (line 1, column"),
        ("", "is not JSON (line 1, column 1)"),
        (b"\xff\xfe\x00", "is not JSON"),
        ("[1, 2]", "is JSON but not an object"),
        ('"installed"', "is JSON but not an object"),
    ],
)
def test_text_that_is_not_a_client_file(text, says):
    with pytest.raises(ConfigError, match=r"client_secret\.json") as info:
        ClientSecrets.from_json(text)
    assert says in str(info.value)
    assert_no_secret(str(info.value))


def test_constructing_directly_checks_the_values():
    with pytest.raises(ValueError, match="kind"):
        ClientSecrets(kind="other", client_id="a", client_secret="b")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="empty"):
        ClientSecrets(kind="web", client_id="", client_secret="b")
    with pytest.raises(TypeError):
        ClientSecrets.from_json(42)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "base", ["http://127.0.0.1:8089", "http://127.5.6.7", "http://[::1]:9", "http://localhost:1"]
)
def test_plain_http_is_accepted_for_this_machine_only(base: str) -> None:
    client = ClientSecrets.from_json(
        json.dumps(installed_with(auth_uri=f"{base}/auth", token_uri=f"{base}/token"))
    )
    assert client.token_uri == f"{base}/token"
