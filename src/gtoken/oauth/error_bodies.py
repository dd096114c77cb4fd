"""Google's error bodies, read into gtoken's error tree (:mod:`gtoken.errors`).

One table maps Google's ``error`` code to a class; the context of the request (which grant, which
scopes, the refresh token's time limit) chooses the hint and, for ``invalid_grant``, the likely
causes among the reasons Google documents for a refresh token to stop working.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Final, Literal, NamedTuple

from gtoken.errors import (
    AuthorizationPending,
    DeviceAccessDenied,
    DeviceCodeExpired,
    InvalidClient,
    InvalidGrant,
    InvalidRequest,
    InvalidScope,
    InvalidToken,
    OAuthError,
    RedirectUriMismatch,
    ServerError,
    SlowDown,
    UnauthorizedClient,
)
from gtoken.oauth.causes import likely_causes
from gtoken.redact import redact

__all__ = [
    "ERROR_CLASSES",
    "ErrorContext",
    "RequestKind",
    "error_from_response",
]

#: Which request Google was answering.
RequestKind = Literal[
    "authorization_code",
    "refresh_token",
    "jwt_bearer",
    "device_code",
    "device_authorization",
    "revoke",
    "tokeninfo",
]


@dataclass(frozen=True, kw_only=True)
class ErrorContext:
    """What was asked when Google answered with an error; chooses hints and likely causes.

    ``scopes`` are the scopes of the token concerned; ``refresh_token_expires_at`` is its refresh
    token's time limit when Google gave one (``None``: none known); ``now`` is the current time.
    """

    request: RequestKind | None = None
    scopes: frozenset[str] = frozenset()
    refresh_token_expires_at: datetime | None = None
    now: datetime | None = None


#: Google's ``error`` codes and the classes they become. Codes not listed become
#: :class:`ServerError` for HTTP 5xx, 408 and 429, and :class:`OAuthError` otherwise.
ERROR_CLASSES: Final[Mapping[str, type[OAuthError]]] = MappingProxyType(
    {
        "invalid_grant": InvalidGrant,
        "admin_policy_enforced": InvalidGrant,
        "invalid_client": InvalidClient,
        "deleted_client": InvalidClient,
        "unauthorized_client": UnauthorizedClient,
        "invalid_scope": InvalidScope,
        "invalid_request": InvalidRequest,
        "redirect_uri_mismatch": RedirectUriMismatch,
        "invalid_token": InvalidToken,
        "authorization_pending": AuthorizationPending,
        "slow_down": SlowDown,
        "access_denied": DeviceAccessDenied,
        "expired_token": DeviceCodeExpired,
        "server_error": ServerError,
        "temporarily_unavailable": ServerError,
        "internal_failure": ServerError,
    }
)

_RETRYABLE_STATUS: Final = frozenset({408, 429})
_CODE = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_MAX_DESCRIPTION = 300


class _Body(NamedTuple):
    error: str | None
    description: str | None
    subtype: str | None
    shape: str  # how the body looked, for the message when it carried no error


def error_from_response(
    status: int, body: bytes | str, *, context: ErrorContext | None = None
) -> OAuthError:
    """The error for Google's answer ``status``/``body``: JSON error bodies, Google API error
    bodies and non-JSON bodies (an HTML 502 page) alike. Never includes a secret in the message.
    """
    context = context or ErrorContext()
    parsed = _read(body)
    cls = ERROR_CLASSES.get(parsed.error or "")
    if cls is None:
        retryable = status >= 500 or status in _RETRYABLE_STATUS
        cls = ServerError if retryable else OAuthError
    summary, hint = _summary_and_hint(cls, parsed, context)
    message = f"{summary} {_what_google_said(status, parsed)}"
    if cls is InvalidGrant:
        causes = likely_causes(parsed.error, parsed.description, parsed.subtype, context)
        listed = "; ".join(f"({n}) {cause}" for n, cause in enumerate(causes, 1))
        return InvalidGrant(
            f"{message} Likely causes: {listed}.",
            error=parsed.error,
            description=parsed.description,
            status=status,
            subtype=parsed.subtype,
            hint=hint,
            likely_causes=causes,
        )
    return cls(
        message,
        error=parsed.error,
        description=parsed.description,
        status=status,
        subtype=parsed.subtype,
        hint=hint,
    )


def _read(body: bytes | str) -> _Body:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        if not text.strip():
            return _Body(None, None, None, "an empty body")
        page = "an HTML page" if text.lstrip().startswith("<") else "a non-JSON body"
        return _Body(None, None, None, f"{page} ({len(body)} bytes)")
    if not isinstance(data, dict):
        return _Body(None, None, None, "a JSON body that is not an object")
    error, description = data.get("error"), data.get("error_description")
    if isinstance(error, dict):  # Google APIs' {"error": {"code", "message", "status"}}
        description = error.get("message")
        error = error.get("status")
    return _Body(
        _code(error),
        _text(description),
        _code(data.get("error_subtype")),
        "a JSON body without an error code",
    )


def _code(value: object) -> str | None:
    """Google's code when it looks like one (and like no secret), else None."""
    if isinstance(value, str) and _CODE.fullmatch(value) and redact(value) == value:
        return value
    return None


