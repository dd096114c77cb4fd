"""A person's login: Google's consent in a browser, by loopback or paste-back, or the device flow.

Every loopback-based login starts the receiver on ``http://127.0.0.1:PORT/`` first. With a
browser, it opens the consent page and waits for the redirect. Without one (SSH, containers,
WSL) it prints the consent page's address, and takes whichever comes first: the redirect itself
(when an SSH tunnel brings the browser to this machine) or the address the person pastes.
"""

from __future__ import annotations

import functools
import os
import queue
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Final, Literal, get_args
from urllib.parse import parse_qs

from gtoken.errors import AccessDenied, AuthorizationError, ConfigError, LoginTimeout, StateMismatch
from gtoken.flows.browser import can_open_browser, open_in_browser
from gtoken.flows.console import Console, LineReader, Waiting
from gtoken.flows.device import device_login, short_name
from gtoken.flows.loopback import LoopbackReceiver
from gtoken.oauth import scopes as _scopes
from gtoken.oauth.authorization import AuthorizationRequest, new_state, parse_redirect
from gtoken.oauth.clients import ClientSecrets
from gtoken.oauth.grants import code_exchange
from gtoken.oauth.responses import parse_token_response
from gtoken.oauth.token import Token
from gtoken.transport import Transport

__all__ = ["MAX_PASTE_TRIES", "Mode", "run_login"]

#: ``auto``: a browser when one can open here (:func:`can_open_browser`), else paste-back.
Mode = Literal["auto", "browser", "paste", "device"]

#: Unusable pasted lines allowed before the login gives up (blank lines do not count).
MAX_PASTE_TRIES: Final = 3
_TICK: Final = 0.1
# Google's codes are about 70 characters ("4/0A..."); a shorter word is a typo, not a code.
_MIN_CODE_LENGTH: Final = 20
_WAITING: Final = "Waiting for you to finish in the browser… (Ctrl-C to cancel)"
_NO_BROWSER_HINT: Final = (
    "if no browser can reach this machine (SSH, a container, WSL), use paste-back: "
    "gtoken login --no-browser (mode='paste')"
)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def run_login(
    client: ClientSecrets,
    scopes: Iterable[str],
    *,
    transport: Transport,
    console: Console,
    device_url: str,
    mode: Mode = "auto",
    open_browser: Callable[[str], bool] | None = None,
    env: Mapping[str, str] = os.environ,
    login_hint: str | None = None,
    prompt: tuple[str, ...] = (),
    include_granted_scopes: bool = False,
    timeout: float = 300.0,
    now: Callable[[], datetime] = _utcnow,
    sleep: Callable[[float], None] = time.sleep,
) -> Token:
    """Run the person through Google's consent and return the token Google granted.

    ``mode``: ``browser`` (loopback; paste-back when the browser cannot be opened), ``paste``,
    ``device``, or ``auto`` (``browser`` when :func:`can_open_browser` says so for ``env``,
    else ``paste``). ``open_browser`` opens a URL and says whether it could (default:
    :func:`open_in_browser` with ``env``'s ``BROWSER``). ``timeout`` is how long to wait for
    the person. The token's scopes are the ones Google granted, which may be fewer than
    ``scopes``; it carries an ID token when ``openid`` or ``email`` were asked. Messages and
    prompts go to ``console``; ``sleep`` and ``now`` pace the device flow and date the token.

    Raises AccessDenied, StateMismatch, LoginTimeout, AuthorizationError (unusable pasted input),
    ConfigError (a Web client; scopes the device flow refuses) and the token endpoint's errors.
    """
    if mode not in get_args(Mode):
        raise ValueError(f"mode is one of {', '.join(get_args(Mode))}, not {mode!r}")
    if not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
    if isinstance(scopes, str):
        raise TypeError("scopes is a collection of scope names, not a str")
    _check_client(client)
    if mode == "device":
        return device_login(
            client,
            scopes,
            transport=transport,
            console=console,
            device_url=device_url,
            timeout=timeout,
            now=now,
            sleep=sleep,
        )
    use_browser = mode == "browser" or (mode == "auto" and can_open_browser(env))
    state = new_state()
    with LoopbackReceiver(state=state) as receiver:
        request = AuthorizationRequest(
            client=client,
            redirect_uri=receiver.redirect_uri,
            state=state,
            scopes=frozenset(scopes),
            prompt=prompt,
            login_hint=login_hint,
            include_granted_scopes=include_granted_scopes,
        )
        opener = open_browser or functools.partial(open_in_browser, env=env)
        if use_browser and _open(console, opener, request.url()):
            code = _Wait(receiver, request, console, timeout).for_browser()
        else:
            code = _Wait(receiver, request, console, timeout).for_paste()
    token = _exchange(request, code, transport=transport, now=now)
    _signed_in(console, request, token)
    return token


