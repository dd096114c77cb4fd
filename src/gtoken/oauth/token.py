"""Tokens as values: what Google handed out, and when it stops working."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from gtoken.errors import ProtocolError
from gtoken.oauth import scopes as _scopes
from gtoken.redact import fingerprint

__all__ = ["Token", "id_token_claims"]


def _utc(name: str, value: datetime) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} is a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (for example datetime.now(UTC))")
    return value.astimezone(UTC)


def _utc_or_none(name: str, value: datetime | None) -> datetime | None:
    return None if value is None else _utc(name, value)


@dataclass(frozen=True, kw_only=True)
class Token:
    """An access token and what came with it. ``repr`` shows fingerprints, never a secret.

    ``expires_at`` and ``refresh_token_expires_at`` are aware datetimes in UTC (``None``: not
    known, which :meth:`expires_within` treats as expired, and no time limit, respectively);
    ``scopes`` are what the server granted, as it wrote them (compare them with
    :func:`gtoken.oauth.scopes.missing`).
    """

    access_token: str
    expires_at: datetime | None
    refresh_token: str | None = None
    scopes: frozenset[str] = frozenset()
    id_token: str | None = None
    token_type: str = "Bearer"
    refresh_token_expires_at: datetime | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.access_token, str) or not self.access_token:
            raise ValueError("access_token must be a non-empty str")
        object.__setattr__(self, "expires_at", _utc_or_none("expires_at", self.expires_at))
        object.__setattr__(
            self,
            "refresh_token_expires_at",
            _utc_or_none("refresh_token_expires_at", self.refresh_token_expires_at),
        )
        if isinstance(self.scopes, str):
            raise TypeError("scopes is a collection of scope names, not a str")
        object.__setattr__(self, "scopes", _scopes.written(self.scopes))

    def expires_within(self, seconds: float, *, now: datetime) -> bool:
        """Whether the access token is expired, or expires within ``seconds`` of ``now``."""
        deadline = _utc("now", now) + timedelta(seconds=seconds)
        return self.expires_at is None or deadline >= self.expires_at

    def __repr__(self) -> str:
        def shown(secret: str | None) -> str:
            return "None" if secret is None else fingerprint(secret)

        expires = self.expires_at.isoformat() if self.expires_at else None
        return (
            f"Token(access_token={fingerprint(self.access_token)}, expires_at={expires}, "
            f"refresh_token={shown(self.refresh_token)}, scopes={sorted(self.scopes)}, "
            f"id_token={shown(self.id_token)}, token_type={self.token_type!r})"
        )

    __str__ = __repr__


def id_token_claims(id_token: str) -> dict[str, Any]:
    """The claims of an ID token, decoded without checking its signature.

    Only for an ID token received straight from the token endpoint over TLS, which OpenID Connect
    Core 3.1.3.7 lets a client trust without verification. Raises ProtocolError if ``id_token`` is
    not a JWT with a JSON object as payload.
    """
    parts = id_token.split(".") if isinstance(id_token, str) else []
    if len(parts) != 3 or not parts[1]:
        raise ProtocolError(f"The ID token ({fingerprint(str(id_token))}) is not a JWT.")
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeError):
        raise ProtocolError(
            f"The ID token ({fingerprint(id_token)}) has a payload that is not base64url JSON."
        ) from None
    if not isinstance(claims, dict):
        raise ProtocolError(f"The ID token ({fingerprint(id_token)}) payload is not an object.")
    return claims
