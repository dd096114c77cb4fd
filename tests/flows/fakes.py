"""Stand-ins for the person around a login: their browser, their terminal, and a transport that
remembers what it sent, so that tests can look for the secrets it carried."""

from __future__ import annotations

import io
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import httpx

from gtoken.flows import Console
from gtoken.oauth import Token, TokenRequest
from gtoken.transport import Response, Transport

SECRET_FIELDS = frozenset(
    {"client_secret", "code", "code_verifier", "refresh_token", "device_code"}
)


class RecordingTransport(Transport):
    """The real transport, keeping every request it sent."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[TokenRequest] = []

    def send(self, request: TokenRequest) -> Response:
        self.sent.append(request)
        return super().send(request)

    def secrets(self) -> set[str]:
        """Every secret value sent: codes, verifiers, client secrets, device codes."""
        return {value for r in self.sent for name, value in r.form if name in SECRET_FIELDS}

    def kinds(self) -> list[str]:
        return [r.kind for r in self.sent]


def token_secrets(token: Token) -> set[str]:
    return {s for s in (token.access_token, token.refresh_token, token.id_token) if s}


def assert_no_secrets(texts: Iterable[str], secrets: Iterable[str]) -> None:
    """None of ``secrets`` occurs in any of ``texts`` (failing without showing the secret)."""
    wanted = [s for s in secrets if s]
    assert wanted, "no secrets to look for: the test is not looking at anything"
    for text in texts:
        for n, secret in enumerate(wanted):
            assert secret not in text, f"secret #{n} ({len(secret)} chars) appears in the output"


def exception_texts(exc: BaseException) -> list[str]:
    texts = [str(exc), repr(exc), *map(str, exc.args)]
    if exc.__cause__ is not None:
        texts += exception_texts(exc.__cause__)
    return texts


class Screen:
    """A terminal the tests read back: a console over a StringIO. ``answer`` is what the person
    types when a line is read (by default nothing, until the login stops reading)."""

    def __init__(self, *, is_tty: bool = False, no_color: bool = True) -> None:
        self.stream = io.StringIO()
        self.answer: Callable[[threading.Event], str | None] = wait_until_cancelled
        self.reads = 0
        self.cancelled: list[threading.Event] = []

        def read_line(cancelled: threading.Event) -> str | None:
            self.reads += 1
            self.cancelled.append(cancelled)
            return self.answer(cancelled)

        self.console = Console(
            stream=self.stream, is_tty=is_tty, no_color=no_color, read_line=read_line
        )

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def authorization_url(self) -> str:
        """The consent page's address as the login printed it."""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            found = re.search(r"http://\S+/o/oauth2/(?:v2/)?auth\?\S+", self.text)
            if found:
                return found.group()
            time.sleep(0.02)
        raise AssertionError(f"no authorization URL printed:\n{self.text}")


def wait_until_cancelled(cancelled: threading.Event) -> str | None:
    cancelled.wait(30)
    return None


def redirect_uri_of(authorization_url: str) -> str:
    return parse_qs(urlsplit(authorization_url).query)["redirect_uri"][0]


def consent_redirect(authorization_url: str) -> str:
    """Google's answer to the consent page: the address the browser is sent to (not followed)."""
    response = httpx.get(authorization_url, follow_redirects=False, timeout=10)
    assert response.status_code == 302, response.text
    return response.headers["location"]


@dataclass
class FakeBrowser:
    """An ``open_browser`` for :func:`run_login`: in a thread, like a desktop browser, it GETs
    the URL and follows the redirects to the loopback. Optionally it first asks the loopback for
    ``/favicon.ico`` or a page without a code, or changes the redirect before following it."""

    opens: bool = True
    before: tuple[str, ...] = ()  # paths requested on the loopback first
    tamper: Callable[[str], str] | None = None
    urls: list[str] = field(default_factory=list)
    stray_statuses: list[int] = field(default_factory=list)
    redirects: list[str] = field(default_factory=list)
    pages: list[tuple[int, str]] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)
    _threads: list[threading.Thread] = field(default_factory=list)

    def __call__(self, url: str) -> bool:
        self.urls.append(url)
        if self.opens:
            thread = threading.Thread(target=self._visit, args=(url,), daemon=True)
            self._threads.append(thread)
            thread.start()
        return self.opens

    def _visit(self, url: str) -> None:
        try:
            loopback = redirect_uri_of(url)
            for path in self.before:
                self.stray_statuses.append(httpx.get(loopback + path, timeout=10).status_code)
            if self.tamper is None:
                page = httpx.get(url, follow_redirects=True, timeout=10)
                self.redirects += [str(r.headers["location"]) for r in page.history]
            else:
                location = self.tamper(consent_redirect(url))
                self.redirects.append(location)
                page = httpx.get(location, timeout=10)
            self.pages.append((page.status_code, page.text))
        except BaseException as exc:
            self.errors.append(exc)

    def join(self) -> None:
        for thread in self._threads:
            thread.join(timeout=10)

    def codes(self) -> set[str]:
        return {
            code
            for location in self.redirects
            for code in parse_qs(urlsplit(location).query).get("code", [])
        }


def lines(*pasted: str) -> Callable[[threading.Event], str | None]:
    """A reader that hands out ``pasted`` in turn, then waits until cancelled."""
    queue: Iterator[str] = iter(pasted)

    def read(cancelled: threading.Event) -> str | None:
        line = next(queue, None)
        return wait_until_cancelled(cancelled) if line is None else line

    return read
