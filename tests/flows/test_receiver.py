"""The loopback receiver on its own: one port per login, stray requests ignored, always closed."""

from __future__ import annotations

import socket
import time

import httpx
import pytest

from gtoken.flows import LoopbackReceiver

CODE = "4/0AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"
STATE = "abc"


def test_serves_before_anything_arrives_and_waits_with_a_timeout() -> None:
    with LoopbackReceiver(state=STATE) as receiver:
        assert receiver.redirect_uri == f"http://127.0.0.1:{receiver.port}/"
        started = time.monotonic()
        assert receiver.wait(0.2) is None
        assert time.monotonic() - started < 1
        assert httpx.get(receiver.redirect_uri).status_code == 404  # listening already


def test_returns_the_first_redirect_as_received_and_answers_without_the_code() -> None:
    with LoopbackReceiver(state=STATE) as receiver:
        query = f"state=abc&code={CODE}&scope=email%20openid&authuser=0"
        page = httpx.get(f"{receiver.redirect_uri}?{query}")
        later = httpx.get(f"{receiver.redirect_uri}?state=abc&code=another")
        assert receiver.wait(1) == f"{receiver.redirect_uri}?{query}"
    assert page.status_code == later.status_code == 200
    assert "You may close this window." in page.text
    assert CODE not in page.text
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["content-type"] == "text/html; charset=utf-8"


def test_an_error_redirect_ends_the_wait_too() -> None:
    with LoopbackReceiver(state=STATE) as receiver:
        page = httpx.get(f"{receiver.redirect_uri}?error=access_denied&state=abc")
        assert receiver.wait(1) == f"{receiver.redirect_uri}?error=access_denied&state=abc"
    assert "Sign-in not completed" in page.text


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "favicon.ico", 404),
        ("GET", "", 404),
        ("GET", "?state=abc", 404),
        ("GET", "callback?code=x", 404),
        ("POST", "?code=x", 501),
        ("HEAD", "?code=x", 501),
    ],
)
def test_stray_requests_are_refused_and_ignored(method: str, path: str, status: int) -> None:
    with LoopbackReceiver(state=STATE) as receiver:
        assert httpx.request(method, receiver.redirect_uri + path).status_code == status
        assert receiver.wait(0.05) is None


def test_an_idle_connection_does_not_block_the_redirect() -> None:
    """Browsers open speculative connections and send nothing on them."""
    with (
        LoopbackReceiver(state=STATE) as receiver,
        socket.create_connection(("127.0.0.1", receiver.port)),
    ):
        page = httpx.get(f"{receiver.redirect_uri}?code=x&state={STATE}", timeout=3)
        assert page.status_code == 200
        assert receiver.wait(1) is not None


def test_closed_after_the_block_even_on_an_exception() -> None:
    receiver = LoopbackReceiver(state=STATE)
    uris: list[str] = []

    def interrupted() -> None:
        with receiver:
            uris.append(receiver.redirect_uri)
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        interrupted()
    [uri] = uris
    with pytest.raises(httpx.ConnectError):
        httpx.get(uri, timeout=2)
    receiver.close()  # idempotent


def test_each_receiver_has_its_own_port_and_serves_one_login() -> None:
    with LoopbackReceiver(state=STATE) as one, LoopbackReceiver(state=STATE) as two:
        assert one.port != two.port
        with pytest.raises(RuntimeError):
            one.__enter__()
    with pytest.raises(RuntimeError, match="context manager"):
        LoopbackReceiver(state=STATE).redirect_uri


@pytest.mark.parametrize(
    "query",
    [
        "error=x",
        f"code={CODE}",
        f"code={CODE}&state=wrong",
        "error=access_denied&state=ab",
        f"code={CODE}&state={STATE}&state=wrong",
        f"state=ABC&code={CODE}",
    ],
)
def test_a_redirect_without_this_logins_state_is_answered_and_ignored(query: str) -> None:
    with LoopbackReceiver(state=STATE) as receiver:
        page = httpx.get(f"{receiver.redirect_uri}?{query}")
        assert receiver.wait(0.1) is None
        assert receiver.ignored == 1
        real = f"{receiver.redirect_uri}?state={STATE}&code={CODE}"
        assert httpx.get(real).status_code == 200
        assert receiver.wait(1) == real
    assert page.status_code == 400
    assert "does not belong to the sign-in waiting here" in page.text
    assert CODE not in page.text


def test_a_receiver_needs_the_state_it_waits_for() -> None:
    with pytest.raises(ValueError, match="state"):
        LoopbackReceiver(state="")
