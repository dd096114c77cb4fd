"""The JWT a service account signs to ask for an access token (RFC 7523, as Google documents it).

Header ``{"alg": "RS256", "typ": "JWT", "kid": private_key_id}``; claims ``iss`` (the service
account's email), ``scope``, ``aud`` (Google's token endpoint), ``iat`` (now), ``exp`` (an hour
later: Google's maximum) and, for domain-wide delegation, ``sub`` (the user to act as).
No I/O: the time is handed in.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from typing import Any, Final

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from gtoken.errors import ConfigError
from gtoken.oauth import scopes as _scopes
from gtoken.oauth.endpoints import TOKEN_URI
from gtoken.service_accounts.keys import ServiceAccountKey

__all__ = ["LIFETIME", "sign_assertion"]

#: Seconds from ``iat`` to ``exp``: Google accepts at most an hour.
LIFETIME: Final = 3600


def sign_assertion(
    key: ServiceAccountKey,
    *,
    scopes: Iterable[str],
    now: float,
    subject: str | None = None,
    audience: str = TOKEN_URI,
) -> str:
    """The signed JWT bearer assertion for ``scopes``, acting as ``subject`` when given.

    ``audience`` is Google's token endpoint, which Google (and the emulator) accept whatever the
    key file's ``token_uri``. Raises ValueError for no scopes, ConfigError for a private key that
    is not a usable RSA key."""
    scope = _scopes.to_param(scopes)
    if not scope:
        raise ValueError("a service-account token needs at least one scope")
    issued = int(now)
    claims: dict[str, Any] = {
        "iss": key.client_email,
        "scope": scope,
        "aud": audience,
        "iat": issued,
        "exp": issued + LIFETIME,
    }
    if subject:
        claims["sub"] = subject
    header = {"alg": "RS256", "typ": "JWT", "kid": key.private_key_id}
    signing_input = f"{_b64_json(header)}.{_b64_json(claims)}".encode("ascii")
    signature = _private_key(key).sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input.decode('ascii')}.{_b64(signature)}"


def _private_key(key: ServiceAccountKey) -> rsa.RSAPrivateKey:
    try:
        private = serialization.load_pem_private_key(key.private_key.encode("ascii"), None)
    except (ValueError, TypeError, UnicodeEncodeError):
        private = None
    if not isinstance(private, rsa.RSAPrivateKey):
        # Never the key's text: only that it is unusable, and where it came from.
        raise ConfigError(
            f"the private_key of {key.source} ({key.client_email}, key {key.private_key_id}) "
            "is not a usable unencrypted RSA private key",
            hint="Download a new JSON key for the service account (Google Cloud console > IAM "
            "& Admin > Service Accounts > Keys) and use it unchanged.",
        )
    return private


def _b64_json(value: dict[str, Any]) -> str:
    return _b64(json.dumps(value, separators=(",", ":")).encode("utf-8"))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
