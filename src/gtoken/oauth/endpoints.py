"""Google's OAuth 2.0 endpoints. ``client_secret.json`` names its own auth and token URIs, which
win; these are the defaults and the endpoints that file does not name. Also what any endpoint
must be: https, or plain http to this machine only."""

from __future__ import annotations

import ipaddress
from typing import Final
from urllib.parse import urlsplit

__all__ = [
    "AUTH_URI",
    "DEVICE_URI",
    "ISSUER",
    "ISSUERS",
    "REVOKE_URI",
    "TOKENINFO_URI",
    "TOKEN_HOSTS",
    "TOKEN_URI",
    "USERINFO_URI",
    "is_loopback",
    "url_problem",
]

AUTH_URI: Final = "https://accounts.google.com/o/oauth2/v2/auth"
TOKEN_URI: Final = "https://oauth2.googleapis.com/token"
DEVICE_URI: Final = "https://oauth2.googleapis.com/device/code"
REVOKE_URI: Final = "https://oauth2.googleapis.com/revoke"
TOKENINFO_URI: Final = "https://oauth2.googleapis.com/tokeninfo"
USERINFO_URI: Final = "https://openidconnect.googleapis.com/v1/userinfo"
ISSUER: Final = "https://accounts.google.com"

#: The ``iss`` values of Google's ID tokens.
ISSUERS: Final = frozenset({ISSUER, "accounts.google.com"})
#: The hosts of Google's token endpoints, old and new.
TOKEN_HOSTS: Final = frozenset(
    {"oauth2.googleapis.com", "accounts.google.com", "www.googleapis.com"}
)

_LOOPBACK_NAMES: Final = frozenset({"localhost", "localhost."})


def is_loopback(host: str | None) -> bool:
    """Whether ``host`` (a URL's hostname) is this machine: ``localhost``, 127.0.0.0/8, ``::1``."""
    if not host:
        return False
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url_problem(url: str) -> str | None:
    """Why ``url`` may not be an OAuth endpoint (it gets secrets and codes), or None.

    https is required, except for loopback hosts, where plain http never leaves the machine."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return "is not an http(s) URL"
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        return (
            f"uses plain http to {parts.hostname}, so secrets and codes would cross the network "
            "unencrypted (http is allowed only for this machine: 127.0.0.1, ::1, localhost)"
        )
    return None
