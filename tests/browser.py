"""Standing in for the person and the app around a consent: the app's loopback redirect target,
a browser command for Python's ``webbrowser``, headless Chromium, and reading the emulator's HTML
forms."""

from __future__ import annotations

import hashlib
import shlex
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import parse_qsl, urlsplit

from tests import services

if TYPE_CHECKING:  # Playwright is imported by the browser tests only, when they launch one
    from playwright.sync_api import Browser, Page

#: What the app's loopback page says once the browser arrives.
LOOPBACK_HEADING = "You may close this window."
LOOPBACK_PAGE = f"<!doctype html><title>Signed in</title><h1>{LOOPBACK_HEADING}</h1>"


def fingerprint(secret: str | None) -> str | None:
    """A short hash to compare tokens by, so that no assertion ever shows a token itself."""
    if secret is None:
        return None
    return hashlib.sha256(secret.encode()).hexdigest()[:12]


class ClientSecrets(dict[str, Any]):
    """A ``client_secret.json`` whose repr names the client only, for fixtures: pytest prints a
    failing test's arguments."""

    def __repr__(self) -> str:
        info: dict[str, Any] = next(iter(self.values()), {})
        return f"<client_secret.json of {info.get('client_id', '?')}>"


def send_page(handler: BaseHTTPRequestHandler, body: bytes) -> None:
    """Answer ``handler``'s request with the HTML page ``body``."""
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html; charset=utf-8")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


class LocalServer:
    """An HTTP server on ``127.0.0.1`` (any free port) answering with ``handler`` in a thread
    while the ``with`` block runs."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


class Loopback(LocalServer):
    """An application's redirect target, ``http://127.0.0.1:PORT/``, serving in a thread. It
    remembers the first request that carries ``code`` or ``error`` and sends the browser on to
    ``/done``, as a careful app does, so that the code does not stay in the address bar."""

    def __init__(self) -> None:
        self._arrived = threading.Event()
        self.params: dict[str, str] = {}
        self.raw_query = ""  # as the browser sent it, which is as its address bar showed it
        loopback = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                params = dict(parse_qsl(parts.query))
                if parts.path == "/" and ("code" in params or "error" in params):
                    if not loopback._arrived.is_set():
                        loopback.params, loopback.raw_query = params, parts.query
                        loopback._arrived.set()
                    self.send_response(303)
                    self.send_header("Location", "/done")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                send_page(self, LOOPBACK_PAGE.encode())

            def log_message(self, format: str, *args: object) -> None:
                pass  # the request line carries the code

        super().__init__(Handler)
        self.url = f"http://127.0.0.1:{self.port}/"
        self.done_url = self.url + "done"

    def wait(self, timeout: float = 10) -> dict[str, str]:
        """The redirect's query parameters, once the browser has arrived."""
        if not self._arrived.wait(timeout):
            raise TimeoutError(f"no redirect reached {self.url} within {timeout} s")
        return self.params


@contextmanager
def launch_chromium(path: Path) -> Iterator[Browser]:
    """Headless Chromium (the one at ``path``) driven through Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(path), args=services.CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@contextmanager
def open_tab(browser: Browser, *, timeout_ms: float) -> Iterator[Page]:
    """A page in a fresh browser context (no cookies from other tests), waiting at most
    ``timeout_ms`` for what a test expects of it."""
    context = browser.new_context(viewport={"width": 900, "height": 900})
    page = context.new_page()
    page.set_default_timeout(timeout_ms)
    yield page
    context.close()


_FETCH = (
    "import os, sys, httpx; "
    "page = httpx.get(sys.argv[1], follow_redirects=True, timeout=30); "
    "part = sys.argv[2] + '.part'; "
    "open(part, 'w', encoding='utf-8').write(f'{page.status_code}\\n{page.text}'); "
    "os.replace(part, sys.argv[2])"
)


@dataclass
class HttpBrowser:
    """A browser for ``webbrowser.get(command)``: a separate process that GETs the URL, follows
    the redirects as a browser with an existing Google session would, and writes the status
    and text of the page it ended on to ``page``. The trailing ``&`` makes ``webbrowser`` start
    it in the background, as a desktop browser returns at once."""

    page: Path
    command: str = field(init=False)

    def __post_init__(self) -> None:
        fetch = shlex.join([sys.executable, "-c", _FETCH])
        self.command = f"{fetch} %s {shlex.quote(str(self.page))} &"

    def final_page(self, timeout: float = 10) -> tuple[int, str]:
        """(status, text) of the page the browser ended on."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.page.exists():
                status, text = self.page.read_text(encoding="utf-8").split("\n", 1)
                return int(status), text
            time.sleep(0.05)
        raise TimeoutError(f"the browser wrote no page to {self.page} within {timeout} s")


@dataclass
class Form:
    """One HTML form as a person would submit it: its action and the fields it sends."""

    action: str
    hidden: dict[str, str] = field(default_factory=dict)
    radios: dict[str, list[str]] = field(default_factory=dict)
    checkboxes: dict[str, list[tuple[str, bool]]] = field(default_factory=dict)
    text: list[str] = field(default_factory=list)
    buttons: list[tuple[str, str]] = field(default_factory=list)


class _FormReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(action=a.get("action", "")))
            return
        if not self.forms:
            return
        form = self.forms[-1]
        name = a.get("name", "")
        kind = a.get("type", "text")
        if tag == "button":
            form.buttons.append((name, a.get("value", "")))
        elif tag == "input" and kind == "hidden":
            form.hidden[name] = a.get("value", "")
        elif tag == "input" and kind == "radio":
            form.radios.setdefault(name, []).append(a.get("value", ""))
        elif tag == "input" and kind == "checkbox":
            form.checkboxes.setdefault(name, []).append((a.get("value", ""), "checked" in a))
        elif tag == "input":
            form.text.append(name)


def read_form(html: str) -> Form:
    """The one form on an emulator page."""
    reader = _FormReader()
    reader.feed(html)
    assert len(reader.forms) == 1, f"expected one form, found {len(reader.forms)}"
    return reader.forms[0]
