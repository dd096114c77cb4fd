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


# ---------------------------------------------------------------------------- word for word

DOWNLOAD = (
    "Download the OAuth client's JSON from Google Cloud console: APIs & Services > Credentials > "
    "OAuth 2.0 Client IDs > Download JSON (a Desktop app client for scripts)."
)

WRONG_FILES: list[tuple[str, Any, str, str]] = [
    (
        "service-account",
        SERVICE_ACCOUNT,
        "/home/ann/creds.json is a service-account key, not an OAuth client.",
        (
            "Use it as a service account (gtoken's service-account support), or give the OAuth "
            "client's client_secret.json. "
        )
        + DOWNLOAD,
    ),
    (
        "authorized-user",
        AUTHORIZED_USER,
        (
            "/home/ann/creds.json is an authorized_user credentials file (Application Default "
            "Credentials), not an OAuth client."
        ),
        "Adopt it with 'gtoken import', or give the OAuth client's client_secret.json.",
    ),
    (
        "token-json",
        TOKEN_JSON,
        "/home/ann/creds.json is a saved token (a quickstart token.json), not an OAuth client.",
        "Adopt it with 'gtoken import', or give the OAuth client's client_secret.json.",
    ),
    (
        "token-only",
        {"token": "x"},
        "/home/ann/creds.json is a saved token (a quickstart token.json), not an OAuth client.",
        "Adopt it with 'gtoken import', or give the OAuth client's client_secret.json.",
    ),
    (
        "refresh-token-only",
        {"refresh_token": "x"},
        "/home/ann/creds.json is a saved token (a quickstart token.json), not an OAuth client.",
        "Adopt it with 'gtoken import', or give the OAuth client's client_secret.json.",
    ),
    (
        "both",
        {**INSTALLED, **WEB},
        (
            "/home/ann/creds.json has both an 'installed' and a 'web' section; a client is one "
            "or the other."
        ),
        DOWNLOAD,
    ),
    (
        "no-section",
        {"other": {}},
        (
            "/home/ann/creds.json has no 'installed' or 'web' section: it is not an OAuth "
            "client file."
        ),
        DOWNLOAD,
    ),
    (
        "section-not-object",
        {"installed": "x"},
        "/home/ann/creds.json has an 'installed' that is not an object.",
        DOWNLOAD,
    ),
    (
        "no-client-id",
        installed_with(client_id=None),
        "/home/ann/creds.json lacks installed.client_id.",
        DOWNLOAD,
    ),
    (
        "empty-client-id",
        installed_with(client_id=""),
        "/home/ann/creds.json has an empty or non-text installed.client_id.",
        DOWNLOAD,
    ),
    (
        "spaces",
        installed_with(client_id=f" {CLIENT_ID}"),
        "/home/ann/creds.json has spaces around installed.client_id.",
        "Remove them. " + DOWNLOAD,
    ),
    (
        "no-secret",
        installed_with(client_secret=None),
        "/home/ann/creds.json lacks installed.client_secret.",
        DOWNLOAD,
    ),
    (
        "redirects-not-list",
        installed_with(redirect_uris="http://localhost"),
        "/home/ann/creds.json has installed.redirect_uris that is not a list of URLs.",
        DOWNLOAD,
    ),
    (
        "redirects-not-text",
        installed_with(redirect_uris=["http://localhost", 5]),
        "/home/ann/creds.json has installed.redirect_uris that is not a list of URLs.",
        DOWNLOAD,
    ),
    (
        "token-uri-no-scheme",
        installed_with(token_uri="oauth2.googleapis.com/token"),
        (
            "/home/ann/creds.json has installed.token_uri 'oauth2.googleapis.com/token', which "
            "is not an http(s) URL."
        ),
        "Use the https address the OAuth server documents. " + DOWNLOAD,
    ),
    (
        "token-uri-no-host",
        installed_with(token_uri="https:///token"),
        (
            "/home/ann/creds.json has installed.token_uri 'https:///token', which is not an "
            "http(s) URL."
        ),
        "Use the https address the OAuth server documents. " + DOWNLOAD,
    ),
    (
        "auth-uri-ftp",
        installed_with(auth_uri="ftp://accounts.google.com/"),
        (
            "/home/ann/creds.json has installed.auth_uri 'ftp://accounts.google.com/', which is "
            "not an http(s) URL."
        ),
        "Use the https address the OAuth server documents. " + DOWNLOAD,
    ),
    (
        "auth-uri-not-text",
        installed_with(auth_uri=["x"]),
        "/home/ann/creds.json has a non-text installed.auth_uri.",
        DOWNLOAD,
    ),
    (
        "project-not-text",
        installed_with(project_id=7),
        "/home/ann/creds.json has a non-text installed.project_id.",
        DOWNLOAD,
    ),
    (
        "not-json",
        '{"installed": ',
        "/home/ann/creds.json is not JSON (line 1, column 15).",
        DOWNLOAD,
    ),
    (
        "not-utf8",
        b"\xff\xfe\x00",
        "/home/ann/creds.json is not JSON (not even UTF-8 text).",
        DOWNLOAD,
    ),
    (
        "json-list",
        "[1, 2]",
        "/home/ann/creds.json is JSON but not an object with an 'installed' or 'web' section.",
        DOWNLOAD,
    ),
]


@pytest.mark.parametrize(
    ("given", "message", "hint"),
    [case[1:] for case in WRONG_FILES],
    ids=[case[0] for case in WRONG_FILES],
)
def test_every_wrong_file_word_for_word(given: Any, message: str, hint: str) -> None:
    text = given if isinstance(given, str | bytes) else json.dumps(given)
    with pytest.raises(ConfigError) as info:
        ClientSecrets.from_json(text, source="/home/ann/creds.json")
    assert (info.value.message, info.value.hint) == (message, hint)


def test_misuse_word_for_word() -> None:
    with pytest.raises(ValueError, match=r"^client_id and client_secret must not be empty$"):
        ClientSecrets(kind="web", client_id="a", client_secret="")
    with pytest.raises(ValueError, match=r"^kind is 'installed' or 'web', not 'other'$"):
        ClientSecrets(kind="other", client_id="a", client_secret="b")  # type: ignore[arg-type]
    with pytest.raises(
        TypeError, match=r"^client secrets are JSON text or a mapping, not <class 'int'>$"
    ):
        ClientSecrets.from_json(42)  # type: ignore[arg-type]


def test_the_default_source_is_named_client_secret_json() -> None:
    with pytest.raises(ConfigError) as info:
        ClientSecrets.from_json("{}")
    assert info.value.message.startswith("client_secret.json has no 'installed' or 'web' section")


@pytest.mark.parametrize(
    "base", ["http://127.0.0.1:8089", "http://127.5.6.7", "http://[::1]:9", "http://localhost:1"]
)
def test_plain_http_is_accepted_for_this_machine_only(base: str) -> None:
    client = ClientSecrets.from_json(
        json.dumps(installed_with(auth_uri=f"{base}/auth", token_uri=f"{base}/token"))
    )
    assert client.token_uri == f"{base}/token"
