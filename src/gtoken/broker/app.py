"""The broker's HTTP face: each route parses its request, calls one :class:`Broker` method in a
worker thread (the vault is synchronous), and formats the answer. No rule lives here.

Callers authenticate with ``Authorization: Bearer <API key>``; errors are problem+json
(:mod:`gtoken.broker.problems`).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import html
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Final, Literal, TypeVar

from anyio import to_thread
from fastapi import APIRouter, FastAPI, Path, Query, Request, Security
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from gtoken import __version__
from gtoken.broker import problems
from gtoken.broker.admin import admin_router
from gtoken.broker.metrics import Metrics, RequestMiddleware
from gtoken.broker.records import ApiKey, KeyRefused, Permission
from gtoken.broker.schemas import (
    AuditEntryOut,
    AuditPage,
    ClientIn,
    ClientOut,
    ConnectionOut,
    ConnectionPage,
    ConnectLinkIn,
    ConnectLinkOut,
    TokenIn,
    TokenOut,
    WebhookIn,
    WebhookOut,
)
from gtoken.broker.service import CALLBACK_PATH, Broker, Outcome

__all__ = ["create_app"]

T = TypeVar("T")
Bearer = Annotated[
    HTTPAuthorizationCredentials | None,
    Security(HTTPBearer(auto_error=False, description="an API key: gtoken serve keys create")),
]
UserId = Annotated[str, Path(min_length=1, max_length=512, pattern=r"^[^\x00-\x1f\x7f]+$")]
ClientId = Annotated[
    str | None, Query(min_length=1, max_length=512, pattern=r"^[^\x00-\x1f\x7f]+$")
]
_PROBLEM: Final = {
    problems.MEDIA: {"schema": problems.Problem.model_json_schema(ref_template="{model}")}
}
_ERRORS: Final[dict[int | str, dict[str, Any]]] = {
    code: {"description": what, "content": _PROBLEM}
    for code, what in (
        (400, "bad request"),
        (401, "no API key, or one unknown or revoked"),
        (403, "the API key may not do this"),
        (422, "the request does not match the schema"),
    )
}


def _responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    extra: dict[int, str] = {
        404: "no such connection",
        409: "the user must give consent (again): send them to reconnect_url",
        503: "Google or the database failed for now; try again after Retry-After seconds",
    }
    found = dict(_ERRORS)
    for code in codes:
        found[code] = {"description": extra[code], "content": _PROBLEM}
    return found


def _cursor(text: str | None) -> tuple[str, str] | None:
    if text is None:
        return None
    try:
        user_id, client_id = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        return str(user_id), str(client_id)
    except (ValueError, TypeError, binascii.Error):
        raise ValueError("after= is not a cursor this broker gave") from None


def _next_cursor(connections: list[Any], limit: int) -> str | None:
    if len(connections) < limit:
        return None
    last = connections[-1]
    raw = json.dumps([last.user_id, last.client_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _page(title: str, message: str, *, status: int) -> HTMLResponse:
    body = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title></head><body>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(message)}</p></body></html>"
    )
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


def create_app(broker: Broker, *, metrics: Metrics | None = None, worker: bool = False) -> FastAPI:
    """The ASGI app over ``broker``; ``worker``: run the background worker while it serves."""
    metrics = metrics or Metrics()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from gtoken.broker.worker import Worker

        running = Worker(broker, metrics) if worker else None
        if running is not None:
            running.start()
        try:
            yield
        finally:
            if running is not None:
                await running.stop()

    app = FastAPI(
        lifespan=lifespan,
        title="gtoken broker",
        version=__version__,
        description="Fresh Google access tokens for your services' end users. "
        "The refresh tokens never leave the broker.",
        docs_url=None,
        redoc_url=None,
    )
    problems.install(app)
    app.state.broker = broker
    app.state.metrics = metrics
    broker.vault.on(lambda event: metrics.events.labels(event.kind).inc())

    async def run(
        credentials: HTTPAuthorizationCredentials | None,
        permission: Permission,
        work: Callable[[ApiKey], T],
    ) -> T:
        """``work(key)`` in a worker thread once the API key may do ``permission``; an error
        becomes its problem+json answer (:func:`problems.answer`)."""

        def call() -> T:
            if credentials is None:
                raise KeyRefused("send an API key: Authorization: Bearer gtk_...")
            return work(broker.authorize(credentials.credentials, permission))

        try:
            return await to_thread.run_sync(call)
        except Exception as exc:
            raise problems.Failed(exc) from exc

    v1 = APIRouter(prefix="/v1")

    @v1.post(
        "/connect-links",
        status_code=201,
        responses=_responses(),
        summary="A signed, expiring link that connects an end user's Google account",
    )
    async def create_connect_link(body: ConnectLinkIn, credentials: Bearer) -> ConnectLinkOut:
        def work(key: ApiKey) -> ConnectLinkOut:
            url, expires = broker.connect_link(
                key, body.user_id, body.scopes, body.return_url, body.client_id
            )
            return ConnectLinkOut(url=url, expires_at=datetime.fromtimestamp(expires, UTC))

        return await run(credentials, "connections:manage", work)

    @v1.post(
        "/connections/{user_id}/token",
        responses=_responses(409, 503),
        summary="A fresh access token for the user (refreshed once, whoever asks)",
    )
    async def token(
        user_id: UserId, body: TokenIn, request: Request, credentials: Bearer
    ) -> TokenOut:
        caller = request.client.host if request.client else None

        def work(key: ApiKey) -> TokenOut:
            got = broker.token(
                key,
                user_id,
                scopes=body.scopes,
                min_ttl=body.min_ttl,
                caller=caller,
                client_id=body.client_id,
                return_url=body.return_url,
            )
            return TokenOut(
                access_token=got.access_token,
                expires_at=got.expires_at,
                scopes=sorted(got.scopes),
            )

        answer = await run(credentials, "tokens:read", work)
        metrics.tokens.inc()
        return answer

    @v1.get(
        "/connections/{user_id}",
        responses=_responses(404),
        summary="The user's connection: status, scopes, expiry (never a secret)",
    )
    async def connection(
        user_id: UserId, credentials: Bearer, client_id: ClientId = None
    ) -> ConnectionOut:
        return await run(
            credentials,
            "connections:manage",
            lambda key: ConnectionOut.of(broker.connection(key, user_id, client_id)),
        )

    @v1.get("/connections", responses=_responses(), summary="Connections, by user id, paged")
    async def connections(
        credentials: Bearer,
        status: Literal["active", "needs_consent", "revoked"] | None = None,
        after: Annotated[str | None, Query(max_length=2000)] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        client_id: ClientId = None,
    ) -> ConnectionPage:
        def work(key: ApiKey) -> ConnectionPage:
            found = broker.connections(
                key, status=status, after=_cursor(after), limit=limit, client_id=client_id
            )
            return ConnectionPage(
                connections=[ConnectionOut.of(c) for c in found], next=_next_cursor(found, limit)
            )

        return await run(credentials, "connections:manage", work)

    @v1.delete(
        "/connections/{user_id}",
        status_code=204,
        responses=_responses(404, 503),
        summary="Revoke the user's grant at Google and forget the connection",
    )
    async def delete_connection(
        user_id: UserId, credentials: Bearer, client_id: ClientId = None
    ) -> Response:
        await run(
            credentials,
            "connections:manage",
            lambda key: broker.delete(key, user_id, client_id),
        )
        return Response(status_code=204)

    @v1.post(
        "/clients", status_code=201, responses=_responses(), summary="Register a Google client"
    )
    async def register_client(body: ClientIn, credentials: Bearer) -> ClientOut:
        def work(key: ApiKey) -> ClientOut:
            client = broker.register_client(body.client_secrets, body.return_origins)
            return ClientOut(
                client_id=client.client_id,
                return_origins=sorted(broker.records.origins(client.client_id)),
            )

        return await run(credentials, "admin", work)

    @v1.get("/clients", responses=_responses(), summary="The Google clients the broker keeps")
    async def clients(credentials: Bearer) -> list[ClientOut]:
        def work(key: ApiKey) -> list[ClientOut]:
            return [ClientOut(client_id=c, return_origins=sorted(o)) for c, o in broker.clients()]

        return await run(credentials, "admin", work)

    @v1.get("/audit", responses=_responses(), summary="Tokens handed out, newest first")
    async def audit(
        credentials: Bearer,
        user_id: ClientId = None,
        before: Annotated[int | None, Query(ge=1, le=2**62)] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> AuditPage:
        def work(key: ApiKey) -> AuditPage:
            found = broker.records.audit_log(user_id=user_id, before=before, limit=limit)
            return AuditPage(
                entries=[
                    AuditEntryOut(
                        id=e.id,
                        at=datetime.fromtimestamp(e.at, UTC),
                        key_id=e.key_id,
                        user_id=e.user_id,
                        client_id=e.client_id,
                        scopes=list(e.scopes),
                        caller=e.caller,
                    )
                    for e in found
                ],
                next=found[-1].id if len(found) == limit else None,
            )

        return await run(credentials, "admin", work)

    @v1.post(
        "/webhooks",
        status_code=201,
        responses=_responses(),
        summary="Add a webhook endpoint; its signing secret is shown once",
    )
    async def add_webhook(body: WebhookIn, credentials: Bearer) -> WebhookOut:
        def work(key: ApiKey) -> WebhookOut:
            endpoint, secret = broker.webhooks.add_endpoint(body.url, body.events)
            return WebhookOut(
                id=endpoint.id,
                url=endpoint.url,
                events=sorted(endpoint.events),
                created_at=datetime.fromtimestamp(endpoint.created_at, UTC),
                secret=secret,
            )

        return await run(credentials, "admin", work)

    @v1.get("/webhooks", responses=_responses(), summary="Webhook endpoints")
    async def webhooks(credentials: Bearer) -> list[WebhookOut]:
        def work(key: ApiKey) -> list[WebhookOut]:
            return [
                WebhookOut(
                    id=e.id,
                    url=e.url,
                    events=sorted(e.events),
                    created_at=datetime.fromtimestamp(e.created_at, UTC),
                )
                for e in broker.webhooks.endpoints()
            ]

        return await run(credentials, "admin", work)

    @v1.delete(
        "/webhooks/{endpoint_id}",
        status_code=204,
        responses=_responses(404),
        summary="Remove a webhook endpoint (its undelivered messages are dropped)",
    )
    async def remove_webhook(endpoint_id: UserId, credentials: Bearer) -> Response:
        def work(key: ApiKey) -> None:
            from gtoken.broker.service import NotFound

            if not broker.webhooks.remove_endpoint(endpoint_id):
                raise NotFound(f"no webhook endpoint {endpoint_id!r}")

        await run(credentials, "admin", work)
        return Response(status_code=204)

    app.include_router(v1)
    app.include_router(admin_router(broker))

    # -- the end user's pages -------------------------------------------------------------------

    @app.get(CALLBACK_PATH, include_in_schema=False)
    async def callback(request: Request) -> Response:
        outcome: Outcome = await to_thread.run_sync(broker.finish_consent, str(request.url))
        if outcome.redirect is not None:
            return RedirectResponse(outcome.redirect, status_code=303)
        if outcome.ok:
            return _page("Connected", "Your Google account is connected.", status=200)
        return _page("Not connected", outcome.message, status=400)

    @app.get("/connect/{token}", include_in_schema=False)
    async def connect(token: str) -> Response:
        try:
            url = await to_thread.run_sync(broker.start_consent, token)
        except Exception as exc:
            status = problems.answer(exc).status_code
            return _page("This link cannot be used", problems.detail_of(exc), status=status)
        return RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})

    # -- operations -----------------------------------------------------------------------------

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> Response:
        try:
            await to_thread.run_sync(broker.ready)
        except Exception as exc:
            return problems.problem(503, "not-ready", "Not ready", problems.detail_of(exc))
        return JSONResponse({"status": "ready"})

    @app.get("/metrics", include_in_schema=False)
    async def metrics_page() -> Response:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        text = await to_thread.run_sync(generate_latest, metrics.registry)
        return Response(text, media_type=CONTENT_TYPE_LATEST)

    metrics.watch(broker.gauges)
    app.add_middleware(RequestMiddleware, metrics=metrics)
    return app
