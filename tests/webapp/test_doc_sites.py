"""The Flask and the ASGI site that docs/web-apps.md shows (examples/vault_flask.py and
examples/vault_asgi.py), served on loopback as their docstrings say and visited by a browser that
is an HTTP client, against the emulator."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import inspect
import json
import os
import runpy
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from werkzeug.serving import WSGIRequestHandler, make_server

from gtoken.emulator.client import Emulator

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
USER = "ada@example.com"
CONSENT_NEEDED = "Gmail needs your consent."


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any) -> None:
        pass  # the callback's request line carries the authorization code


@dataclass
class Site:
    url: str
    emulator: Emulator

    @contextlib.contextmanager
    def browser(self, user: str = "ada") -> Iterator[httpx.Client]:
        """A person's browser, signed in to the site as ``user``."""
        with httpx.Client(base_url=self.url, follow_redirects=True, timeout=30) as browser:
            browser.post("/sign-in", data={"user_id": user})
            yield browser


@contextlib.contextmanager
def serve_wsgi(app: Any, sock: socket.socket) -> Iterator[None]:
    server = make_server(
        "127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler, fd=sock.fileno()
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield
    server.shutdown()
    thread.join(timeout=10)


@contextlib.contextmanager
def serve_asgi(app: Any, sock: socket.socket) -> Iterator[None]:
    config = uvicorn.Config(app, lifespan="off", access_log=False, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    yield
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(params=["vault_flask.py", "vault_asgi.py"])
def site(
    request: pytest.FixtureRequest,
    emulator: Emulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Site]:
    """The example, run as its docstring says: a web client whose redirect URI is the site's
    callback, its client_secret.json in the working directory, the settings in the
    environment."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        client = emulator.create_client(type="web", redirect_uris=[url + "/oauth2callback"])
        (tmp_path / "client_secret.json").write_text(json.dumps(client))
        emulator.create_user(USER)
        monkeypatch.chdir(tmp_path)
        settings = {
            "GTOKEN_DATABASE_URL": f"sqlite:///{tmp_path}/vault.db",
            "GTOKEN_VAULT_KEYS": base64.b64encode(os.urandom(32)).decode(),
            "GTOKEN_EMULATOR_HOST": emulator.host,
            "FLASK_SECRET_KEY": base64.b64encode(os.urandom(16)).decode(),
            "SESSION_SECRET": base64.b64encode(os.urandom(16)).decode(),
        }
        for name, value in settings.items():
            monkeypatch.setenv(name, value)
        example = runpy.run_path(str(EXAMPLES / request.param), run_name="example")
        serve = serve_wsgi if request.param == "vault_flask.py" else serve_asgi
        try:
            with serve(example["app"], sock):
                yield Site(url, emulator)
        finally:
            close(example["vault"])


def close(vault: Any) -> None:
    closing = getattr(vault, "aclose", None) or getattr(vault, "close", None)
    if closing is not None:
        result = closing()
        if inspect.iscoroutine(result):
            asyncio.run(result)


def connect(site: Site, browser: httpx.Client) -> httpx.Response:
    site.emulator.consent_auto(email=USER)
    return browser.get("/connect")


def test_connect_then_list_labels(site: Site) -> None:
    with site.browser() as browser:
        first = browser.get("/labels")
        assert CONSENT_NEEDED in first.text
        assert f'href="{site.emulator.url}/o/oauth2/' in first.text

        page = connect(site, browser)
        assert str(page.url) == site.url + "/labels"
        assert "INBOX" in page.json()["labels"]
        assert browser.get("/labels").json() == page.json()
    assert site.emulator.stats()["token"]["authorization_code"] == 1


def test_a_grant_withdrawn_at_google_asks_for_consent(site: Site) -> None:
    with site.browser() as browser:
        connect(site, browser)
        site.emulator.revoke_user(USER)
        page = browser.get("/labels")
    assert page.status_code == 200
    assert CONSENT_NEEDED in page.text


def test_google_failing_for_a_moment_says_try_again(site: Site) -> None:
    site.emulator.configure(access_token_lifetime=30)  # every request refreshes
    with site.browser() as browser:
        connect(site, browser)
        site.emulator.fault("token", status=503, count=50)
        page = browser.get("/labels")
        assert (page.status_code, page.text) == (
            503,
            "Google did not answer. Try again in a minute.",
        )
        site.emulator.clear_faults()
        assert "INBOX" in browser.get("/labels").json()["labels"]


def test_nobody_signed_in_gets_401_and_no_consent_link(site: Site) -> None:
    with httpx.Client(base_url=site.url) as stranger:
        for path in ("/labels", "/connect", "/oauth2callback?state=x&code=y"):
            assert stranger.get(path).status_code == 401, path


def test_a_replayed_or_foreign_callback_is_refused(site: Site) -> None:
    with site.browser("mallory") as mallory:
        site.emulator.consent_auto(email=USER)
        to_google = mallory.get("/connect", follow_redirects=False)
        back = httpx.get(to_google.headers["location"]).headers["location"]
    with site.browser("ada") as ada:
        page = ada.get(back)
        assert page.status_code == 400
        assert "That link has expired." in page.text
        assert CONSENT_NEEDED in ada.get("/labels").text
