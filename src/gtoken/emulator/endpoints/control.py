"""The control API under ``/_emulator/``: set the world up, move its clock, inject faults."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gtoken.emulator import scopes as sc
from gtoken.emulator.errors import TokenError, bad_request
from gtoken.emulator.keys import issue_service_account_key
from gtoken.emulator.model import MAX_SETTING, ConsentMode, Fault, World
from gtoken.emulator.web import base_url, is_email, json_object, ok, token_error

FAULT_ENDPOINTS = frozenset(
    {
        "authorize",
        "token",
        "device",
        "revoke",
        "tokeninfo",
        "userinfo",
        "discovery",
        "certs",
        "gmail",
        "drive",
        "sheets",
        "api",
        "*",
    }
)


def _str(data: dict[str, Any], name: str, default: str | None = None) -> str | None:
    value = data.get(name, default)
    if value is not None and not isinstance(value, str):
        raise bad_request(f"'{name}' must be a string")
    return value


def _choice(data: dict[str, Any], name: str, choices: tuple[str, ...], default: str) -> str:
    value = data.get(name, default)
    if value not in choices:
        raise bad_request(f"'{name}' must be one of {', '.join(choices)}")
    return str(value)


def _str_list(data: dict[str, Any], name: str) -> list[str] | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad_request(f"'{name}' must be a list of strings")
    return value


def _scope_list(data: dict[str, Any], name: str) -> list[str] | None:
    """A list of scopes (short forms allowed); a scope Google would refuse is an error here."""
    words = _str_list(data, name)
    if words is None:
        return None
    unknown = [w for w in words if sc.expand_control([w])[0] not in sc.KNOWN]
    if unknown:
        raise bad_request(f"'{name}' has strings that are not scopes: {', '.join(unknown)}")
    return words


def _number(data: dict[str, Any], name: str, default: float = 0) -> float:
    value = data.get(name, default)
    # ``not 0 <= value`` also refuses NaN, which compares false with everything.
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not 0 <= value <= MAX_SETTING
    ):
        raise bad_request(f"'{name}' must be a number of seconds from 0 to {MAX_SETTING}")
    return float(value)


def _user_or_404(world: World, email: str) -> Any:
    user = world.user(email)
    if user is None:
        raise TokenError(
            404, "not_found", f"No user {email!r}; create it with POST /_emulator/users"
        )
    return user


def routes(world: World) -> list[Route]:
    def handler(fn: Any) -> Any:
        async def run(request: Request) -> Response:
            try:
                result: Response = await fn(request)
            except TokenError as exc:
                return token_error(exc)
            return result

        return run

    async def health(request: Request) -> Response:
        return ok({"status": "ok"})

    async def clients(request: Request) -> Response:
        data = await json_object(request, world)
        client = world.add_client(
            type=_choice(data, "type", ("installed", "web"), "installed"),  # type: ignore[arg-type]
            redirect_uris=_str_list(data, "redirect_uris"),
            publishing_status=_choice(  # type: ignore[arg-type]
                data, "publishing_status", ("production", "testing"), "production"
            ),
            name=_str(data, "name", "gtoken emulator app") or "gtoken emulator app",
            test_users=_str_list(data, "test_users"),
        )
        return ok(client.secrets_json(base_url(request)), 201)

    async def users(request: Request) -> Response:
        if request.method == "GET":
            return ok({"users": [u.public() for u in world.users.values()]})
        data = await json_object(request, world)
        email = _str(data, "email")
        if not email or not is_email(email):
            raise bad_request("'email' must be an email address")
        try:
            user = world.add_user(email, _str(data, "name"))
        except ValueError as exc:
            raise TokenError(409, "already_exists", str(exc)) from None
        return ok(user.public(), 201)

    async def service_accounts(request: Request) -> Response:
        data = await json_object(request, world)
        client_email = _str(data, "client_email")
        if client_email is not None and not is_email(client_email):
            raise bad_request("'client_email' must be an email address")
        delegation_scopes = _scope_list(data, "delegation_scopes") or []
        key = issue_service_account_key()
        try:
            account = world.add_service_account(
                client_email=client_email,
                delegation_scopes=delegation_scopes,
                private_key_id=key.key_id,
                public_key_pem=key.public_pem,
            )
        except ValueError as exc:
            raise TokenError(409, "already_exists", str(exc)) from None
        base = base_url(request)
        return ok(
            {
                "type": "service_account",
                "project_id": account.project_id,
                "private_key_id": key.key_id,
                "private_key": key.private_pem,
                "client_email": account.client_email,
                "client_id": account.client_id,
                "auth_uri": f"{base}/o/oauth2/auth",
                "token_uri": f"{base}/token",
                "auth_provider_x509_cert_url": f"{base}/oauth2/v1/certs",
                "client_x509_cert_url": f"{base}/robot/v1/metadata/x509/{account.client_email}",
                "universe_domain": "googleapis.com",
            },
            201,
        )

    async def consent(request: Request) -> Response:
        data = await json_object(request, world)
        mode = _choice(data, "mode", ("auto", "interactive"), "")
        if mode == "interactive":
            world.consent = ConsentMode()
            return ok({"mode": "interactive"})
        grant = data.get("grant", "all")
        if grant in ("all", "deny"):
            chosen: Any = grant
        elif isinstance(grant, list):
            chosen = frozenset(sc.expand_control(_scope_list(data, "grant") or []))
        else:
            raise bad_request('\'grant\' must be "all", "deny" or a list of scopes')
        world.consent = ConsentMode(mode="auto", email=_str(data, "email"), grant=chosen)
        shown = chosen if isinstance(chosen, str) else sorted(chosen)
        return ok({"mode": "auto", "email": world.consent.email, "grant": shown})

    async def config(request: Request) -> Response:
        if request.method == "POST":
            try:
                world.config.update(await json_object(request, world))
            except ValueError as exc:
                raise bad_request(str(exc)) from None
        return ok({name: getattr(world.config, name) for name in world.config.names()})

    async def clock(request: Request) -> Response:
        if request.method == "POST":
            data = await json_object(request, world)
            if "advance" not in data:
                raise bad_request("'advance' (seconds) is required")
            world.clock.advance(_number(data, "advance"))
        return ok({"now": world.now(), "offset": world.clock.offset})

    async def faults(request: Request) -> Response:
        if request.method == "DELETE":
            world.faults.clear()
        elif request.method == "POST":
            world.faults.append(_fault(await json_object(request, world)))
            return ok({"faults": [vars(f) for f in world.faults]}, 201)
        return ok({"faults": [vars(f) for f in world.faults]})

    async def user_revoke(request: Request) -> Response:
        user = _user_or_404(world, request.path_params["email"])
        return ok({"revoked_grants": world.revoke_user_grants(user)})

    async def user_password_change(request: Request) -> Response:
        user = _user_or_404(world, request.path_params["email"])
        return ok({"revoked_refresh_tokens": world.revoke_user_grants(user, only_gmail=True)})

    async def user_reauth(request: Request) -> Response:
        user = _user_or_404(world, request.path_params["email"])
        user.reauth_required = True
        return ok({"reauth_required": True})

    async def stats(request: Request) -> Response:
        return ok(world.stats.as_json())

    async def issued(request: Request) -> Response:
        # For test suites that check no secret leaks into their logs: every secret handed out.
        return ok(
            {
                "access_tokens": list(world.access_tokens),
                "refresh_tokens": list(world.refresh_tokens),
                "codes": list(world.codes),
                "device_codes": list(world.device_codes),
                "client_secrets": [c.client_secret for c in world.clients.values()],
            }
        )

    async def reset(request: Request) -> Response:
        world.reset()
        return ok({"status": "reset"})

    table: list[tuple[str, Any, list[str]]] = [
        ("/health", health, ["GET"]),
        ("/clients", clients, ["POST"]),
        ("/users", users, ["GET", "POST"]),
        ("/users/{email}/revoke", user_revoke, ["POST"]),
        ("/users/{email}/password-change", user_password_change, ["POST"]),
        ("/users/{email}/require-reauth", user_reauth, ["POST"]),
        ("/service-accounts", service_accounts, ["POST"]),
        ("/consent", consent, ["POST"]),
        ("/config", config, ["GET", "POST"]),
        ("/clock", clock, ["GET", "POST"]),
        ("/faults", faults, ["GET", "POST", "DELETE"]),
        ("/stats", stats, ["GET"]),
        ("/issued", issued, ["GET"]),
        ("/reset", reset, ["POST"]),
    ]
    return [Route("/_emulator" + path, handler(fn), methods=m) for path, fn, m in table]


def _fault(data: dict[str, Any]) -> Fault:
    endpoint = _str(data, "endpoint")
    if endpoint not in FAULT_ENDPOINTS:
        raise bad_request(f"'endpoint' must be one of {', '.join(sorted(FAULT_ENDPOINTS))}")
    status = data.get("status")
    if status is not None and (not isinstance(status, int) or not 400 <= status <= 599):
        raise bad_request("'status' must be an HTTP error status (400-599)")
    count = data.get("count", 1)
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise bad_request("'count' must be a positive whole number")
    drop = data.get("drop", False)
    if not isinstance(drop, bool):
        raise bad_request("'drop' must be true or false")
    delay = _number(data, "delay")
    if status is None and not drop and delay == 0:
        raise bad_request("a fault needs a 'status', a 'delay' or 'drop': true")
    retry_after = data.get("retry_after")
    if retry_after is not None and (
        not isinstance(retry_after, int) or isinstance(retry_after, bool) or retry_after < 0
    ):
        raise bad_request("'retry_after' must be a non-negative whole number of seconds")
    return Fault(
        endpoint=endpoint,
        count=count,
        status=status,
        delay=delay,
        drop=drop,
        retry_after=retry_after,
        error=_str(data, "error"),
    )


def not_found(request: Request) -> JSONResponse:
    return JSONResponse(
        {"error": "not_found", "error_description": f"No such control call: {request.url.path}"},
        status_code=404,
    )
