"""What Google says about an access token: its tokeninfo endpoint.

:func:`parse_tokeninfo` reads Google's answer without I/O; :func:`tokeninfo` asks the
account's issuer about its current token (``GTOKEN_EMULATOR_HOST`` applies). The
token goes in a form POST, never in a URL that a proxy or server log would keep.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from gtoken.errors import ProtocolError
from gtoken.oauth import scopes as _scopes
from gtoken.oauth.error_bodies import ErrorContext, error_from_response

if TYPE_CHECKING:
    from gtoken.accounts import Accounts

__all__ = ["TokenInfo", "parse_tokeninfo", "tokeninfo"]


@dataclass(frozen=True, kw_only=True)
class TokenInfo:
    """Google's view of an access token. ``client_id`` is the client it was issued to (``azp``);
    ``scopes`` are canonical; ``email`` is there when the token has the email scope."""

    client_id: str | None
    scopes: frozenset[str]
    expires_at: datetime | None
    email: str | None = None
    sub: str | None = None
    access_type: str | None = None


def parse_tokeninfo(
    status: int, headers: Mapping[str, str], body: bytes | str, *, now: datetime
) -> TokenInfo:
    """Google's tokeninfo answer as a :class:`TokenInfo`, or the error it says (an expired,
    revoked or unknown token is :class:`~gtoken.errors.InvalidToken`)."""
    if not 200 <= status < 300:
        raise error_from_response(status, body, context=ErrorContext(request="tokeninfo"))
    try:
        data: Any = json.loads(body)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise ProtocolError(f"Google's tokeninfo answer (HTTP {status}) is not a JSON object.")
    return TokenInfo(
        client_id=_text(data, "azp") or _text(data, "aud"),
        scopes=_scopes.normalize(_scopes.from_google(_text(data, "scope") or "")),
        expires_at=_expiry(data, now),
        email=_text(data, "email"),
        sub=_text(data, "sub"),
        access_type=_text(data, "access_type"),
    )


def tokeninfo(accounts: Accounts, account: str | None = None) -> TokenInfo:
    """Ask the issuer about ``account``'s current access token (refreshed first if it is
    expiring). Raises ConfigError for an account whose issuer has no tokeninfo (only Google's
    protocol has one)."""
    record = accounts.find(account)
    url = accounts.issuers.of(record.token_uri).endpoint(
        "tokeninfo", to=f"ask about the token of {record.email or record.id}"
    )
    token = accounts.token(record.id)
    response = accounts.refresher.transport().request(
        "POST",
        url,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
        content=urlencode({"access_token": token.access_token}).encode("ascii"),
    )
    now = datetime.fromtimestamp(accounts.clock(), UTC)
    return parse_tokeninfo(response.status, response.headers, response.body, now=now)


def _text(data: Mapping[str, Any], name: str) -> str | None:
    value = data.get(name)
    return value if isinstance(value, str) and value else None


def _expiry(data: Mapping[str, Any], now: datetime) -> datetime | None:
    # Google sends both as strings of digits; exp is absolute, so it wins.
    for name in ("exp", "expires_in"):
        value = data.get(name)
        if isinstance(value, int | str) and str(value).isdigit():
            seconds = int(value)
            if name == "exp":
                return datetime.fromtimestamp(seconds, UTC)
            return now + timedelta(seconds=seconds)
    return None
