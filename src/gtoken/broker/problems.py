"""Errors as ``application/problem+json`` (RFC 9457): one stable ``type`` per cause, the one
table that turns gtoken's errors into HTTP answers."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any, Final

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from gtoken.broker.links import BadLink, ExpiredLink
from gtoken.broker.records import KeyRefused
from gtoken.broker.service import Forbidden, NotFound, Refused
from gtoken.errors import ConfigError, ConsentRequired, GTokenError, TransientError
from gtoken.redact import redact

__all__ = ["PROBLEM_TYPE", "Failed", "Problem", "answer", "install", "problem"]

log = logging.getLogger("gtoken.broker")
MEDIA: Final = "application/problem+json"
PROBLEM_TYPE: Final = "urn:gtoken:problem:"
RETRY_AFTER: Final = 5


class Problem(BaseModel):
    """An error (RFC 9457). ``type`` is ``urn:gtoken:problem:<cause>``, stable per cause."""

    type: str
    title: str
    status: int
    detail: str
    reconnect_url: str | None = None
    cause: str | None = None
    likely_causes: list[str] | None = None


def problem(
    status: int,
    kind: str,
    title: str,
    detail: str,
    *,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = {"type": PROBLEM_TYPE + kind, "title": title, "status": status, "detail": detail}
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, media_type=MEDIA, headers=dict(headers or {}))


class Failed(Exception):
    """A route's error, on its way to :func:`answer`."""

    def __init__(self, error: Exception) -> None:
        super().__init__(type(error).__name__)
        self.error = error


def detail_of(exc: Exception) -> str:
    """What :func:`answer` would say about ``exc``, for pages and readiness."""
    return str(json.loads(bytes(answer(exc).body))["detail"])


def answer(exc: Exception) -> JSONResponse:
    """The HTTP answer to an error raised by a route."""
    if isinstance(exc, KeyRefused):
        return problem(
            401, "unauthorized", "Unauthorized", str(exc), headers={"WWW-Authenticate": "Bearer"}
        )
    if isinstance(exc, Forbidden):
        return problem(403, "forbidden", "Forbidden", str(exc))
    if isinstance(exc, NotFound):
        return problem(404, "not-found", "Not found", str(exc))
    if isinstance(exc, Refused):
        return problem(400, exc.kind, "Bad request", str(exc))
    if isinstance(exc, ExpiredLink):
        return problem(410, "link-expired", "Link expired", str(exc))
    if isinstance(exc, BadLink):
        return problem(400, "bad-link", "Bad link", str(exc))
    if isinstance(exc, ConsentRequired):
        return problem(
            409,
            "consent-required",
            "Consent required",
            exc.message,
            reconnect_url=exc.url,
            cause=exc.reason,
            likely_causes=list(exc.likely_causes),
        )
    if isinstance(exc, TransientError):
        return problem(
            503,
            "temporarily-unavailable",
            "Temporarily unavailable",
            exc.message,
            headers={"Retry-After": str(RETRY_AFTER)},
        )
    if isinstance(exc, ConfigError):
        return problem(400, "configuration", "Bad request", str(exc))
    if isinstance(exc, GTokenError):
        return problem(502, "google-error", "Google refused", str(exc))
    if isinstance(exc, ValueError | TypeError | UnicodeError):
        return problem(400, "bad-request", "Bad request", redact(str(exc))[:500])
    log.error("unexpected error: %s: %s", type(exc).__name__, redact(str(exc))[:500])
    return problem(500, "internal", "Internal error", "An unexpected error; see the broker's log.")


def install(app: Any) -> None:
    """Answer every error as problem+json."""

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        where = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}"
            for e in exc.errors()[:5]
        )
        return problem(422, "invalid-request", "Invalid request", where)

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        kind = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http")
        return problem(exc.status_code, kind, str(exc.detail), str(exc.detail), headers=exc.headers)

    async def on_failed(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Failed)
        return answer(exc.error)

    app.add_exception_handler(Failed, on_failed)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(HTTPException, on_http)