def _text(value: object) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    text = redact(" ".join(value.split()))
    return text if len(text) <= _MAX_DESCRIPTION else text[: _MAX_DESCRIPTION - 1] + "…"


def _what_google_said(status: int, body: _Body) -> str:
    if body.error is None:
        return f"Google answered HTTP {status} with {body.shape}."
    said = f"Google answered HTTP {status}, {body.error}"
    if body.subtype:
        said += f" ({body.subtype})"
    if body.description:
        said += f": {body.description.rstrip('.')}"
    return said + "."


def _summary_and_hint(
    cls: type[OAuthError], body: _Body, context: ErrorContext
) -> tuple[str, str | None]:
    """The class's summary and hint, adjusted to the request where that says more."""
    description = body.description or ""
    if cls is InvalidGrant:
        return _GRANT_SUMMARY.get(context.request, cls.summary), _grant_hint(body, context)
    if cls is UnauthorizedClient and context.request == "jwt_bearer":
        return cls.summary, (
            "In the Google Workspace Admin console (Security > API controls > Domain-wide "
            "delegation), allow this service account's client id for these exact scopes."
        )
    if cls is InvalidScope and (
        context.request == "device_authorization" or "device flow" in description
    ):
        return cls.summary, (
            "The device flow allows only openid, email, profile, drive.appdata, drive.file, "
            "youtube and youtube.readonly; sign in with the browser flow instead."
        )
    if cls is InvalidRequest and "client_secret" in description:
        return cls.summary, "Use client_secret.json as downloaded, with its client_secret."
    if cls is InvalidToken and context.request == "revoke":
        return "Google says the token is already revoked or expired.", "Nothing more to revoke."
    return cls.summary, None


_GRANT_SUMMARY: Final[Mapping[RequestKind | None, str]] = {
    "authorization_code": "Google refused the authorization code.",
    "refresh_token": "Google refused the refresh token: the account needs consent again.",
    None: "Google refused the refresh token: the account needs consent again.",
    "jwt_bearer": "Google refused the service account's signed assertion (JWT).",
    "device_code": "Google refused the device code.",
}


def _grant_hint(body: _Body, context: ErrorContext) -> str | None:
    if body.error == "admin_policy_enforced":
        return "Ask the Google Workspace administrator to allow this app, then sign in again."
    if context.request == "authorization_code":
        return "Start the login again: a code works once, within minutes, for its own login."
    if context.request == "jwt_bearer":
        return "Check the service account, its key file and this machine's clock, then retry."
    if context.request == "device_code":
        return "Start the device sign-in again."
    return None
