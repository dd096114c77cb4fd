"""A signed-in account for the benchmarks: the emulator, a temporary gtoken home, one login.

The account is stored as ``gtoken login`` stores it (a code flow with PKCE against the emulator,
then :meth:`gtoken.accounts.Accounts.add`), in a ``GTOKEN_HOME`` that is removed afterwards.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import secrets
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from bench.emulator import Server, emulator_process
from gtoken.accounts import Accounts
from gtoken.emulator.client import Emulator
from gtoken.oauth import ClientSecrets, Token
from gtoken.oauth.responses import parse_token_response

EMAIL = "ada@example.com"
GMAIL = "https://www.googleapis.com/auth/gmail.readonly"
SCOPE = f"openid email {GMAIL}"
REDIRECT_URI = "http://127.0.0.1:8765/"  # nothing listens; the code is read off the redirect
LIFETIME = 3599  # seconds: what Google's access tokens live, and the emulator's default
# Variables of the caller's environment that the benchmark's processes keep; no GTOKEN_* among
# them, so that nothing of the person's own gtoken setup takes part.
KEPT = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")


@dataclass(frozen=True)
class SignedIn:
    """One installed-app client, one user and the account a login stored for them."""

    server: Server
    emu: Emulator
    env: dict[str, str]  # for gtoken in this process and in subprocesses
    directory: Path  # temporary; GTOKEN_HOME is inside
    secrets: dict[str, Any]  # the client's client_secret.json
    login: Token  # what the login returned

    def refreshes(self) -> int:
        """Refresh-token grants the emulator has answered so far."""
        return int(self.emu.stats()["token"].get("refresh_token", 0))


@contextlib.contextmanager
def signed_in() -> Iterator[SignedIn]:
    """A fresh emulator and gtoken home with one signed-in account; all removed afterwards."""
    with (
        emulator_process() as server,
        Emulator(server.url) as emu,
        tempfile.TemporaryDirectory(prefix="gtoken-bench-") as tmp,
    ):
        client = emu.create_client(type="installed")
        emu.create_user(EMAIL, "Ada Lovelace")
        emu.consent_auto(email=EMAIL)
        directory = Path(tmp)
        env = {name: os.environ[name] for name in KEPT if name in os.environ}
        env |= {"GTOKEN_HOME": str(directory / "home"), "GTOKEN_EMULATOR_HOST": emu.host}
        token = _code_flow(emu, client)
        with Accounts(env=env) as accounts:
            accounts.add(ClientSecrets.from_json(client), token)
        yield SignedIn(server, emu, env, directory, client, token)


def _code_flow(emu: Emulator, client: dict[str, Any]) -> Token:
    """Consent (answered at once by the emulator) and the code exchange, with PKCE."""
    info = client["installed"]
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    params = {
        "client_id": info["client_id"],
        "redirect_uri": REDIRECT_URI,
        "response_type": "code",
        "scope": SCOPE,
        "access_type": "offline",
        "code_challenge": base64.urlsafe_b64encode(digest).rstrip(b"=").decode(),
        "code_challenge_method": "S256",
    }
    with httpx.Client(base_url=emu.url) as http:
        answer = http.get("/o/oauth2/v2/auth", params=params)
        if answer.status_code != 302:
            raise RuntimeError(f"the emulator refused consent: {answer.status_code}")
        code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
        answer = http.post(
            "/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "code_verifier": verifier,
                "client_id": info["client_id"],
                "client_secret": info["client_secret"],
                "redirect_uri": REDIRECT_URI,
            },
        )
    return parse_token_response(
        answer.status_code,
        answer.headers,
        answer.content,
        grant="authorization_code",
        now=datetime.now(UTC),
    )


def expire(emu: Emulator, accounts: Accounts) -> None:
    """Let the account's stored access token expire, for real and at once.

    No clock is faked and nothing is written behind gtoken's back: the emulator is told to issue
    tokens that live one second, gtoken refreshes (asked for a token valid longer than any) and
    stores one such token, the emulator goes back to Google's lifetime, and the stored token is
    left to lapse. The next caller finds an expired token, as after an hour of idling; the
    refresh it makes brings a token of the usual lifetime, so every caller of a storm is served
    by that one refresh."""
    emu.configure(access_token_lifetime=1)
    try:
        accounts.token(min_ttl=10 * LIFETIME)
    finally:
        emu.configure(access_token_lifetime=LIFETIME)
    expires_at = accounts.find().expires_at
    assert expires_at is not None
    time.sleep(max(0.0, expires_at - time.time()) + 0.01)
    if accounts.find().expires_at != expires_at:
        raise RuntimeError("the account's token changed while it was left to expire")


def fingerprint(token: str) -> str:
    """How the benchmarks tell tokens apart without handling them: a SHA-256 prefix."""
    return hashlib.sha256(token.encode()).hexdigest()[:16]
