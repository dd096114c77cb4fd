"""Google's OAuth 2.0 endpoints. ``client_secret.json`` names its own auth and token URIs, which
win; these are the defaults and the endpoints that file does not name."""

from __future__ import annotations

from typing import Final

__all__ = ["AUTH_URI", "DEVICE_URI", "ISSUER", "REVOKE_URI", "TOKENINFO_URI", "TOKEN_URI"]

AUTH_URI: Final = "https://accounts.google.com/o/oauth2/v2/auth"
TOKEN_URI: Final = "https://oauth2.googleapis.com/token"
DEVICE_URI: Final = "https://oauth2.googleapis.com/device/code"
REVOKE_URI: Final = "https://oauth2.googleapis.com/revoke"
TOKENINFO_URI: Final = "https://oauth2.googleapis.com/tokeninfo"
ISSUER: Final = "https://accounts.google.com"
