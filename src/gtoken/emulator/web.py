"""Reading requests strictly and writing answers in Google's shapes."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from gtoken.emulator import pages
from gtoken.emulator.errors import PageError, TokenError, bad_request
from gtoken.emulator.model import World

MAX_FIELDS = 200
NO_STORE = {"Cache-Control": "no-cache, no-store, max-age=0, must-revalidate", "Pragma": "no-cache"}


def parse_pairs(raw: bytes | str) -> list[tuple[str, str]]:
    """``a=1&b=2`` as pairs; a 400 for bytes that are not UTF-8 or too many fields."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        return parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise bad_request("Invalid request: the parameters are not valid form encoding.") from None


def single(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """One value per name, as Google insists: a repeated parameter is a 400."""
    out: dict[str, str] = {}
    for name, value in pairs:
        if name in out:
            raise bad_request(f"Parameter not allowed to be repeated: {name}")
        out[name] = value
    return out


def query(request: Request) -> dict[str, str]:
    return single(parse_pairs(request.scope.get("query_string", b"")))


async def body(request: Request, world: World) -> bytes:
    limit = world.config.max_body_bytes
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise TokenError(413, "invalid_request", f"Request body larger than {limit} bytes.")
    data = bytearray()
    try:
        async for chunk in request.stream():
            data += chunk
            if len(data) > limit:
                raise TokenError(413, "invalid_request", f"Request body larger than {limit} bytes.")
    except ClientDisconnect:
        # The client went away mid-body (a killed process): an answer nobody will read.
        raise bad_request("The client disconnected before sending the whole body.") from None
    return bytes(data)


async def form(request: Request, world: World) -> dict[str, str]:
    """A token-endpoint style body: form-encoded (or a flat JSON object, which Google accepts)."""
    raw = await body(request, world)
    if request.headers.get("content-type", "").startswith("application/json"):
        return _json_form(raw)
    return single(parse_pairs(raw))


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _loads(raw: bytes) -> Any:
    """Strict JSON: no ``NaN``/``Infinity``; nesting too deep for the parser is an error too."""
    try:
        return json.loads(raw, parse_constant=_refuse_constant)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def _json_form(raw: bytes) -> dict[str, str]:
    try:
        data = _loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise bad_request("Invalid JSON payload received.") from None
    if not isinstance(data, dict) or not all(
        isinstance(v, str | int) and not isinstance(v, bool) for v in data.values()
    ):
        raise bad_request("Invalid JSON payload received: expected an object of strings.")
    return {str(k): str(v) for k, v in data.items()}


async def json_object(request: Request, world: World) -> dict[str, Any]:
    """A control-API body: a JSON object (an empty body counts as ``{}``)."""
    raw = await body(request, world)
    if not raw.strip():
        return {}
    try:
        data = _loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise bad_request("The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise bad_request("The body must be a JSON object.")
    return data


def is_email(text: str) -> bool:
    """Plausible as an email address: an ``@``, no spaces, at most 254 characters."""
    return "@" in text and len(text) <= 254 and not any(c.isspace() for c in text)


def basic_auth(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization")
    if header is None or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise bad_request("Malformed HTTP Basic credentials.") from None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise bad_request("Malformed HTTP Basic credentials.")
    return unquote_plus(client_id), unquote_plus(secret)


def base_url(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def ok(data: Mapping[str, Any], status: int = 200, *, no_store: bool = False) -> JSONResponse:
    return JSONResponse(dict(data), status_code=status, headers=NO_STORE if no_store else None)


def token_error(error: TokenError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status, headers=NO_STORE)


def page_error(error: PageError) -> HTMLResponse:
    return HTMLResponse(pages.error_page(error), status_code=error.status)


def api_error(
    status: int,
    message: str,
    status_name: str,
    *,
    reason: str = "",
    headers: Mapping[str, str] | None = None,
    errors: list[dict[str, str]] | None = None,
    details: list[dict[str, Any]] | None = None,
) -> JSONResponse:
    """The error body of Google's JSON APIs (Gmail, Drive, Sheets, userinfo v2)."""
    error: dict[str, Any] = {"code": status, "message": message}
    if errors is None and reason:
        errors = [{"message": message, "domain": "global", "reason": reason}]
    if errors:
        error["errors"] = errors
    error["status"] = status_name
    if details:
        error["details"] = details
    return JSONResponse({"error": error}, status_code=status, headers=headers)


def empty(status: int = 200) -> Response:
    return Response(b"", status_code=status, media_type="application/json")
