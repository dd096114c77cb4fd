"""Each user of an ASGI site (Starlette) connects their Gmail; the site lists their labels.

The server-side flow with gtoken.aio.Vault: the Vault's methods as coroutines. Set it up as
examples/vault_flask.py, with SESSION_SECRET, then: uvicorn vault_asgi:app
"""

import html
import os

import httpx
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

import gtoken
import gtoken.aio
import gtoken.endpoints

vault = gtoken.aio.Vault(client_secrets="client_secret.json")
SCOPES = ["gmail.readonly"]
# Google's Gmail, or the emulator's when GTOKEN_EMULATOR_HOST is set.
GMAIL = gtoken.endpoints.current().api_endpoint("gmail") or "https://gmail.googleapis.com/"


def user_id(request: Request) -> str:
    if "user_id" not in request.session:
        raise HTTPException(401)
    return str(request.session["user_id"])


async def sign_in(request: Request) -> Response:  # stands in for the site's own sign-in
    request.session["user_id"] = str((await request.form())["user_id"])
    return RedirectResponse("/labels", 303)


async def connect(request: Request) -> Response:
    return RedirectResponse(await vault.authorization_url(user_id(request), scopes=SCOPES))


async def oauth2callback(request: Request) -> Response:
    try:
        await vault.complete(str(request.url), user_id=user_id(request))
    except gtoken.StateError:  # used, expired, forged, or started by another user
        return HTMLResponse('That link has expired. <a href="/connect">Connect Gmail</a>', 400)
    except gtoken.AccessDenied:
        return HTMLResponse('Gmail was not connected. <a href="/connect">Connect Gmail</a>')
    return RedirectResponse("/labels")


async def consent_page(user: str, url: str | None) -> HTMLResponse:
    link = html.escape(url or await vault.authorization_url(user, scopes=SCOPES))
    return HTMLResponse(f'Gmail needs your consent. <a href="{link}">Connect Gmail</a>')


async def labels(request: Request) -> Response:
    user = user_id(request)
    try:
        token = await vault.access_token(user, scopes=SCOPES)
        async with httpx.AsyncClient(base_url=GMAIL) as gmail:
            headers = {"Authorization": f"Bearer {token}"}
            reply = await gmail.get("gmail/v1/users/me/labels", headers=headers)
    except gtoken.ConsentRequired as needed:  # never connected, or the grant is gone
        return await consent_page(user, needed.url)
    except (gtoken.TransientError, httpx.TransportError):  # for a moment; nothing changed
        return HTMLResponse("Google did not answer. Try again in a minute.", 503)
    if reply.status_code == 401:  # a token just handed out, refused: the grant was withdrawn
        return await consent_page(user, None)
    reply.raise_for_status()
    return JSONResponse({"labels": sorted(label["name"] for label in reply.json()["labels"])})


app = Starlette(
    routes=[
        Route("/sign-in", sign_in, methods=["POST"]),
        Route("/connect", connect),
        Route("/oauth2callback", oauth2callback),
        Route("/labels", labels),
    ],
    middleware=[Middleware(SessionMiddleware, secret_key=os.environ["SESSION_SECRET"])],
)
