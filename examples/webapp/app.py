"""Mail Glance: a small web application whose users connect their Gmail, with gtoken's Vault.

People sign in with just a name (kept in a signed session cookie; a real site has real accounts).
Each person can connect their Gmail, see the subjects of their latest messages, and disconnect.
The Vault keeps every person's consent (encrypted, refreshed, revoked); this file only decides
what to show:

- not connected: a "Connect Gmail" button, which sends the browser to Google's consent page;
- connected: the latest subjects. The app asks for two scopes and Google lets the person untick
  either: ``gmail.metadata`` is enough for subjects, ``gmail.readonly`` adds a preview of each
  message; the page says which was left out and offers to ask again;
- consent gone at Google (revoked, expired, password changed): ``gtoken.ConsentRequired``, shown
  as a "Reconnect" link to its ``url``, never as an error page;
- Google or the network failing for a moment: ``gtoken.TransientError``, shown as "try again".

Run it against the emulator with ``./dev webapp`` (see examples/webapp/run.py), or on a real
server with ``uvicorn --factory app:from_environment`` and the settings that function names.
"""

from __future__ import annotations

import contextlib
import html
import logging
import os
from collections.abc import AsyncIterator, Iterable

from googleapiclient.discovery import build
from googleapiclient.errors import HttpError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

import gtoken
import gtoken.endpoints

AUTH = "https://www.googleapis.com/auth/"
METADATA = AUTH + "gmail.metadata"  # subjects and senders
READONLY = AUTH + "gmail.readonly"  # also the text of messages, for previews
SCOPES = [METADATA, READONLY]
CALLBACK = "/oauth2callback"
LATEST = 5
NAME_LIMIT = 64
log = logging.getLogger("mail_glance")


def from_environment() -> Starlette:
    """The app configured from the environment, for ``uvicorn --factory app:from_environment``:

    - ``WEBAPP_URL``: where people reach it, e.g. ``https://mail.example.com`` (the Google
      client's redirect URI is this plus ``/oauth2callback``);
    - ``WEBAPP_CLIENT_SECRETS``: the path of the ``web`` client's ``client_secret.json``;
    - ``WEBAPP_SESSION_SECRET``: the key that signs session cookies;
    - ``GTOKEN_DATABASE_URL`` and ``GTOKEN_VAULT_KEYS``: the Vault's database and keys.
    """
    missing = [
        name
        for name in ("WEBAPP_URL", "WEBAPP_CLIENT_SECRETS", "WEBAPP_SESSION_SECRET")
        if not os.environ.get(name)
    ]
    if missing:
        raise SystemExit(f"app: set {', '.join(missing)} (see the docstring of from_environment)")
    base = os.environ["WEBAPP_URL"].rstrip("/")
    vault = gtoken.Vault(  # GTOKEN_DATABASE_URL, GTOKEN_VAULT_KEYS
        client_secrets=os.environ["WEBAPP_CLIENT_SECRETS"],
        redirect_uri=base + CALLBACK,
    )
    return create_app(
        vault,
        session_secret=os.environ["WEBAPP_SESSION_SECRET"],
        secure=base.startswith("https://"),
    )


