"""The transport against the emulator's injected faults: what is retried, what is not."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest

from gtoken.emulator.client import Emulator
from gtoken.errors import NetworkError
from gtoken.oauth import ClientSecrets, grants
from gtoken.transport import AsyncTransport, RetryPolicy, Transport
from tests.support import login

GMAIL_RO = "https://www.googleapis.com/auth/gmail.readonly"


@pytest.fixture
def refresh_request(emulator: Emulator) -> grants.TokenRequest:
    secrets = emulator.create_client()
    emulator.create_user("ada@example.com")
    emulator.consent_auto()
    tokens = login(emulator, secrets, GMAIL_RO)
    client = ClientSecrets.from_json(secrets)
    return grants.refresh(client, tokens["refresh_token"])


def policy(slept: list[float], **kw: Any) -> RetryPolicy:
    return RetryPolicy(sleep=slept.append, random=lambda: 0.5, **kw)


def token_requests(emulator: Emulator) -> int:
    return int(emulator.stats()["token"]["total"])


def test_503_twice_then_success(emulator: Emulator, refresh_request: grants.TokenRequest) -> None:
    emulator.fault("token", status=503, count=2)
    before = token_requests(emulator)
    slept: list[float] = []
    with Transport(policy(slept)) as transport:
        response = transport.send(refresh_request)
    assert response.status == 200
    assert slept == [0.125, 0.25]  # full jitter at 0.5 of 0.25 s, then of 0.5 s
    assert emulator.stats()["token"]["refresh_token"] == 1  # the failed tries never reached it
    assert token_requests(emulator) - before == 1


def test_429_waits_as_long_as_retry_after_says(
    emulator: Emulator, refresh_request: grants.TokenRequest
) -> None:
    emulator.fault("token", status=429, retry_after=3)
    slept: list[float] = []
    with Transport(policy(slept)) as transport:
        assert transport.send(refresh_request).status == 200
    assert slept == [3.0]


def test_retry_after_beyond_the_limit_returns_the_answer(
    emulator: Emulator, refresh_request: grants.TokenRequest
) -> None:
    emulator.fault("token", status=503, retry_after=3600)
    slept: list[float] = []
    with Transport(policy(slept)) as transport:
        response = transport.send(refresh_request)
    assert response.status == 503
    assert response.headers["retry-after"] == "3600"
    assert slept == []


@pytest.mark.parametrize("status", [400, 401])
def test_400_and_401_are_never_retried(emulator: Emulator, status: int) -> None:
    emulator.fault("token", status=status, count=5)
    slept: list[float] = []
    with Transport(policy(slept)) as transport:
        response = transport.request("POST", f"{emulator.url}/token", content=b"")
    assert response.status == status
    assert slept == []
    assert emulator.faults()[0]["count"] == 4  # one played, four left


def test_gives_up_after_the_attempts_with_the_last_answer(
    emulator: Emulator, refresh_request: grants.TokenRequest
) -> None:
    emulator.fault("token", status=500, count=10)
    slept: list[float] = []
    with Transport(policy(slept, attempts=3)) as transport:
        response = transport.send(refresh_request)
    assert response.status == 500
    assert len(slept) == 2


def test_dropped_connection_is_retried(
    emulator: Emulator, refresh_request: grants.TokenRequest
) -> None:
    emulator.fault("token", drop=True)
    slept: list[float] = []
    with Transport(policy(slept)) as transport:
        assert transport.send(refresh_request).status == 200
    assert len(slept) == 1


def test_connection_refused_becomes_a_network_error_without_secrets(
    refresh_request: grants.TokenRequest,
) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    dead = grants.TokenRequest(
        kind=refresh_request.kind,
        url=f"http://127.0.0.1:{port}/token?access_token=ya29.secret-in-query",
        form=refresh_request.form,
    )
    slept: list[float] = []
    with Transport(policy(slept)) as transport, pytest.raises(NetworkError) as caught:
        transport.send(dead)
    message = str(caught.value)
    assert f"http://127.0.0.1:{port}/token" in message
    assert "ya29" not in message
    assert dict(refresh_request.form)["refresh_token"] not in message
    assert caught.value.retryable
    assert len(slept) == 3


def test_async_transport_retries_the_same_way(
    emulator: Emulator, refresh_request: grants.TokenRequest
) -> None:
    emulator.fault("token", status=503)
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    async def run() -> int:
        transport = AsyncTransport(RetryPolicy(async_sleep=fake_sleep, random=lambda: 1.0))
        try:
            return (await transport.send(refresh_request)).status
        finally:
            await transport.aclose()

    assert asyncio.run(run()) == 200
    assert slept == [0.25]
