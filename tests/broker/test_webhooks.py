"""Webhooks: signed per Standard Webhooks (checked by its reference package), delivered from the
outbox by the worker, retried after a failure, and delivered once across a restart."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from gtoken.emulator.client import Emulator
from tests.broker.conftest import connect_user, serving
from tests.support import Clock

EMAIL = "ada@example.com"


class Receiver:
    """A webhook receiver on loopback that records each request, failing some of them."""

    def __init__(self, fail: Any = lambda n: False) -> None:
        self.received: list[tuple[dict[str, str], bytes, int]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                with receiver.lock:
                    n = len(receiver.received)
                    status = 500 if fail(n) else 204
                    receiver.received.append(
                        ({k.lower(): v for k, v in self.headers.items()}, body, status)
                    )
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def delivered(self) -> list[tuple[dict[str, str], bytes]]:
        with self.lock:
            return [(h, b) for h, b, status in self.received if status < 300]

    def wait(self, count: int, timeout: float = 30) -> list[tuple[dict[str, str], bytes]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.delivered()
            if len(found) >= count:
                return found
            time.sleep(0.1)
        raise AssertionError(f"{len(self.delivered())} of {count} webhooks arrived")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def add_endpoint(http: httpx.Client, url: str, events: list[str] | None = None) -> str:
    reply = http.post("/v1/webhooks", json={"url": url, "events": events or []})
    assert reply.status_code == 201, reply.text
    secret: str = reply.json()["secret"]
    assert secret.startswith("whsec_")
    assert (
        "secret" not in http.get("/v1/webhooks").json()[0]
        or not (http.get("/v1/webhooks").json()[0]["secret"])
    )
    return secret


def test_signed_and_verified_by_the_reference_check(
    emulator: Emulator,
    broker_env: dict[str, str],
    database_url: str,
    clock: Clock,
    receiver: Receiver,
) -> None:
    with serving(emulator, broker_env, database_url, clock=clock, worker=True) as served:
        with served.http("admin") as http:
            secret = add_endpoint(http, receiver.url)
        connect_user(served, emulator, "user-1", EMAIL)
        with served.http("admin") as http:
            assert http.delete("/v1/connections/user-1").status_code == 204
        arrived = receiver.wait(2)
    types = []
    for headers, body in arrived:
        payload = Webhook(secret).verify(body, headers)
        types.append(payload["type"])
        assert payload["data"]["user_id"] == "user-1"
        assert headers["webhook-id"].startswith("msg_")
        with pytest.raises(WebhookVerificationError):
            Webhook(secret).verify(body.replace(b"user-1", b"user-2"), headers)
    assert sorted(types) == ["connection.created", "connection.revoked"]  # in any order


def test_needs_consent_event(
    emulator: Emulator,
    broker_env: dict[str, str],
    database_url: str,
    clock: Clock,
    receiver: Receiver,
) -> None:
    emulator.configure(access_token_lifetime=30)
    with serving(emulator, broker_env, database_url, clock=clock, worker=True) as served:
        with served.http("admin") as http:
            secret = add_endpoint(http, receiver.url, ["connection.needs_consent"])
        connect_user(served, emulator, "user-1", EMAIL)
        emulator.revoke_user(EMAIL)
        with served.http() as http:
            assert http.post("/v1/connections/user-1/token", json={}).status_code == 409
        ((headers, body),) = receiver.wait(1)
    payload = Webhook(secret).verify(body, headers)
    assert payload["type"] == "connection.needs_consent"
    assert payload["data"]["reason"]


def test_delivered_once_across_a_restart(
    emulator: Emulator,
    broker_env: dict[str, str],
    database_url: str,
    clock: Clock,
    receiver: Receiver,
) -> None:
    # The first broker queues the events but has no worker: it stops with them undelivered.
    with serving(emulator, broker_env, database_url, clock=clock) as served:
        with served.http("admin") as http:
            add_endpoint(http, receiver.url)
        for n in range(3):
            connect_user(served, emulator, f"user-{n}", f"u{n}@example.com")
        assert served.broker.webhooks.backlog() == 3
        client = served.client
    assert receiver.received == []
    with serving(
        emulator, broker_env, database_url, clock=clock, client=client, worker=True
    ) as served:
        receiver.wait(3)
        time.sleep(2.5)  # a second look by the worker sends nothing again
        assert served.broker.webhooks.backlog() == 0
    ids = [h["webhook-id"] for h, _ in receiver.delivered()]
    assert len(ids) == 3
    assert len(set(ids)) == 3
    assert len(receiver.received) == 3


def test_a_failed_delivery_is_retried_with_the_same_id(
    emulator: Emulator,
    broker_env: dict[str, str],
    database_url: str,
    clock: Clock,
) -> None:
    flaky = Receiver(fail=lambda n: n == 0)
    try:
        with serving(emulator, broker_env, database_url, clock=clock, worker=True) as served:
            with served.http("admin") as http:
                add_endpoint(http, flaky.url)
            connect_user(served, emulator, "user-1", EMAIL)
            flaky.wait(1, timeout=30)
            deadline = time.monotonic() + 10  # the answer is recorded just after it arrives
            while served.broker.webhooks.backlog() and time.monotonic() < deadline:
                time.sleep(0.05)
            (message,) = served.broker.webhooks.messages()
        assert message.attempts == 2
        assert message.delivered_at is not None
        first, second = flaky.received
        assert first[2] == 500
        assert second[2] == 204
        assert first[0]["webhook-id"] == second[0]["webhook-id"]
        assert json.loads(first[1]) == json.loads(second[1])
    finally:
        flaky.close()