def create_app(vault: gtoken.Vault, *, session_secret: str, secure: bool = True) -> Starlette:
    """The site, keeping consents in ``vault`` (closed when the site stops); ``secure`` sends
    the session cookie over https only (leave it on anywhere but a developer's loopback)."""
    # Google's Gmail, or the emulator's when GTOKEN_EMULATOR_HOST is set.
    gmail_endpoint = gtoken.endpoints.current().api_endpoint("gmail")

    def home(request: Request) -> Response:
        user = request.session.get("user")
        if user is None:
            return page("Sign in", SIGN_IN_FORM)
        try:
            section = gmail_section(user)
        except gtoken.TransientError:  # the Vault's database, Google, or the network
            section = TRY_AGAIN.format(what="Google did not answer just now")
        return page(f"{user}'s mail", signed_in(user) + section)

    def gmail_section(user: str) -> str:
        connection = vault.connection(user)
        if connection is None:
            return CONNECT_FORM.format(button="Connect Gmail", scopes="")
        scopes = set(connection.scopes)
        if not scopes & {METADATA, READONLY}:
            return NOTHING_SHARED + CONNECT_FORM.format(button="Connect Gmail", scopes="")
        preview = READONLY in scopes
        try:
            # Whatever the stored status, ask: the Vault raises ConsentRequired with the URL to
            # send the person to when their consent is gone, and refreshes when it must.
            creds = vault.credentials(user, scopes=[READONLY if preview else METADATA])
            messages = latest_messages(creds, preview=preview)
        except gtoken.ConsentRequired as gone:
            # The reason (with Google's likely causes) is for the site's developers, not for
            # the person, who needs only to know that a click brings Gmail back.
            log.warning("Gmail consent needed for %r: %s", user, gone.reason)
            return reconnect(gone)
        except HttpError as error:
            if error.resp.status in (429, 500, 502, 503, 504):
                return TRY_AGAIN.format(what="Gmail did not answer just now")
            raise
        return connected(connection.email, messages, missing_preview=not preview)

    def latest_messages(creds: gtoken.Credentials, *, preview: bool) -> list[dict[str, str]]:
        options = {"api_endpoint": gmail_endpoint} if gmail_endpoint else None
        gmail = build("gmail", "v1", credentials=creds, client_options=options)
        listed = gmail.users().messages().list(userId="me", maxResults=LATEST).execute()
        found = []
        for ref in listed.get("messages", []):
            message = (
                gmail.users()
                .messages()
                .get(userId="me", id=ref["id"], format="metadata", metadataHeaders=["Subject"])
                .execute()
            )
            headers = {h["name"].lower(): h["value"] for h in message["payload"]["headers"]}
            found.append(
                {
                    "subject": headers.get("subject") or "(no subject)",
                    "preview": message.get("snippet", "") if preview else "",
                }
            )
        return found

    async def sign_in(request: Request) -> Response:
        form = await request.form()
        name = str(form.get("name", "")).strip()
        if not name or len(name) > NAME_LIMIT or not name.isprintable():
            problem = f"A name is 1 to {NAME_LIMIT} printable characters."
            return page("Sign in", f'<p class="problem">{problem}</p>' + SIGN_IN_FORM, 400)
        request.session["user"] = name
        return RedirectResponse("/", status_code=303)

    def sign_out(request: Request) -> Response:
        request.session.clear()
        return RedirectResponse("/", status_code=303)

    async def connect(request: Request) -> Response:
        user = request.session.get("user")
        if user is None:
            return RedirectResponse("/", status_code=303)
        form = await request.form()
        # Asking again for a scope left out keeps what was granted (include_granted_scopes).
        wanted = [s for s in form.getlist("scope") if s in SCOPES] or SCOPES
        try:
            url = await run_in_threadpool(vault.authorization_url, user, wanted)
        except gtoken.TransientError:  # the Vault's database
            return problem_page("The site could not start the connection.", "Try again", 503)
        return RedirectResponse(url, status_code=303)

    def callback(request: Request) -> Response:
        user = request.session.get("user")
        if user is None:
            return page("Sign in", "<p>Sign in first, then connect Gmail.</p>" + SIGN_IN_FORM, 403)
        try:
            # user_id: the consent must have been started by this browser's user, or a link
            # to Google's page passed to someone else would put their mail under another name.
            connection = vault.complete(str(request.url), user_id=user)
        except gtoken.StateError:
            return problem_page(
                "That link to Google was not started here, was already used, or is too old.",
                "Connect Gmail again",
                400,
            )
        except gtoken.AccessDenied:
            return problem_page("You did not allow access to Gmail.", "Connect Gmail", 200)
        except gtoken.TransientError:
            return problem_page("Google did not answer just now.", "Try again", 503)
        if connection.consent_url is not None:
            # Google kept no lasting grant (no refresh token): the Vault's link asks again.
            return RedirectResponse(connection.consent_url, status_code=303)
        return RedirectResponse("/", status_code=303)

    def disconnect(request: Request) -> Response:
        user = request.session.get("user")
        if user is not None:
            try:
                vault.revoke(user)
            except gtoken.TransientError:
                return problem_page("Google did not answer just now.", "Try again", 503)
            except gtoken.GTokenError as error:  # e.g. Google refused the revocation
                return problem_page(str(error), "Connect Gmail", 502)
        return RedirectResponse("/", status_code=303)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        vault.close()  # its database connections and HTTP client

    return Starlette(
        lifespan=lifespan,
        routes=[
            Route("/", home),
            Route("/sign-in", sign_in, methods=["POST"]),
            Route("/sign-out", sign_out, methods=["POST"]),
            Route("/connect", connect, methods=["POST"]),
            Route(CALLBACK, callback),
            Route("/disconnect", disconnect, methods=["POST"]),
        ],
        middleware=[
            Middleware(
                SessionMiddleware,
                secret_key=session_secret,
                session_cookie="mail_glance",
                same_site="lax",  # cross-site form posts arrive without the session
                https_only=secure,
            )
        ],
    )


