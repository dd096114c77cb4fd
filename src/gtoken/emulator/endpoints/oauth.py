"""Google's OAuth 2.0 endpoints: authorization (with its consent page), token, device, revoke."""

from __future__ import annotations

import secrets

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from gtoken.emulator import authorization as authz
from gtoken.emulator import grants, pages
from gtoken.emulator import scopes as sc
from gtoken.emulator.errors import PageError, RedirectError, TokenError
from gtoken.emulator.model import AuthRequest, DeviceCode, User, World
from gtoken.emulator.web import (
    base_url,
    basic_auth,
    body,
    empty,
    form,
    is_email,
    ok,
    page_error,
    parse_pairs,
    query,
    single,
    token_error,
)

CONSENT_PATH = "/o/oauth2/consent"
DEVICE_CONSENT_PATH = "/device/consent"


def routes(world: World) -> list[Route]:
    async def authorize(request: Request) -> Response:
        world.count(world.stats.endpoints, "authorize")
        try:
            pairs = parse_pairs(request.scope.get("query_string", b""))
            if request.method == "POST":  # a parameter in both query and body is repeated too
                pairs += parse_pairs(await body(request, world))
            auth = authz.check_request(world, single(pairs))
        except TokenError as exc:  # malformed parameters: Google shows these on its page
            return page_error(PageError(exc.status, exc.error, exc.description))
        except PageError as exc:
            return page_error(exc)
        try:
            target = authz.answer_without_page(world, auth)
        except RedirectError as exc:
            return RedirectResponse(authz.error_redirect(auth, exc), status_code=302)
        except PageError as exc:
            return page_error(exc)
        if target is not None:
            return RedirectResponse(target, status_code=302)
        return _consent_page(world, auth)

    async def consent(request: Request) -> Response:
        try:
            pairs, fields = await _consent_form(request, world)
        except TokenError as exc:
            return page_error(PageError(exc.status, exc.error, exc.description))
        consent_id = fields.get("consent_id", "")
        auth = world.pending.get(consent_id)
        if auth is None or world.now() > auth.created_at + world.config.consent_session_lifetime:
            world.pending.pop(consent_id, None)
            return page_error(_expired_session())
        if fields.get("action") != "allow":
            del world.pending[consent_id]
            return RedirectResponse(
                authz.error_redirect(auth, RedirectError("access_denied")), status_code=302
            )
        try:
            user = _chosen_account(world, fields)
        except PageError as exc:  # the page stays answerable: Back, choose an account, Allow
            return page_error(exc)
        del world.pending[consent_id]
        try:
            chosen = [v for k, v in pairs if k == "scope"] + list(sc.BASIC)
            target = authz.approve(world, auth, user, chosen)
        except RedirectError as exc:
            return RedirectResponse(authz.error_redirect(auth, exc), status_code=302)
        return RedirectResponse(target, status_code=302)

    async def token(request: Request) -> Response:
        try:
            data = await form(request, world)
            answer = grants.token(world, data, basic_auth(request), base_url(request) + "/token")
        except TokenError as exc:
            return token_error(exc)
        return ok(answer, no_store=True)

    async def device_code(request: Request) -> Response:
        try:
            data = await form(request, world)
            answer = grants.device_code(world, data, basic_auth(request), base_url(request))
        except TokenError as exc:
            return token_error(exc)
        return ok(answer, no_store=True)

    async def revoke(request: Request) -> Response:
        try:
            params = query(request)
            if request.method == "POST":
                params.update(await form(request, world))
            grants.revoke(world, params.get("token"))
        except TokenError as exc:
            return token_error(exc)
        return empty()

    async def device_page(request: Request) -> Response:
        if request.method == "GET":
            return HTMLResponse(pages.device_entry_page())
        try:
            fields = single(parse_pairs(await body(request, world)))
        except TokenError as exc:
            return HTMLResponse(pages.device_entry_page(exc.description), status_code=exc.status)
        dc = grants.find_user_code(world, fields.get("user_code", ""))
        if dc is None:
            return HTMLResponse(
                pages.device_entry_page("That code is not valid or has expired. Try again."),
                status_code=400,
            )
        session = secrets.token_urlsafe(24)
        world.pending_devices[session] = dc
        return HTMLResponse(
            pages.consent_page(
                action=DEVICE_CONSENT_PATH,
                session=session,
                app_name=dc.client.name,
                scopes=dc.scopes,
                accounts=[u.email for u in world.users.values()],
                selected=world.consent.email,
            )
        )

    async def device_consent(request: Request) -> Response:
        try:
            pairs, fields = await _consent_form(request, world)
        except TokenError as exc:
            return page_error(PageError(exc.status, exc.error, exc.description))
        consent_id = fields.get("consent_id", "")
        dc: DeviceCode | None = world.pending_devices.get(consent_id)
        if dc is None or dc.status != "pending":
            world.pending_devices.pop(consent_id, None)
            return page_error(_expired_session())
        if fields.get("action") != "allow":
            del world.pending_devices[consent_id]
            dc.status = "denied"
            return HTMLResponse(pages.done_page("You denied access to the device."))
        try:
            user = _chosen_account(world, fields)
        except PageError as exc:  # the page stays answerable: Back, choose an account, Allow
            return page_error(exc)
        del world.pending_devices[consent_id]
        chosen = [v for k, v in pairs if k == "scope"] + list(sc.BASIC)
        grants.approve_device(world, dc, user, chosen)
        return HTMLResponse(pages.done_page("Your device is connected."))

    return [
        Route("/o/oauth2/v2/auth", authorize, methods=["GET", "POST"]),
        Route("/o/oauth2/auth", authorize, methods=["GET", "POST"]),
        Route(CONSENT_PATH, consent, methods=["POST"]),
        Route("/token", token, methods=["POST"]),
        Route("/device/code", device_code, methods=["POST"]),
        Route("/device", device_page, methods=["GET", "POST"]),
        Route(DEVICE_CONSENT_PATH, device_consent, methods=["POST"]),
        Route("/revoke", revoke, methods=["GET", "POST"]),
    ]


async def _consent_form(
    request: Request, world: World
) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """The consent form's pairs, and its fields other than the ``scope`` checkboxes, each once."""
    pairs = parse_pairs(await body(request, world))
    return pairs, single([(k, v) for k, v in pairs if k != "scope"])


def _consent_page(world: World, auth: AuthRequest) -> Response:
    session = secrets.token_urlsafe(24)
    world.pending[session] = auth
    hint = auth.login_hint if auth.login_hint and world.user(auth.login_hint) else None
    users = [u.email for u in world.users.values()]
    return HTMLResponse(
        pages.consent_page(
            action=CONSENT_PATH,
            session=session,
            app_name=auth.client.name,
            scopes=auth.scopes,
            accounts=users,
            selected=hint or (users[0] if len(users) == 1 else None),
        )
    )


def _chosen_account(world: World, fields: dict[str, str]) -> User:
    new = fields.get("new_account", "").strip()
    if new:
        if not is_email(new):
            raise PageError(400, "invalid_request", "Enter an email address such as a@example.com.")
        return world.user(new) or world.add_user(new)
    user = world.user(fields.get("account", ""))
    if user is None:
        raise PageError(400, "invalid_request", "Choose an account to continue.")
    return user


def _expired_session() -> PageError:
    return PageError(
        400,
        "invalid_request",
        "This sign-in session has expired or was used; start again from the app.",
    )
