"""Realistic values shared by the oauth tests: secrets shaped like Google's, never real ones."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

from gtoken.oauth import ClientSecrets

CLIENT_ID = "123456789012-abcdefghijklmnopqrstuvwxyz012345.apps.googleusercontent.com"
CLIENT_SECRET = "GOCSPX-AbCdEf1234567890GhIjKlMnOp"
ACCESS_TOKEN = "ya29.a0AfB_byC1x2Y3z4ExampleAccessTokenValue0123456789"
REFRESH_TOKEN = "1//0gExampleRefreshTokenValue-AbC123_xyz"
NEW_REFRESH_TOKEN = "1//0gAnotherRefreshToken-ZyX987_abcDEF"
CODE = "4/0AeaYSHBExampleAuthorizationCode_abc-123XYZ"
VERIFIER = "dBjftJeZ4CVP-mJ92K9qpgxD8GhB2eLxaMW6HOBvL8Nw"
DEVICE_CODE = "AH-1Ng3ExampleDeviceCodeValue_9xYzAbC0123"

#: Every secret above: none may appear in a repr, a str or an error message.
SECRETS = (
    CLIENT_SECRET,
    ACCESS_TOKEN,
    REFRESH_TOKEN,
    NEW_REFRESH_TOKEN,
    CODE,
    VERIFIER,
    DEVICE_CODE,
)

NOW = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)
GMAIL_READONLY = "https://www.googleapis.com/auth/gmail.readonly"
DRIVE_FILE = "https://www.googleapis.com/auth/drive.file"
EMAIL_URL = "https://www.googleapis.com/auth/userinfo.email"
PROFILE_URL = "https://www.googleapis.com/auth/userinfo.profile"

INSTALLED: dict[str, Any] = {
    "installed": {
        "client_id": CLIENT_ID,
        "project_id": "quickstart-1234567890123",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": "https://oauth2.googleapis.com/token",
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "client_secret": CLIENT_SECRET,
        "redirect_uris": ["http://localhost"],
    }
}


def client(**section: Any) -> ClientSecrets:
    """An installed client, with ``section`` fields replaced."""
    return ClientSecrets.from_json({"installed": {**INSTALLED["installed"], **section}})


def jwt(claims: dict[str, Any]) -> str:
    """An unsigned-looking JWT with these claims (the signature is not checked)."""

    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256', 'kid': 'k1', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, f"a secret leaked into: {text}"