# -- pages --------------------------------------------------------------------------------------

SIGN_IN_FORM = """<form method="post" action="/sign-in">
  <label>Your name <input name="name" autocomplete="username" required></label>
  <button>Sign in</button>
</form>"""

CONNECT_FORM = """<form method="post" action="/connect">{scopes}
  <button>{button}</button>
</form>"""

RECONNECT = """<section id="gmail">
  <p>Gmail access has stopped: it was removed or has expired at Google.</p>
  {action}
</section>"""

NOTHING_SHARED = "<p>You left both Gmail boxes unticked: Mail Glance cannot see your mail.</p>"

TRY_AGAIN = """<section id="gmail">
  <p>{what}. Your Gmail connection is fine; <a href="/">try again</a> in a moment.</p>
</section>"""


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{esc(title)} - Mail Glance</title>
<style>body {{ font-family: sans-serif; max-width: 40rem; margin: 2rem auto; }}
.problem {{ color: #a00; }} li small {{ color: #666; display: block; }}</style></head>
<body><h1>Mail Glance</h1>
{body}
</body></html>""",
        status_code=status,
    )


def problem_page(what: str, action: str, status: int) -> HTMLResponse:
    body = f'<p class="problem">{esc(what)}</p>' + CONNECT_FORM.format(button=action, scopes="")
    return page("Gmail", body + '<p><a href="/">Back</a></p>', status)


def reconnect(gone: gtoken.ConsentRequired) -> str:
    if gone.url is None:  # the Vault had no link to give: ask for a fresh one
        action = CONNECT_FORM.format(button="Reconnect", scopes="")
    else:
        action = f'<p><a class="button" href="{esc(gone.url)}">Reconnect</a></p>'
    return RECONNECT.format(action=action)


def signed_in(user: str) -> str:
    return f"""<p>Signed in as <strong id="user">{esc(user)}</strong>.</p>
<form method="post" action="/sign-out"><button>Sign out</button></form>"""


def connected(
    email: str | None, messages: Iterable[dict[str, str]], *, missing_preview: bool
) -> str:
    items = "\n".join(
        f"<li>{esc(m['subject'])}"
        + (f"<small>{esc(m['preview'])}</small>" if m["preview"] else "")
        + "</li>"
        for m in messages
    )
    ask_preview = ""
    if missing_preview:
        ask_preview = (
            "<p>Previews are off: you did not let Mail Glance read your messages.</p>"
            + CONNECT_FORM.format(
                button="Show previews",
                scopes=f'\n  <input type="hidden" name="scope" value="{READONLY}">',
            )
        )
    return f"""<section id="gmail">
  <p>Gmail connected: <strong id="email">{esc(email or "your account")}</strong></p>
  <h2>Your latest messages</h2>
  <ul id="messages">{items or "<li>No messages.</li>"}</ul>
  {ask_preview}
  <form method="post" action="/disconnect"><button>Disconnect Gmail</button></form>
</section>"""
