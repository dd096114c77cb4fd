"""The emulator as an ASGI application: routes, plus the faults and counters in front of them."""

from __future__ import annotations

import asyncio
import json
import logging

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from gtoken.emulator.apis import routes as api_routes
from gtoken.emulator.endpoints import control, identity, oauth
from gtoken.emulator.model import Fault, World
from gtoken.emulator.web import api_error

API_NAMES = frozenset({"gmail", "drive", "sheets"})
_PREFIXES = (
    ("/o/oauth2/", "authorize"),
    ("/token", "token"),
    ("/device", "device"),
    ("/revoke", "revoke"),
    ("/tokeninfo", "tokeninfo"),
    ("/oauth2/v3/tokeninfo", "tokeninfo"),
    ("/v1/userinfo", "userinfo"),
    ("/oauth2/v2/userinfo", "userinfo"),
    ("/oauth2/v3/userinfo", "userinfo"),
    ("/.well-known/", "discovery"),
    ("/oauth2/v1/certs", "certs"),
    ("/oauth2/v3/certs", "certs"),
    ("/gmail/", "gmail"),
    ("/drive/", "drive"),
    ("/v4/spreadsheets", "sheets"),
)
_DEFAULT_ERRORS = {
    400: "invalid_request",
    401: "invalid_client",
    403: "access_denied",
    408: "request_timeout",
    429: "rate_limit_exceeded",
    500: "internal_failure",
    502: "server_error",
    503: "temporarily_unavailable",
    504: "server_error",
}
_API_STATUS = {
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
DROPPED = "gtoken emulator: connection dropped on purpose (fault injection)"


def endpoint_name(path: str) -> str | None:
    for prefix, name in _PREFIXES:
        if path.startswith(prefix):
            return name
    return None


def _matches(fault: Fault, name: str) -> bool:
    return fault.endpoint in (name, "*") or (fault.endpoint == "api" and name in API_NAMES)


class FaultsAndCounters:
    """Counts API calls and plays injected faults before a request reaches its route."""

    def __init__(self, app: ASGIApp, world: World) -> None:
        self.app = app
        self.world = world

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        name = endpoint_name(scope["path"]) if scope["type"] == "http" else None
        if name is None:
            await self.app(scope, receive, send)
            return
        if name in API_NAMES:
            self.world.count(self.world.stats.api, name)
        fault = self._take(name)
        if fault is None:
            await self.app(scope, receive, send)
            return
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.drop:
            await _drop(send)
        elif fault.status is not None:
            await _fault_response(fault, name)(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    def _take(self, name: str) -> Fault | None:
        for fault in self.world.faults:
            if _matches(fault, name):
                fault.count -= 1
                if fault.count <= 0:
                    self.world.faults.remove(fault)
                return fault
        return None


async def _drop(send: Send) -> None:
    """Promise a body and close the connection before sending it: the client sees a dropped
    connection (``RemoteProtocolError`` in httpx, ``ConnectionError`` in requests)."""
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"4096")]}
    )


def _fault_response(fault: Fault, name: str) -> Response:
    assert fault.status is not None
    headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else None
    if name in API_NAMES:
        body: dict[str, object] = {
            "error": {
                "code": fault.status,
                "message": fault.error or "The service is currently unavailable.",
                "status": _API_STATUS.get(fault.status, "UNKNOWN"),
            }
        }
    else:
        body = {
            "error": fault.error or _DEFAULT_ERRORS.get(fault.status, "server_error"),
            "error_description": "Injected by the gtoken emulator.",
        }
    return JSONResponse(body, status_code=fault.status, headers=headers)


class _QuietDrops(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "without completing response" not in record.getMessage()


async def _no_route(request: Request, exc: Exception) -> Response:
    """An unknown path or a method the path does not take, in the shape of the endpoint asked."""
    assert isinstance(exc, HTTPException)
    path, status = request.url.path, exc.status_code
    if status == 404 and path.startswith("/_emulator/"):
        return control.not_found(request)
    allowed = (exc.headers or {}).get("Allow")
    if status == 405 and allowed:
        message = f"Method {request.method} is not allowed on {path}; use {allowed}."
    elif status == 404:
        message = f"No such endpoint: {request.method} {path}"
    else:
        message = exc.detail
    if endpoint_name(path) in API_NAMES:
        name = "NOT_FOUND" if status == 404 else "INVALID_ARGUMENT"
        return api_error(status, message, name, headers=exc.headers)
    error = "not_found" if status == 404 else "invalid_request"
    return JSONResponse(
        {"error": error, "error_description": message}, status_code=status, headers=exc.headers
    )


async def _unexpected(request: Request, exc: Exception) -> Response:
    # A bug in the emulator, not the caller's fault; say so in Google's words without a traceback.
    logging.getLogger("gtoken.emulator").error(
        "unexpected error on %s", request.url.path, exc_info=exc
    )
    return Response(
        json.dumps(
            {"error": "internal_failure", "error_description": "Internal error encountered."}
        ),
        status_code=500,
        media_type="application/json",
    )


def create_app(world: World | None = None) -> ASGIApp:
    """The emulator's ASGI app over ``world`` (a new, empty one by default)."""
    world = world or World()
    logging.getLogger("uvicorn.error").addFilter(_QuietDrops())
    app = Starlette(
        routes=[
            *oauth.routes(world),
            *identity.routes(world),
            *api_routes.routes(world),
            *control.routes(world),
        ],
        exception_handlers={HTTPException: _no_route, Exception: _unexpected},
    )
    app.state.world = world
    return FaultsAndCounters(app, world)


__all__ = ["JSONResponse", "create_app", "endpoint_name"]
