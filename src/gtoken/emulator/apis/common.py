"""What the three API slices share: who is calling, what they asked, and how a call runs.

Every API route is built by :func:`endpoint`, which does what Google's API front end does before a
method runs: check the bearer token (401) and its scopes (403, with the ``ErrorInfo`` detail and
the ``WWW-Authenticate`` header Google sends), refuse query parameters the method does not know,
and turn every refusal (:class:`ApiError`) into Google's JSON error shape. No request reaches a
traceback.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gtoken.emulator.apis import fields
from gtoken.emulator.apis.api_errors import (
    ApiError,
    bad_value,
    error_item,
    invalid_argument,
    snake,
)
from gtoken.emulator.apis.data import UserData, service_account_data
from gtoken.emulator.endpoints.identity import bearer
from gtoken.emulator.errors import TokenError
from gtoken.emulator.model import AccessToken, World
from gtoken.emulator.web import json_object, ok, parse_pairs

REALM = 'Bearer realm="https://accounts.google.com/"'
_SEE = "See https://developers.google.com/identity/sign-in/web/devconsole-project."
INVALID_CREDENTIALS = (
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie "
    f"or other valid authentication credential. {_SEE}"
)
MISSING_CREDENTIALS = (
    "Request is missing required authentication credential. Expected OAuth 2 access token, login "
    f"cookie or other valid authentication credential. {_SEE}"
)
INSUFFICIENT_SCOPES = "Request had insufficient authentication scopes."
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

#: Parameters every Google API method takes (the "system parameters").
STANDARD_PARAMS = frozenset(
    {
        "alt",
        "fields",
        "prettyPrint",
        "key",
        "quotaUser",
        "userIp",
        "access_token",
        "oauth_token",
        "callback",
        "upload_protocol",
        "uploadType",
        "$.xgafv",
    }
)


@dataclass(frozen=True)
class Method:
    """One API method: its name in Google's errors, the scopes that allow it, its parameters."""

    service: str
    rpc: str
    scopes: frozenset[str]
    params: frozenset[str] = frozenset()
    repeated: frozenset[str] = frozenset()
    #: The handler reads ``fields`` itself (Drive checks it and has per-method defaults).
    own_fields: bool = False
    #: Values of ``alt`` the method takes; ``media`` is a download.
    alts: frozenset[str] = frozenset({"json"})


def error_info(reason: str, method: Method) -> dict[str, Any]:
    return {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": reason,
        "domain": "googleapis.com",
        "metadata": {"service": method.service, "method": method.rpc},
    }


class Params:
    """The query string of one call: one value per name, several for repeatable ones."""

    def __init__(self, pairs: list[tuple[str, str]], method: Method) -> None:
        self._values: dict[str, list[str]] = {}
        known = method.params | method.repeated | STANDARD_PARAMS
        for name, value in pairs:
            if name not in known:
                raise invalid_argument(
                    f'Invalid JSON payload received. Unknown name "{name}": Cannot bind query '
                    f"parameter. Field '{name}' could not be found in request message."
                )
            seen = self._values.setdefault(name, [])
            if seen and name not in method.repeated:
                raise invalid_argument(
                    f"Invalid JSON payload received. Repeated values for field '{snake(name)}'"
                    " are not allowed.",
                    field_name=snake(name),
                )
            seen.append(value)

    def get(self, name: str) -> str | None:
        values = self._values.get(name)
        return values[0] if values else None

    def all(self, name: str) -> list[str]:
        return list(self._values.get(name, []))

    def integer(self, name: str, default: int, *, type_name: str = "TYPE_INT32") -> int:
        raw = self.get(name)
        if raw is None or raw == "":
            return default
        if not re.fullmatch(r"[+-]?\d{1,10}", raw.strip()):
            raise bad_value(name, type_name, raw)
        value = int(raw)
        if type_name == "TYPE_UINT32" and value < 0:
            raise bad_value(name, type_name, raw)
        return value

    def boolean(self, name: str, default: bool) -> bool:
        raw = self.get(name)
        if raw is None or raw == "":
            return default
        lowered = raw.strip().lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
        raise bad_value(name, "TYPE_BOOL", raw)

    def choice(self, name: str, choices: tuple[str, ...], default: str, type_name: str) -> str:
        raw = self.get(name)
        if raw is None or raw == "":
            return default
        if raw not in choices:
            raise bad_value(name, type_name, raw)
        return raw


@dataclass
class Call:
    """One authorized API call, handed to a method's handler."""

    request: Request
    world: World
    token: AccessToken
    params: Params
    path: dict[str, str] = field(default_factory=dict)

    @property
    def data(self) -> UserData:
        """Whose data the call reaches: the user's, or a service account's own (empty) one."""
        if self.token.user is not None:
            return self.token.user.data
        assert self.token.service_account is not None
        return service_account_data(self.token.service_account)

    async def json_body(self) -> dict[str, Any]:
        """The request body as a JSON object (strict JSON, size-limited); empty is ``{}``."""
        try:
            return await json_object(self.request, self.world)
        except TokenError as exc:
            if exc.status == 400:
                raise invalid_argument(
                    f"Invalid JSON payload received. {exc.description}"
                ) from None
            raise ApiError(exc.status, exc.description, "INVALID_ARGUMENT") from None


