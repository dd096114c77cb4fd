"""The loopback redirect target: ``http://127.0.0.1:PORT/`` on a port the system picks.

The server runs in a thread from the moment the receiver is entered, so it is listening before a
browser is opened. It serves until a request to ``/`` carrying ``code`` or ``error`` and this
login's ``state`` arrives; anything else (``/favicon.ico``, a request without those parameters, a
browser's idle preconnection) gets a 404 or is dropped, and the wait goes on. A redirect with
another state (another local user's process poking the port, a stale tab of an earlier login) is
answered with a plain page and ignored: it can neither end nor hijack the login. The browser is
answered with a short page saying it may close the window, which never shows the code.
"""

from __future__ import annotations

import hmac
import socketserver
import threading
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Final
from urllib.parse import parse_qs, urlsplit

__all__ = ["LoopbackReceiver"]

HOST: Final = "127.0.0.1"
REDIRECT_PATH: Final = "/"

_STYLE: Final = (
    "body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;"
    "color:#1f1f1f}h1{font-weight:400;font-size:1.5rem}p{color:#444}"
)
_SIGNED_IN: Final = (
    "Signed in",
    "You may close this window.",
    "The sign-in finished; go back to the terminal.",
)
_NOT_SIGNED_IN: Final = (
    "Sign-in not completed",
    "You may close this window.",
    "Google sent no authorization; the terminal says why and what to do next.",
)
_NOT_THIS_LOGIN: Final = (
    "Not this sign-in",
    "This address does not belong to the sign-in waiting here.",
    "It was ignored. If you are signing in, finish on the consent page the terminal opened.",
)


def _page(title: str, heading: str, text: str) -> bytes:
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<meta name=referrer content=no-referrer><title>{escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body><h1>{escape(heading)}</h1>"
        f"<p>{escape(text)}</p></body></html>"
    ).encode()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False  # never share a port with another listener

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks up the host's FQDN, which can take seconds on a machine
        # with slow DNS; the name is not needed.
        socketserver.TCPServer.server_bind(self)
        self.server_name = HOST
        self.server_port = self.server_address[1]

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a browser that hangs up mid-request is no concern of the person's


class LoopbackReceiver:
    """Waits for the browser's redirect on ``http://127.0.0.1:PORT/``.

    ``with LoopbackReceiver(state=request_state) as receiver:`` binds a free port and starts
    serving; :attr:`redirect_uri` is the redirect URI to put in the authorization request and
    :meth:`wait` returns the redirect URL as received, query included, once one carrying
    ``state`` has arrived. :attr:`ignored` counts the redirects with another state. Leaving the
    block (also by an exception or Ctrl-C) stops the server and closes the port.
    """

    def __init__(self, *, state: str) -> None:
        if not isinstance(state, str) or not state:
            raise ValueError("state must be the authorization request's non-empty state")
        self._state = state
        self.ignored = 0
        self._arrived = threading.Event()
        self._lock = threading.Lock()
        self._url: str | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the receiver is not running: use it as a context manager")
        return self._server.server_port

    @property
    def redirect_uri(self) -> str:
        """``http://127.0.0.1:PORT/``."""
        return f"http://{HOST}:{self.port}{REDIRECT_PATH}"

    def __enter__(self) -> LoopbackReceiver:
        if self._server is not None:
            raise RuntimeError("a receiver serves one login; make a new one")
        self._server = _Server((HOST, 0), _handler_for(self))
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"gtoken-loopback-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop serving and close the port; idempotent."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self._thread = None
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    def wait(self, timeout: float | None = None) -> str | None:
        """The redirect URL (``http://127.0.0.1:PORT/?state=...&code=...``) once it has
        arrived, or None if it has not within ``timeout`` seconds (None: wait for ever)."""
        if not self._arrived.wait(timeout):
            return None
        return self._url

    def _arrive(self, path: str) -> bool:
        """Record the first redirect; False when one was already recorded."""
        with self._lock:
            if self._url is not None:
                return False
            self._url = f"http://{HOST}:{self.port}{path}"
        self._arrived.set()
        return True

    def _belongs(self, path: str) -> bool:
        """Whether the redirect at ``path`` carries this login's state."""
        given = parse_qs(urlsplit(path).query, keep_blank_values=True).get("state", [])
        if len(given) == 1 and hmac.compare_digest(given[0].encode(), self._state.encode()):
            return True
        with self._lock:
            self.ignored += 1
        return False


def _is_redirect(path: str) -> bool:
    parts = urlsplit(path)
    if parts.path != REDIRECT_PATH:
        return False
    params = parse_qs(parts.query, keep_blank_values=True)
    return "code" in params or "error" in params


def _handler_for(receiver: LoopbackReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # An idle connection (a browser's preconnection) is dropped after this many seconds
        # instead of holding its thread.
        timeout = 10
        server_version = "gtoken"
        sys_version = ""

        def do_GET(self) -> None:
            if not _is_redirect(self.path):
                self._answer(404, _page("Not found", "Not found", "Nothing here."))
                return
            if not receiver._belongs(self.path):
                self._answer(400, _page(*_NOT_THIS_LOGIN))
                return
            has_code = "code" in parse_qs(urlsplit(self.path).query)
            try:
                self._answer(200, _page(*(_SIGNED_IN if has_code else _NOT_SIGNED_IN)))
            except OSError:
                pass  # the browser went away; the redirect still counts
            finally:
                # Recorded once the browser has its page: the login closes the server as soon
                # as it sees the redirect.
                receiver._arrive(self.path)

        def _answer(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
            self.close_connection = True

        def log_message(self, format: str, *args: object) -> None:
            pass  # the request line carries the authorization code

    return Handler
