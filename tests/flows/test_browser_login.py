"""The loopback login with a browser on this machine: what google-auth-oauthlib gets wrong."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from gtoken.errors import AccessDenied, LoginTimeout
from gtoken.oauth import id_token_claims
from tests.browser import HttpBrowser
from tests.flows.conftest import DRIVE_FILE, EMAIL, GMAIL_RO, Google
from tests.flows.fakes import (
    FakeBrowser,
    Screen,
    assert_no_secrets,
    consent_redirect,
    exception_texts,
    redirect_uri_of,
    token_secrets,
)


def port_of(url: str) -> int:
    port = urlsplit(redirect_uri_of(url)).port
    assert port is not None
    return port


def assert_closed(redirect_uri: str) -> None:
    with pytest.raises(httpx.ConnectError):
        httpx.get(redirect_uri, timeout=2)


def test_login_returns_the_granted_token(google: Google) -> None:
    screen, browser = Screen(), FakeBrowser()
    token = google.login(screen, mode="browser", open_browser=browser)
    browser.join()

    assert token.refresh_token
    assert token.scopes == {GMAIL_RO, "openid", "https://www.googleapis.com/auth/userinfo.email"}
    assert token.id_token
    assert id_token_claims(token.id_token)["email"] == EMAIL
    assert google.transport.kinds() == ["authorization_code"]
    assert "Waiting for you to finish in the browser… (Ctrl-C to cancel)" in screen.text
    assert "Signed in." in screen.text
    assert browser.urls == [screen.authorization_url()]
    assert redirect_uri_of(browser.urls[0]).startswith("http://127.0.0.1:")
    assert_no_secrets([screen.text], google.secrets() | token_secrets(token))


def test_the_browser_is_answered_without_the_code_and_the_port_closes(google: Google) -> None:
    screen, browser = Screen(), FakeBrowser()
    token = google.login(screen, open_browser=browser)
    browser.join()

    assert browser.errors == []
    [(status, page)] = browser.pages
    assert status == 200
    assert "You may close this window." in page
    assert browser.codes()
    assert browser.codes() <= google.secrets()
    assert_no_secrets([page], google.secrets() | token_secrets(token))
    assert_closed(redirect_uri_of(browser.urls[0]))


def test_the_request_asks_for_offline_access_with_pkce_state_and_the_options(
    google: Google,
) -> None:
    urls = []
    for _ in range(2):
        browser = FakeBrowser()
        google.login(
            Screen(),
            open_browser=browser,
            login_hint=EMAIL,
            prompt=("consent",),
            include_granted_scopes=True,
        )
        browser.join()
        urls.append({k: v[0] for k, v in parse_qs(urlsplit(browser.urls[0]).query).items()})
    first, second = urls
    assert first["access_type"] == "offline"
    assert first["code_challenge_method"] == "S256"
    assert first["prompt"] == "consent"
    assert first["login_hint"] == EMAIL
    assert first["include_granted_scopes"] == "true"
    assert first["redirect_uri"].endswith("/")
    assert first["state"] != second["state"]
    assert first["code_challenge"] != second["code_challenge"]
    assert "oob" not in first["redirect_uri"]


def test_favicon_and_stray_requests_are_ignored(google: Google) -> None:
    browser = FakeBrowser(before=("favicon.ico", "?hello=1", "robots.txt?code=x"))
    token = google.login(Screen(), open_browser=browser)
    browser.join()

    assert browser.stray_statuses == [404, 404, 404]
    assert token.refresh_token
    assert browser.pages[0][0] == 200


def test_two_logins_at_once_get_their_own_ports(google: Google) -> None:
    browsers = [FakeBrowser(), FakeBrowser()]
    results: dict[int, object] = {}
    start = threading.Barrier(2)

    def run(n: int) -> None:
        start.wait()
        try:
            results[n] = google.login(Screen(), open_browser=browsers[n])
        except Exception as exc:
            results[n] = exc

    threads = [threading.Thread(target=run, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    for browser in browsers:
        browser.join()

    assert port_of(browsers[0].urls[0]) != port_of(browsers[1].urls[0])
    tokens = [results[0], results[1]]
    assert all(getattr(t, "refresh_token", None) for t in tokens), tokens
    assert tokens[0] != tokens[1]


@pytest.fixture
def port_8080_taken() -> Iterator[None]:
    """127.0.0.1:8080 (google-auth-oauthlib's default) in use: by this socket, or already."""
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", 8080))
            sock.listen()
        except OSError:
            pass  # something else holds it, which serves as well
        yield


@pytest.mark.usefixtures("port_8080_taken")
def test_a_taken_port_does_not_matter(google: Google) -> None:
    browser = FakeBrowser()
    token = google.login(Screen(), open_browser=browser)
    browser.join()
    assert token.refresh_token
    assert port_of(browser.urls[0]) != 8080


def test_timeout_says_what_happened_and_what_to_do(google: Google) -> None:
    screen = Screen()
    opened: list[str] = []

    def browser_that_never_comes_back(url: str) -> bool:
        opened.append(url)
        return True

    started = time.monotonic()
    with pytest.raises(LoginTimeout) as caught:
        google.login(screen, open_browser=browser_that_never_comes_back, timeout=1)
    assert time.monotonic() - started < 3
    message = str(caught.value)
    assert "within 1 second" in message
    assert redirect_uri_of(opened[0]) in message
    assert "Run the login again" in message
    assert "--no-browser" in message
    assert google.transport.sent == []
    assert_closed(redirect_uri_of(opened[0]))
    assert_no_secrets([screen.text, *exception_texts(caught.value)], [google.client.client_secret])


def test_access_denied(google: Google) -> None:
    google.emulator.consent_auto(email=EMAIL, grant="deny")
    screen, browser = Screen(), FakeBrowser()
    with pytest.raises(AccessDenied) as caught:
        google.login(screen, open_browser=browser)
    browser.join()

    assert "access_denied" in str(caught.value)
    assert google.transport.sent == []
    [(status, page)] = browser.pages
    assert status == 200
    assert "Sign-in not completed" in page
    assert_closed(redirect_uri_of(browser.urls[0]))


def swap_state(location: str) -> str:
    return location.replace("state=", "state=forged", 1)


def test_a_redirect_with_a_wrong_state_is_ignored_until_the_timeout(google: Google) -> None:
    screen, browser = Screen(), FakeBrowser(tamper=swap_state)
    with pytest.raises(LoginTimeout) as caught:
        google.login(screen, open_browser=browser, timeout=1.5)
    browser.join()

    assert google.transport.sent == []  # the code was never exchanged
    [(status, page)] = browser.pages
    assert status == 400
    assert "does not belong to the sign-in waiting here" in page
    assert "1 request with another login's state reached it and was ignored" in str(caught.value)
    assert_closed(redirect_uri_of(browser.urls[0]))
    assert_no_secrets(
        [screen.text, page, *exception_texts(caught.value)],
        browser.codes() | {google.client.client_secret},
    )


POKE = """
import sys, urllib.request, urllib.error
for query in sys.argv[2:]:
    try:
        urllib.request.urlopen(sys.argv[1] + "?" + query, timeout=10)
    except urllib.error.HTTPError as exc:
        print(exc.code)
"""


def test_another_local_process_can_neither_abort_nor_hijack_a_pending_login(
    google: Google,
) -> None:
    """Anyone on this machine can reach the loopback port; only this login's redirect counts."""
    pokes: list[subprocess.CompletedProcess[str]] = []
    browser = FakeBrowser()

    def poked_then_opened(url: str) -> bool:
        pokes.append(
            subprocess.run(
                [
                    sys.executable,
                    "-c",
                    POKE,
                    redirect_uri_of(url),
                    "error=x",
                    "code=4/0AstolenOrForgedCode0123456789&state=wrong",
                ],
                capture_output=True,
                text=True,
                timeout=30,
            )
        )
        return browser(url)

    screen = Screen()
    token = google.login(screen, open_browser=poked_then_opened)
    browser.join()

    assert [p.stdout.split() for p in pokes] == [["400", "400"]]
    assert token.refresh_token
    assert google.transport.kinds() == ["authorization_code"]
    assert "Signed in." in screen.text


def test_granular_consent_gives_the_scopes_granted(google: Google) -> None:
    google.emulator.consent_auto(email=EMAIL, grant=[DRIVE_FILE])
    screen, browser = Screen(), FakeBrowser()
    token = google.login(
        screen, frozenset({"gmail.readonly", "drive.file", "openid", "email"}), open_browser=browser
    )
    browser.join()

    assert DRIVE_FILE in token.scopes
    assert GMAIL_RO not in token.scopes
    assert "not granted: gmail.readonly" in screen.text


def test_a_browser_that_cannot_open_falls_back_to_paste(google: Google) -> None:
    screen, browser = Screen(), FakeBrowser(opens=False)
    screen.answer = lambda cancelled: consent_redirect(screen.authorization_url())
    token = google.login(screen, mode="browser", open_browser=browser)

    assert browser.urls  # it was tried
    assert "No browser could be opened here" in screen.text
    assert "Paste the address here:" in screen.text
    assert token.refresh_token


def test_the_browser_named_in_browser_env_is_used(google: Google, tmp_path: Path) -> None:
    """No injected opener: ``BROWSER`` runs a real process that follows the redirects."""
    browser = HttpBrowser(tmp_path / "page")
    token = google.login(Screen(), env={"BROWSER": browser.command})
    status, page = browser.final_page()
    assert token.refresh_token
    assert status == 200
    assert "You may close this window." in page


def test_nothing_goes_to_stdout(google: Google, capsys: pytest.CaptureFixture[str]) -> None:
    browser = FakeBrowser()
    google.login(Screen(), open_browser=browser)
    browser.join()
    screen = Screen()
    screen.answer = lambda cancelled: consent_redirect(screen.authorization_url())
    google.login(screen, mode="paste")
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == ""


def test_an_interrupted_login_closes_the_port(google: Google) -> None:
    opened: list[str] = []

    def browser_then_ctrl_c(url: str) -> bool:
        opened.append(url)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        google.login(Screen(), open_browser=browser_then_ctrl_c)
    assert_closed(redirect_uri_of(opened[0]))