Handler = Callable[[Call], Awaitable["dict[str, Any] | Response"]]


def check_keys(obj: Mapping[str, Any], allowed: frozenset[str], where: str = "") -> None:
    """Refuse body fields the message does not have, as Google does."""
    for name in obj:
        if name not in allowed:
            at = f" at '{where}'" if where else ""
            raise invalid_argument(
                f'Invalid JSON payload received. Unknown name "{name}"{at}: Cannot find field.'
            )


def _presented(request: Request) -> str:
    """The token the caller sent, if any (bearer header or ``access_token`` parameter)."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        value = request.query_params.get("access_token", "")
    return value.strip()


def authenticate(request: Request, world: World, method: Method) -> AccessToken:
    """The caller's live token with a scope ``method`` accepts, or the 401/403 Google gives."""
    token = bearer(request, world)
    if token is None:
        presented = _presented(request)
        if not presented:
            raise ApiError(
                401,
                MISSING_CREDENTIALS,
                "UNAUTHENTICATED",
                errors=[_header_error("Login Required.", "required")],
                details=[error_info("CREDENTIALS_MISSING", method)],
                headers={"WWW-Authenticate": REALM},
            )
        known = world.access_tokens.get(presented)
        expired = known is not None and not known.revoked and world.now() >= known.expires_at
        raise ApiError(
            401,
            INVALID_CREDENTIALS,
            "UNAUTHENTICATED",
            errors=[_header_error("Invalid Credentials", "authError")],
            details=[
                error_info(
                    "ACCESS_TOKEN_EXPIRED" if expired else "ACCESS_TOKEN_TYPE_UNSUPPORTED", method
                )
            ],
            headers={"WWW-Authenticate": f'{REALM}, error="invalid_token"'},
        )
    if not token.scopes & method.scopes:
        raise insufficient_scopes(method)
    return token


def insufficient_scopes(method: Method) -> ApiError:
    scope_list = " ".join(sorted(method.scopes))
    return ApiError(
        403,
        INSUFFICIENT_SCOPES,
        "PERMISSION_DENIED",
        errors=[error_item("Insufficient Permission", "insufficientPermissions")],
        details=[error_info("ACCESS_TOKEN_SCOPE_INSUFFICIENT", method)],
        headers={"WWW-Authenticate": f'{REALM}, error="insufficient_scope", scope="{scope_list}"'},
    )


def _header_error(message: str, reason: str) -> dict[str, str]:
    return {
        "message": message,
        "domain": "global",
        "reason": reason,
        "location": "Authorization",
        "locationType": "header",
    }


def _apply_fields(result: dict[str, Any], params: Params) -> dict[str, Any]:
    selection = params.get("fields")
    if not selection:
        return result
    try:
        mask = fields.parse(selection)
    except fields.FieldsError as exc:
        raise invalid_argument(f"Invalid field selection {exc.selection}") from None
    masked: dict[str, Any] = fields.apply(mask, result)
    return masked


def endpoint(path: str, world: World, handlers: Mapping[str, tuple[Method, Handler]]) -> Route:
    """A route whose HTTP methods map to API methods; anything else is a JSON 405."""

    async def run(request: Request) -> Response:
        try:
            entry = handlers.get(request.method)
            if entry is None:
                raise ApiError(
                    405,
                    f"Method {request.method} is not allowed here; use {' or '.join(handlers)}.",
                    "UNIMPLEMENTED",
                    headers={"Allow": ", ".join(handlers)},
                )
            method, handler = entry
            token = authenticate(request, world, method)
            params = Params(parse_pairs(request.scope.get("query_string", b"")), method)
            alt = params.get("alt")
            if alt is not None and alt not in method.alts:
                raise bad_value("alt", "type.googleapis.com/google.api.AltType", alt)
            call = Call(request, world, token, params, dict(request.path_params))
            result = await handler(call)
            if isinstance(result, Response):
                return result
            return ok(result if method.own_fields else _apply_fields(result, params))
        except ApiError as exc:
            return exc.response()
        except TokenError as exc:  # the strict query-string and body readers in ``web``
            return ApiError(exc.status, exc.description, "INVALID_ARGUMENT").response()

    return Route(path, run, methods=ALL_METHODS)


def not_found_route(prefix: str) -> Route:
    """Everything else under an API's prefix: Google's 404, in JSON."""

    async def run(request: Request) -> Response:
        return ApiError(
            404, f"Method not found: {request.method} {request.url.path}", "NOT_FOUND"
        ).response()

    return Route(prefix + "{rest:path}", run, methods=ALL_METHODS)