def _check_client(client: ClientSecrets) -> None:
    if client.kind != "installed":
        raise ConfigError(
            f"The OAuth client {client.client_id} is a Web application client; a login from a "
            "script or terminal needs a Desktop app client (only those accept "
            "http://127.0.0.1 on any port, and the device flow).",
            hint=(
                "In Google Cloud console (APIs & Services > Credentials) create an OAuth client "
                "ID of type Desktop app and download its JSON."
            ),
        )


def _open(console: Console, open_browser: Callable[[str], bool], url: str) -> bool:
    console.say("Opening a browser to sign in with Google. If none opens, visit:")
    console.say()
    console.say(f"  {console.strong(url)}")
    console.say()
    if open_browser(url):
        return True
    console.say("No browser could be opened here; sign in from any browser instead.")
    console.say()
    return False


def _exchange(
    request: AuthorizationRequest, code: str, *, transport: Transport, now: Callable[[], datetime]
) -> Token:
    reply = transport.send(
        code_exchange(
            request.client, code=code, redirect_uri=request.redirect_uri, pkce=request.pkce
        )
    )
    return parse_token_response(
        reply.status,
        reply.headers,
        reply.body,
        grant="authorization_code",
        now=now(),
        requested_scopes=request.scopes,
    )


def _signed_in(console: Console, request: AuthorizationRequest, token: Token) -> None:
    console.say("Signed in.")
    left_out = _scopes.missing(token.scopes, request.scopes)
    if left_out:
        console.say(
            "Google granted fewer scopes than asked; not granted: "
            f"{', '.join(sorted(map(short_name, left_out)))}."
        )


def _query_names(text: str) -> frozenset[str] | None:
    """The parameter names of a pasted address or query string; None for a bare word."""
    text = text.strip().strip("\"'<>").strip()
    if "?" in text:
        query = text.split("?", 1)[1]
    elif text.lower().startswith(("http://", "https://")):
        query = ""
    elif "=" in text:
        query = text
    else:
        return None
    return frozenset(parse_qs(query.split("#", 1)[0], keep_blank_values=True))


def _unusable(line: str) -> str | None:
    """Why a pasted line cannot be the redirect or its code, when that is plain before asking
    :func:`parse_redirect`; None when it may be."""
    names = _query_names(line)
    if names is None:
        if len(line.strip().strip("\"'<>").strip()) < _MIN_CODE_LENGTH:
            return "This is too short to be an authorization code."
        return None
    if not names & {"code", "error"}:
        return (
            "This address carries no code: it is not the one the browser ended on after you "
            "allowed access."
        )
    return None


