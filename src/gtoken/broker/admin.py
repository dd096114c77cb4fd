"""The admin page, ``/admin``: server-rendered HTML, no JavaScript.

Login with the admin secret (setting ``admin_secret``) or an API key with the ``admin``
permission. A session is a random cookie (kept as its hash, 8 hours, ``HttpOnly``,
``SameSite=Strict``, ``Secure`` when the broker's public URL is https) with a CSRF token of its
own that every form carries. Pages: connections (search by user id or email; revoke), API keys
(create, shown once; revoke), webhook endpoints and their deliveries, the audit log. Every change
goes through the same :class:`~gtoken.broker.service.Broker` methods as the API.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime
from html import escape
from typing import Final
from urllib.parse import parse_qs, quote

from anyio import to_thread
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gtoken.broker.records import PERMISSIONS, KeyRefused, Session
from gtoken.broker.service import Broker
from gtoken.broker.webhooks import Message
from gtoken.oauth.scopes import AUTH_PREFIX

__all__ = ["admin_router"]

COOKIE: Final = "gtoken_admin"
LOGIN_COOKIE: Final = "gtoken_admin_login"
_HEADERS: Final = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
_STYLE: Final = (
    "body{font-family:system-ui,sans-serif;margin:2rem;max-width:72rem}"
    "table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;"
    "padding:.3rem .5rem;text-align:left;vertical-align:top}nav a{margin-right:1rem}"
    ".needs_consent{color:#a40}.revoked{color:#888}code{font-size:.9em}"
)


def _when(seconds: int | float | None) -> str:
    if seconds is None:
        return ""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _scopes(scopes: Iterable[str]) -> str:
    return " ".join(escape(s.removeprefix(AUTH_PREFIX)) for s in sorted(scopes))


class _Page:
    def __init__(self, title: str, session: Session | None) -> None:
        self.title = title
        self.session = session
        self.parts: list[str] = []

    def add(self, html: str) -> _Page:
        self.parts.append(html)
        return self

    def form(self, action: str, fields: dict[str, str], button: str, extra: str = "") -> str:
        assert self.session is not None
        hidden = "".join(
            f"<input type='hidden' name='{escape(k)}' value='{escape(v)}'>"
            for k, v in {**fields, "csrf": self.session.csrf}.items()
        )
        return (
            f"<form method='post' action='{escape(action)}'>{hidden}{extra}"
            f"<button type='submit'>{escape(button)}</button></form>"
        )

    def response(self, status: int = 200) -> HTMLResponse:
        nav = ""
        if self.session is not None:
            nav = (
                "<nav><a href='/admin'>Connections</a><a href='/admin/keys'>API keys</a>"
                "<a href='/admin/webhooks'>Webhooks</a><a href='/admin/audit'>Audit log</a>"
                + self.form("/admin/logout", {}, "Log out").replace(
                    "<form", "<form style='display:inline'"
                )
                + "</nav>"
            )
        body = (
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>{escape(self.title)} · gtoken broker</title><style>{_STYLE}</style></head>"
            f"<body>{nav}<h1>{escape(self.title)}</h1>{''.join(self.parts)}</body></html>"
        )
        return HTMLResponse(body, status_code=status, headers=_HEADERS)


async def _form(request: Request) -> dict[str, str]:
    body = await request.body()
    if len(body) > 20_000:
        return {}
    parsed = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {k: v[-1] for k, v in parsed.items()}


def admin_router(broker: Broker) -> APIRouter:
    router = APIRouter(prefix="/admin", include_in_schema=False)
    secure = broker.base_url.startswith("https://")

    async def session_of(request: Request) -> Session | None:
        cookie = request.cookies.get(COOKIE)
        if not cookie:
            return None
        return await to_thread.run_sync(broker.records.session, cookie)

    async def checked(request: Request) -> tuple[Session | None, dict[str, str]]:
        """The session, and the form if its CSRF token is the session's."""
        session = await session_of(request)
        form = await _form(request)
        if session is None or not hmac.compare_digest(
            form.get("csrf", "").encode(), session.csrf.encode()
        ):
            return None, {}
        return session, form

    def to_login() -> Response:
        return RedirectResponse("/admin/login", status_code=303, headers=_HEADERS)

    @router.get("/login")
    async def login_page(request: Request, failed: int = 0) -> Response:
        token = secrets.token_urlsafe(24)
        page = _Page("Log in", None)
        if failed:
            page.add("<p role='alert'>That secret or key is not an admin's.</p>")
        if not broker.settings.admin_secret:
            page.add("<p>No admin secret is set: log in with an API key with admin permission.</p>")
        page.add(
            "<form method='post' action='/admin/login'>"
            f"<input type='hidden' name='csrf' value='{token}'>"
            "<label>Admin secret or admin API key "
            "<input type='password' name='secret' autocomplete='current-password' required>"
            "</label> <button type='submit'>Log in</button></form>"
        )
        reply = page.response()
        reply.set_cookie(
            LOGIN_COOKIE, token, httponly=True, samesite="strict", secure=secure, path="/admin"
        )
        return reply

    @router.post("/login")
    async def login(request: Request) -> Response:
        form = await _form(request)
        expected = request.cookies.get(LOGIN_COOKIE, "")
        if not expected or not hmac.compare_digest(form.get("csrf", ""), expected):
            return RedirectResponse("/admin/login?failed=1", status_code=303, headers=_HEADERS)
        secret = form.get("secret", "")
        who = await to_thread.run_sync(_admin, broker, secret)
        if who is None:
            return RedirectResponse("/admin/login?failed=1", status_code=303, headers=_HEADERS)
        cookie, _ = await to_thread.run_sync(broker.records.new_session, who)
        reply = RedirectResponse("/admin", status_code=303, headers=_HEADERS)
        reply.set_cookie(
            COOKIE,
            cookie,
            max_age=8 * 3600,
            httponly=True,
            samesite="strict",
            secure=secure,
            path="/admin",
        )
        reply.delete_cookie(LOGIN_COOKIE, path="/admin")
        return reply

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        session, _ = await checked(request)
        if session is not None:
            await to_thread.run_sync(broker.records.end_session, request.cookies[COOKIE])
        reply = to_login()
        reply.delete_cookie(COOKIE, path="/admin")
        return reply

    @router.get("")
    async def connections(request: Request, q: str = "", done: str = "") -> Response:
        session = await session_of(request)
        if session is None:
            return to_login()
        found = await to_thread.run_sync(lambda: broker.vault.connections(limit=1000))
        wanted = q.strip().lower()
        if wanted:
            found = [
                c
                for c in found
                if wanted in c.user_id.lower() or (c.email and wanted in c.email.lower())
            ]
        page = _Page("Connections", session)
        if done:
            page.add(f"<p role='status'>{escape(done)}</p>")
        page.add(
            "<form method='get' action='/admin'><label>User id or e-mail "
            f"<input type='search' name='q' value='{escape(q)}'></label> "
            "<button type='submit'>Search</button></form>"
        )
        rows = []
        for c in found:
            revoke = page.form(
                "/admin/connections/revoke",
                {"user_id": c.user_id, "client_id": c.client_id},
                "Revoke",
            )
            rows.append(
                f"<tr class='{escape(c.status)}'><td>{escape(c.user_id)}</td>"
                f"<td>{escape(c.email or '')}</td><td class='status'>{escape(c.status)}</td>"
                f"<td>{_scopes(c.scopes)}</td>"
                f"<td>{_when(c.updated_at.timestamp() if c.updated_at else None)}</td>"
                f"<td>{escape(c.status_reason or '')}</td>"
                f"<td><code>{escape(c.client_id)}</code></td><td>{revoke}</td></tr>"
            )
        page.add(
            "<table><thead><tr><th>User id</th><th>E-mail</th><th>Status</th><th>Scopes</th>"
            "<th>Last change</th><th>Last error and likely cause</th><th>Client</th><th></th>"
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        )
        if not rows:
            page.add("<p>No connections.</p>")
        return page.response()

    @router.post("/connections/revoke")
    async def revoke(request: Request) -> Response:
        session, form = await checked(request)
        if session is None:
            return to_login()
        user_id, client_id = form.get("user_id", ""), form.get("client_id", "")
        try:
            await to_thread.run_sync(lambda: broker.vault.revoke(user_id, client=client_id))
            done = f"Revoked the connection of {user_id}."
        except Exception as exc:
            done = f"Could not revoke {user_id}: {exc}"
        return RedirectResponse(f"/admin?done={quote(done)}", status_code=303, headers=_HEADERS)

    @router.get("/keys")
    async def keys(request: Request) -> Response:
        session = await session_of(request)
        if session is None:
            return to_login()
        found = await to_thread.run_sync(broker.records.keys)
        page = _Page("API keys", session)
        rows = []
        for k in found:
            action = (
                page.form("/admin/keys/revoke", {"key_id": k.id}, "Revoke")
                if k.revoked_at is None
                else f"revoked {_when(k.revoked_at)}"
            )
            rows.append(
                f"<tr><td><code>{escape(k.id)}</code></td><td>{escape(k.name)}</td>"
                f"<td>{escape(' '.join(sorted(k.permissions)))}</td>"
                f"<td>{escape(k.client_id or 'any')}</td><td>{_when(k.created_at)}</td>"
                f"<td>{action}</td></tr>"
            )
        page.add(
            "<table><thead><tr><th>Id</th><th>Name</th><th>Permissions</th><th>Client</th>"
            f"<th>Created</th><th></th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
        )
        boxes = "".join(
            f"<label><input type='checkbox' name='permission_{escape(p)}' value='1'> "
            f"{escape(p)}</label> "
            for p in PERMISSIONS
        )
        page.add("<h2>New key</h2>")
        page.add(
            page.form(
                "/admin/keys",
                {},
                "Create",
                "<label>Name <input name='name' required></label> " + boxes,
            )
        )
        return page.response()

    @router.post("/keys")
    async def create_key(request: Request) -> Response:
        session, form = await checked(request)
        if session is None:
            return to_login()
        wanted = [p for p in PERMISSIONS if form.get(f"permission_{p}")]
        try:
            key, secret = await to_thread.run_sync(
                lambda: broker.records.create_key(form.get("name", ""), wanted)
            )
        except ValueError as exc:
            return (
                _Page("API keys", session)
                .add(f"<p role='alert'>{escape(str(exc))}</p>")
                .response(400)
            )
        page = _Page("New API key", session)
        page.add(
            f"<p>The key {escape(key.id)} ({escape(key.name)}). It is shown this once: copy it "
            f"now.</p><p><code id='new-key'>{escape(secret)}</code></p>"
            "<p><a href='/admin/keys'>Back to the keys</a></p>"
        )
        return page.response()

    @router.post("/keys/revoke")
    async def revoke_key(request: Request) -> Response:
        session, form = await checked(request)
        if session is None:
            return to_login()
        await to_thread.run_sync(broker.records.revoke_key, form.get("key_id", ""))
        return RedirectResponse("/admin/keys", status_code=303, headers=_HEADERS)

    @router.get("/webhooks")
    async def webhooks(request: Request) -> Response:
        session = await session_of(request)
        if session is None:
            return to_login()
        endpoints = await to_thread.run_sync(broker.webhooks.endpoints)
        messages = await to_thread.run_sync(lambda: broker.webhooks.messages(limit=200))
        page = _Page("Webhooks", session)
        page.add(
            "<table><thead><tr><th>Endpoint</th><th>URL</th><th>Events</th></tr></thead><tbody>"
            + "".join(
                f"<tr><td><code>{escape(e.id)}</code></td><td>{escape(e.url)}</td>"
                f"<td>{escape(' '.join(sorted(e.events)))}</td></tr>"
                for e in endpoints
            )
            + "</tbody></table><h2>Deliveries</h2>"
            "<table><thead><tr><th>Message</th><th>Endpoint</th><th>Event</th><th>Attempts</th>"
            "<th>Outcome</th><th>Last answer</th></tr></thead><tbody>"
            + "".join(
                f"<tr><td><code>{escape(m.id)}</code></td><td>{escape(m.endpoint_id)}</td>"
                f"<td>{escape(m.event)}</td><td>{m.attempts}</td>"
                f"<td>{_outcome(m)}</td>"
                f"<td>{escape(str(m.last_status or ''))} {escape(m.last_error or '')}</td></tr>"
                for m in messages
            )
            + "</tbody></table>"
        )
        return page.response()

    @router.get("/audit")
    async def audit(request: Request, user_id: str = "") -> Response:
        session = await session_of(request)
        if session is None:
            return to_login()
        entries = await to_thread.run_sync(
            lambda: broker.records.audit_log(user_id=user_id or None, limit=500)
        )
        page = _Page("Audit log", session)
        page.add(
            "<form method='get' action='/admin/audit'><label>User id "
            f"<input name='user_id' value='{escape(user_id)}'></label> "
            "<button type='submit'>Filter</button></form>"
            "<table><thead><tr><th>Time</th><th>Key</th><th>User id</th><th>Client</th>"
            "<th>Scopes</th><th>Caller</th></tr></thead><tbody>"
            + "".join(
                f"<tr><td>{_when(e.at)}</td><td><code>{escape(e.key_id)}</code></td>"
                f"<td>{escape(e.user_id)}</td><td><code>{escape(e.client_id)}</code></td>"
                f"<td>{_scopes(e.scopes)}</td><td>{escape(e.caller or '')}</td></tr>"
                for e in entries
            )
            + "</tbody></table>"
        )
        return page.response()

    return router


def _outcome(message: Message) -> str:
    if message.delivered_at:
        return "delivered " + _when(message.delivered_at)
    return "gave up" if message.failed_at else "pending"


def _admin(broker: Broker, secret: str) -> str | None:
    """Who logs in with ``secret``: "admin secret", or the admin API key's id; None if nobody."""
    configured = broker.settings.admin_secret
    if configured and hmac.compare_digest(secret.encode(), configured.encode()):
        return "admin secret"
    try:
        key = broker.records.check_key(secret)
    except KeyRefused:
        return None
    return f"API key {key.id}" if key.allows("admin") else None
