"""Helpers for tests that talk to the emulator as an application would."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from gtoken.accounts import Accounts
from gtoken.emulator.client import Emulator
from gtoken.oauth import ClientSecrets, Token
from gtoken.oauth.responses import parse_token_response
from gtoken.transport import RetryPolicy, Transport

LOOPBACK = "http://127.0.0.1:8765/"


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize(emu: Emulator, client: dict[str, Any], scope: str, **extra: str) -> httpx.Response:
    """GET the authorization endpoint as a browser would, without following the redirect."""
    info = next(iter(client.values()))
    params = {
        "client_id": info["client_id"],
        "redirect_uri": extra.pop("redirect_uri", LOOPBACK),
        "response_type": "code",
        "scope": scope,
        **extra,
    }
    return httpx.get(f"{emu.url}/o/oauth2/v2/auth", params=params)


def redirect_params(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    return dict(parse_qsl(urlsplit(response.headers["location"]).query))


def login(
    emu: Emulator, client: dict[str, Any], scope: str, *, redirect_uri: str = LOOPBACK, **extra: str
) -> dict[str, Any]:
    """The whole code flow with PKCE in auto consent; returns the token response."""
    verifier, challenge = pkce_pair()
    response = authorize(
        emu,
        client,
        scope,
        redirect_uri=redirect_uri,
        code_challenge=challenge,
        code_challenge_method="S256",
        **extra,
    )
    code = redirect_params(response)["code"]
    return exchange(emu, client, code, verifier=verifier, redirect_uri=redirect_uri).json()  # type: ignore[no-any-return]


def exchange(
    emu: Emulator,
    client: dict[str, Any],
    code: str,
    *,
    verifier: str | None,
    redirect_uri: str = LOOPBACK,
) -> httpx.Response:
    info = next(iter(client.values()))
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": info["client_id"],
        "client_secret": info["client_secret"],
        "redirect_uri": redirect_uri,
    }
    if verifier is not None:
        data["code_verifier"] = verifier
    return httpx.post(info["token_uri"], data=data)


def refresh(
    emu: Emulator, client: dict[str, Any], refresh_token: str, **extra: str
) -> httpx.Response:
    info = next(iter(client.values()))
    data = {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": info["client_id"],
        "client_secret": info["client_secret"],
        **extra,
    }
    return httpx.post(info["token_uri"], data=data)


class Clock:
    """gtoken's clock kept in step with the emulator's: ``advance`` moves both."""

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        self.offset = 0.0

    def __call__(self) -> float:
        import time

        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.emu.advance(seconds)
        self.offset += seconds


def no_wait() -> Transport:
    """gtoken's transport with its retries' sleeps left out."""
    return Transport(RetryPolicy(sleep=lambda s: None))


def token_from(body: dict[str, Any], now: float) -> Token:
    """The Token gtoken reads from a token endpoint answer ``body`` at ``now``."""
    return parse_token_response(
        200,
        {"content-type": "application/json"},
        json.dumps(body).encode(),
        grant="authorization_code",
        now=datetime.fromtimestamp(now, UTC),
    )


def stored_login(
    emu: Emulator,
    accounts: Accounts,
    scope: str,
    *,
    client: dict[str, Any] | None = None,
    email: str = "ada@example.com",
) -> tuple[ClientSecrets, Token]:
    """An account stored as ``gtoken login`` stores it: the code flow in auto consent as
    ``email`` (created if new), then Accounts.add. Returns the client and the login's Token."""
    client = client or emu.create_client()
    if not any(u["email"] == email for u in emu._call("GET", "/users")["users"]):
        emu.create_user(email)
    emu.consent_auto(email=email)
    secrets = ClientSecrets.from_json(client)
    token = token_from(login(emu, client, scope, access_type="offline"), accounts.clock())
    accounts.add(secrets, token)
    return secrets, token