class _Wait:
    """Waiting for the authorization code: from the loopback, and in paste-back also from the
    lines the person pastes, whichever comes first."""

    def __init__(
        self,
        receiver: LoopbackReceiver,
        request: AuthorizationRequest,
        console: Console,
        timeout: float,
    ) -> None:
        self.receiver = receiver
        self.request = request
        self.console = console
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout

    def for_browser(self) -> str:
        with Waiting(self.console, _WAITING) as spinner:
            while (code := self._from_loopback()) is None:
                self._check_time(pasting=False)
                spinner.tick()
        return code

    def for_paste(self) -> str:
        self._instructions()
        lines = _Lines(self.console.read_line)
        tries = 0
        try:
            self.console.write("Paste the address here: ")
            while (code := self._from_loopback()) is None:
                for line in lines.take():
                    if line is None:
                        self.console.say()
                        self.console.say(
                            "Input ended; still waiting for the browser to reach "
                            f"{self.receiver.redirect_uri}"
                        )
                        continue
                    if not line.strip():
                        self.console.write("Paste the address here: ")
                        continue
                    tries += 1
                    pasted = self._from_paste(line, tries)
                    if pasted is not None:
                        return pasted
                self._check_time(pasting=True)
        finally:
            lines.cancel()
        self.console.say()
        self.console.say("The browser reached this machine (SSH tunnel?); nothing to paste.")
        return code

    def _instructions(self) -> None:
        port = self.receiver.port
        say, strong = self.console.say, self.console.strong
        say("To sign in, open this address in any browser, on any computer:")
        say()
        say(f"  {strong(self.request.url())}")
        say()
        say("After you allow access, the browser goes to an address starting with")
        say(f"{self.receiver.redirect_uri}, which may fail to load. Copy that whole address from")
        say("the address bar and paste it here (the code alone also works).")
        say("Over SSH? This, run on your own computer, makes that address load by itself, and")
        say(f"then nothing needs pasting:  ssh -L {port}:127.0.0.1:{port} <this host>")
        say()

    def _from_loopback(self) -> str | None:
        url = self.receiver.wait(_TICK)
        if url is None:
            return None
        return parse_redirect(url, expected_state=self.request.state)

    def _from_paste(self, line: str, tries: int) -> str | None:
        problem = _unusable(line)
        if problem is None:
            try:
                return parse_redirect(line, expected_state=self.request.state, allow_bare_code=True)
            except (AccessDenied, StateMismatch):
                raise
            except AuthorizationError as exc:
                if "error" in (_query_names(line) or ()):
                    raise  # Google's answer, not a mistyped paste
                problem = exc.message
        if tries >= MAX_PASTE_TRIES:
            raise AuthorizationError(
                f"None of the {tries} pasted lines was the address the browser ended on or its "
                f"code; the last: {problem}",
                hint=(
                    "Run the login again, allow access, and paste the whole address the browser "
                    f"ends on (it starts with {self.receiver.redirect_uri})."
                ),
            )
        left = MAX_PASTE_TRIES - tries
        self.console.say(problem)
        self.console.say(
            f"Copy the whole address starting with {self.receiver.redirect_uri} "
            f"({left} {'try' if left == 1 else 'tries'} left)."
        )
        self.console.write("Paste the address here: ")
        return None

    def _check_time(self, *, pasting: bool) -> None:
        if time.monotonic() < self.deadline:
            return
        waited = _duration(self.timeout)
        if pasting:
            self.console.say()
            raise LoginTimeout(
                f"Nothing usable was pasted, and no browser reached {self.receiver.redirect_uri}, "
                f"within {waited}.",
                hint=(
                    "Run the login again: open the address it prints, allow access, and paste "
                    "the address the browser ends on before the time runs out (or pass a longer "
                    "timeout)."
                ),
            )
        ignored = self.receiver.ignored
        raise LoginTimeout(
            f"The browser did not come back to {self.receiver.redirect_uri} within {waited}: "
            "the sign-in on Google's page was not finished, or the browser runs on another "
            "machine."
            + (
                f" {_requests(ignored)} with another login's state reached it and "
                f"{'was' if ignored == 1 else 'were'} ignored (a stale tab of an earlier login, "
                "or another program on this machine)."
                if ignored
                else ""
            ),
            hint=f"Run the login again and finish on Google's page in time; {_NO_BROWSER_HINT}.",
        )


class _Lines:
    """Lines from the console's reader, read in a thread so that the loopback can win meanwhile.
    ``None`` in :meth:`take` means the input ended."""

    def __init__(self, read_line: LineReader) -> None:
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._cancelled = threading.Event()
        self._read_line = read_line
        threading.Thread(target=self._run, name="gtoken-paste", daemon=True).start()

    def _run(self) -> None:
        while not self._cancelled.is_set():
            line = self._read_line(self._cancelled)
            if self._cancelled.is_set():
                return
            self._queue.put(line)
            if line is None:
                return

    def take(self) -> list[str | None]:
        taken: list[str | None] = []
        while True:
            try:
                taken.append(self._queue.get_nowait())
            except queue.Empty:
                return taken

    def cancel(self) -> None:
        self._cancelled.set()


def _requests(count: int) -> str:
    return f"{count} request{'' if count == 1 else 's'}"


def _duration(seconds: float) -> str:
    text = f"{seconds:g} second{'' if seconds == 1 else 's'}"
    if seconds >= 120 and seconds % 60 == 0:
        text += f" ({seconds / 60:g} minutes)"
    return text
