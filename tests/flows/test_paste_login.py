"""Paste-back: no browser on this machine (SSH, containers, WSL), and never the dead OOB flow."""

from __future__ import annotations

import threading
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from gtoken.errors import AccessDenied, AuthorizationError, LoginTimeout, StateMismatch
from gtoken.flows import MAX_PASTE_TRIES
from tests.flows.conftest import EMAIL, Google
from tests.flows.fakes import (
    FakeBrowser,
    Screen,
    assert_no_secrets,
    consent_redirect,
    exception_texts,
    lines,
    redirect_uri_of,
    token_secrets,
)


def code_of(location: str) -> str:
    return parse_qs(urlsplit(location).query)["code"][0]


class Person:
    """Opens the printed address in a browser elsewhere and pastes what it ended on."""

    def __init__(self, screen: Screen, *, before: tuple[str, ...] = (), bare: bool = False):
        self.screen = screen
        self.before = list(before)
        self.bare = bare
        self.redirects: list[str] = []
        screen.answer = self.paste

    def paste(self, cancelled: threading.Event) -> str | None:
        if self.before:
            return self.before.pop(0)
        if self.redirects:  # pasted once already
            cancelled.wait(30)
            return None
        location = consent_redirect(self.screen.authorization_url())
        self.redirects.append(location)
        return code_of(location) if self.bare else location


def test_paste_the_whole_address(google: Google) -> None:
    screen = Screen()
    person = Person(screen)
    token = google.login(screen, mode="paste")

    assert token.refresh_token
    assert token.id_token
    url = screen.authorization_url()
    port = urlsplit(redirect_uri_of(url)).port
    assert redirect_uri_of(url) == f"http://127.0.0.1:{port}/"
    assert "urn:ietf:wg:oauth:2.0:oob" not in screen.text
    assert f"starting with\nhttp://127.0.0.1:{port}/" in screen.text
    assert "Copy that whole address" in screen.text
    assert f"ssh -L {port}:127.0.0.1:{port} <this host>" in screen.text
    assert "Paste the address here: " in screen.text
    assert_no_secrets(
        [screen.text], google.secrets() | token_secrets(token) | {code_of(person.redirects[0])}
    )


def test_paste_the_code_alone(google: Google) -> None:
    screen = Screen()
    Person(screen, bare=True)
    token = google.login(screen, mode="paste")
    assert token.refresh_token
    assert_no_secrets([screen.text], google.secrets() | token_secrets(token))


def test_paste_surrounded_by_quotes_and_spaces(google: Google) -> None:
    screen = Screen()
    person = Person(screen)
    screen.answer = lambda cancelled: f'  "{person.paste(cancelled)}"  '
    assert google.login(screen, mode="paste").refresh_token


def test_garbage_is_refused_and_asked_again(google: Google) -> None:
    screen = Screen()
    Person(screen, before=("", "I cannot find the address, help", "http://127.0.0.1:1/?x=1"))
    token = google.login(screen, mode="paste")

    assert token.refresh_token
    assert "This is not an authorization code (it has spaces" in screen.text
    assert "This address carries no code" in screen.text
    assert "(2 tries left)" in screen.text  # the blank line did not count
    assert "(1 try left)" in screen.text
    assert screen.text.count("Paste the address here: ") == 4


def test_garbage_three_times_gives_up_clearly(google: Google) -> None:
    screen = Screen()
    screen.answer = lines("hello", "4/0A but with spaces", "http://127.0.0.1:1/")
    with pytest.raises(AuthorizationError) as caught:
        google.login(screen, mode="paste")

    message = str(caught.value)
    assert f"None of the {MAX_PASTE_TRIES} pasted lines" in message
    assert "Run the login again" in message
    assert google.transport.sent == []
    assert screen.cancelled[0].is_set()  # the reader was told to stop


def test_a_pasted_address_of_another_login_is_refused(google: Google) -> None:
    other_screen = Screen()
    old = Person(other_screen)
    google.login(other_screen, mode="paste")  # a finished login; its address is pasted again

    screen = Screen()
    screen.answer = lines(old.redirects[0])
    with pytest.raises(StateMismatch) as caught:
        google.login(screen, mode="paste")
    assert_no_secrets(
        [screen.text, *exception_texts(caught.value)],
        {code_of(old.redirects[0]), google.client.client_secret},
    )


def test_a_pasted_refusal_is_access_denied(google: Google) -> None:
    google.emulator.consent_auto(email=EMAIL, grant="deny")
    screen = Screen()
    Person(screen)
    with pytest.raises(AccessDenied):
        google.login(screen, mode="paste")
    assert google.transport.sent == []


def test_the_tunnel_wins_and_nothing_needs_pasting(google: Google) -> None:
    screen = Screen()  # the person never pastes anything
    pages: list[httpx.Response] = []

    def browser_through_ssh_tunnel() -> None:
        pages.append(httpx.get(screen.authorization_url(), follow_redirects=True, timeout=10))

    tunnel = threading.Thread(target=browser_through_ssh_tunnel)
    tunnel.start()
    token = google.login(screen, mode="paste")
    tunnel.join(timeout=10)

    assert token.refresh_token
    assert pages[0].status_code == 200
    assert "You may close this window." in pages[0].text
    assert "nothing to paste" in screen.text
    assert screen.cancelled[0].is_set()


def test_no_display_chooses_paste_back(google: Google) -> None:
    screen = Screen()
    browser = FakeBrowser()
    Person(screen)
    token = google.login(screen, env={"TERM": "xterm"}, open_browser=browser)

    assert token.refresh_token
    assert browser.urls == []
    assert "Paste the address here:" in screen.text


def test_ssh_session_chooses_paste_back(google: Google) -> None:
    screen = Screen()
    browser = FakeBrowser()
    Person(screen)
    env = {"DISPLAY": "localhost:10.0", "SSH_CONNECTION": "10.0.0.2 51000 10.0.0.1 22"}
    google.login(screen, env=env, open_browser=browser)
    assert browser.urls == []


def test_timeout_while_waiting_for_a_paste(google: Google) -> None:
    screen = Screen()
    with pytest.raises(LoginTimeout) as caught:
        google.login(screen, mode="paste", timeout=0.5)
    message = str(caught.value)
    assert "Nothing usable was pasted" in message
    assert "within 0.5 seconds" in message
    assert screen.cancelled[0].is_set()


def test_input_that_ends_leaves_the_tunnel_open(google: Google) -> None:
    screen = Screen()

    def closed_input_then_tunnel(cancelled: threading.Event) -> str | None:
        threading.Timer(
            0.3, httpx.get, (screen.authorization_url(),), {"follow_redirects": True}
        ).start()
        return None

    screen.answer = closed_input_then_tunnel
    token = google.login(screen, mode="paste", timeout=5)
    assert token.refresh_token
    assert "Input ended" in screen.text
    assert screen.reads == 1
