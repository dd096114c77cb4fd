"""Google's answers to the requests of :mod:`gtoken.oauth.grants`, read into values or errors."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, Literal

from gtoken.errors import InvalidToken, ProtocolError
from gtoken.oauth import scopes as _scopes
from gtoken.oauth.error_bodies import ErrorContext, error_from_response
from gtoken.oauth.token import Token
from gtoken.redact import fingerprint

__all__ = [
    "DEFAULT_LIFETIME",
    "DeviceAuthorization",
    "Grant",
    "parse_device_authorization",
    "parse_revoke_response",
    "parse_token_response",
]

#: The grants whose answer is a token.
Grant = Literal["authorization_code", "refresh_token", "jwt_bearer", "device_code"]

_SECONDS: Final = re.compile(r"\d{1,10}")

#: The lifetime assumed for an access token whose answer has no ``expires_in`` (RFC 6749 5.1
#: makes it optional; Google always sends it): an hour, Google's own.
DEFAULT_LIFETIME: Final = 3600


def parse_token_response(
    status: int,
    headers: Mapping[str, str],
    body: bytes | str,
    *,
    grant: Grant,
    now: datetime,
    requested_scopes: Iterable[str] = (),
    refresh_token_expires_at: datetime | None = None,
) -> Token:
    """The token in Google's answer to a token request, or the error it says.

    Granted scopes are the ``scope`` field as written; only when it is absent are they
    ``requested_scopes`` (for a refresh: the grant's). An answer without ``expires_in`` is taken
    to last :data:`DEFAULT_LIFETIME` seconds; one whose ``token_type`` is not Bearer is refused.
    ``refresh_token_expires_at`` is the time limit of the refresh token being sent, if known,
    which helps name why Google refused it. The answer is returned as Google gave it: which
    refresh token to keep when it carries none is the refresh engine's decision
    (:func:`gtoken.refresh.keep_refresh_token`).
    Raises an :class:`~gtoken.errors.OAuthError` for an error answer and
    :class:`~gtoken.errors.ProtocolError` for an answer that is not a token.
    """
    requested = _scopes.normalize(requested_scopes)
    context = ErrorContext(
        request=grant,
        scopes=requested,
        refresh_token_expires_at=refresh_token_expires_at,
        now=now,
    )
    data = _json_answer(status, headers, body, context, "a token")
    access_token = data.get("access_token")
    if not isinstance(access_token, str) or not access_token:
        raise ProtocolError(f"Google's token answer (HTTP {status}) has no access_token.")
    token_type = data.get("token_type")
    if token_type is not None and (
        not isinstance(token_type, str) or token_type.lower() != "bearer"
    ):
        raise ProtocolError(
            f"The token answer (HTTP {status}) is for a token of type {_type(token_type)}, not "
            "Bearer: gtoken and the clients it serves send tokens as bearer tokens only.",
            hint="Configure the OAuth client at the server for plain bearer tokens (no DPoP or "
            "other proof-of-possession tokens).",
        )
    expires_in = (
        _seconds(data["expires_in"]) if data.get("expires_in") is not None else DEFAULT_LIFETIME
    )
    if expires_in is None:
        raise ProtocolError(
            f"Google's token answer (HTTP {status}) has no usable expires_in "
            f"(got {_shape(data.get('expires_in'))}), so its lifetime is unknown."
        )
    scope_field = data.get("scope")
    if isinstance(scope_field, str) and scope_field.strip():
        granted = _scopes.from_google(scope_field)
    else:
        granted = _scopes.as_sent(requested)
    refresh_token_expires_in = _seconds(data.get("refresh_token_expires_in"))
    if "refresh_token_expires_in" in data and refresh_token_expires_in is None:
        raise ProtocolError("Google's token answer has an unusable refresh_token_expires_in.")
    return Token(
        access_token=access_token,
        expires_at=now + timedelta(seconds=expires_in),
        refresh_token=_optional_str(data, "refresh_token"),
        scopes=granted,
        id_token=_optional_str(data, "id_token"),
        token_type="Bearer",
        refresh_token_expires_at=(
            None
            if refresh_token_expires_in is None
            else now + timedelta(seconds=refresh_token_expires_in)
        ),
    )


@dataclass(frozen=True, kw_only=True)
class DeviceAuthorization:
    """The device flow's start: the code the person types at ``verification_url``."""

    device_code: str
    user_code: str
    verification_url: str
    expires_at: datetime
    interval: int = 5

    def __repr__(self) -> str:
        return (
            f"DeviceAuthorization(device_code={fingerprint(self.device_code)}, "
            f"user_code={self.user_code!r}, verification_url={self.verification_url!r}, "
            f"expires_at={self.expires_at.isoformat()}, interval={self.interval})"
        )

    __str__ = __repr__


def parse_device_authorization(
    status: int,
    headers: Mapping[str, str],
    body: bytes | str,
    *,
    now: datetime,
    requested_scopes: Iterable[str] = (),
) -> DeviceAuthorization:
    """Google's answer to :func:`gtoken.oauth.grants.device_authorization`, or the error it says."""
    context = ErrorContext(
        request="device_authorization", scopes=_scopes.normalize(requested_scopes), now=now
    )
    data = _json_answer(status, headers, body, context, "a device code")
    # Google spells it verification_url; RFC 8628 says verification_uri.
    url = _optional_str(data, "verification_url") or _optional_str(data, "verification_uri")
    device_code, user_code = _optional_str(data, "device_code"), _optional_str(data, "user_code")
    expires_in, interval = _seconds(data.get("expires_in")), _seconds(data.get("interval", 5))
    if not (device_code and user_code and url and expires_in is not None and interval):
        raise ProtocolError(
            "Google's device-code answer lacks device_code, user_code, verification_url, "
            "expires_in or interval."
        )
    return DeviceAuthorization(
        device_code=device_code,
        user_code=user_code,
        verification_url=url,
        expires_at=now + timedelta(seconds=expires_in),
        interval=interval,
    )


def parse_revoke_response(
    status: int, headers: Mapping[str, str], body: bytes | str
) -> Literal["revoked", "already_invalid"]:
    """Google's answer to a revoke request: ``"revoked"``, or ``"already_invalid"`` when the
    token was already revoked, expired or unknown (nothing left to revoke); other errors raise."""
    if 200 <= status < 300:
        return "revoked"
    error = error_from_response(status, body, context=ErrorContext(request="revoke"))
    if isinstance(error, InvalidToken):
        return "already_invalid"
    raise error


def _json_answer(
    status: int,
    headers: Mapping[str, str],
    body: bytes | str,
    context: ErrorContext,
    what: str,
) -> dict[str, Any]:
    """The JSON object of a successful answer; raises the error an unsuccessful one says."""
    if not 200 <= status < 300:
        raise error_from_response(status, body, context=context)
    try:
        data = json.loads(body)
    except ValueError:
        raise ProtocolError(
            f"Google answered HTTP {status} with {_content_type(headers)} instead of {what}."
        ) from None
    if not isinstance(data, dict):
        raise ProtocolError(f"Google answered HTTP {status} with JSON that is not {what}.")
    if "error" in data:
        raise error_from_response(status, body, context=context)
    return data


def _content_type(headers: Mapping[str, str]) -> str:
    for name, value in headers.items():
        if name.lower() == "content-type":
            return f"a non-JSON body ({value.split(';')[0].strip()})"
    return "a non-JSON body"


def _seconds(value: object) -> int | None:
    """A count of seconds from JSON: a non-negative int, or a string of digits."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value >= 0:
        return value
    if isinstance(value, float) and value >= 0 and value.is_integer():
        return int(value)
    if isinstance(value, str) and _SECONDS.fullmatch(value):
        return int(value)
    return None


def _optional_str(data: Mapping[str, Any], name: str) -> str | None:
    value = data.get(name)
    return value if isinstance(value, str) and value else None


def _type(value: object) -> str:
    if isinstance(value, str) and len(value) <= 40 and value.isprintable():
        return repr(value)
    return _shape(value)


def _shape(value: object) -> str:
    return "nothing" if value is None else f"a {type(value).__name__}"
