"""Fixtures for the broker's tests: a broker served over loopback HTTP (uvicorn in a thread, or
``gtoken serve`` processes), on SQLite and on PostgreSQL (a schema per test), with a web client
at the emulator whose redirect URI is the broker's callback."""

from __future__ import annotations

import base64
import contextlib
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from gtoken.broker.app import create_app
from gtoken.broker.service import Broker
from gtoken.broker.settings import Settings
from gtoken.emulator.client import Emulator, EmulatorError
from gtoken.store import new_key
from tests.support import Clock, no_wait
from tests.vault.conftest import pg_schema_url

__all__ = ["pg_schema_url"]  # the vault tests' fixture: a schema of its own per test

APP = "https://app.example.com"
RETURN_URL = APP + "/connected?from=gtoken"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/broker.db"
    url: str = request.getfixturevalue("pg_schema_url")
    return url


@pytest.fixture
def vault_keys() -> str:
    return base64.b64encode(new_key()).decode()


@pytest.fixture
def broker_env(env: dict[str, str], vault_keys: str) -> dict[str, str]:
    return {**env, "GTOKEN_VAULT_KEYS": vault_keys}


def listen() -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(512)
    return sock


@dataclass
class Served:
    """A broker serving over loopback HTTP, with keys of each permission."""

    url: str
    broker: Broker
    client: dict[str, Any]
    keys: dict[str, str] = field(default_factory=dict)

    @property
    def client_id(self) -> str:
        return str(self.client["web"]["client_id"])

    def http(self, permission: str = "tokens:read") -> httpx.Client:
        return httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {self.keys[permission]}"},
            timeout=30,
        )


@contextlib.contextmanager
def serving(
    emulator: Emulator,
    env: dict[str, str],
    database_url: str,
    *,
    clock: Callable[[], float],
    client: dict[str, Any] | None = None,
    worker: bool = False,
    **settings: Any,
) -> Iterator[Served]:
    sock = listen()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    known = client is not None  # kept in the database by an earlier broker
    if client is None:
        client = emulator.create_client(type="web", redirect_uris=[url + "/connect/callback"])
    broker = Broker(
        Settings(database_url=database_url, **settings),
        env=env,
        base_url=url,
        clock=clock,
        transport=no_wait,
    )
    if not known:
        broker.register_client(client, [APP])
    served = Served(url, broker, client)
    for permission in ("tokens:read", "connections:manage", "admin"):
        served.keys[permission] = broker.records.create_key(f"test {permission}", [permission])[1]
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(broker, worker=worker),
            access_log=False,  # request lines carry the callback's code
            log_level="warning",
            lifespan="on",
        )
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(200):
            if server.started:
                break
            threading.Event().wait(0.02)
        yield served
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
        broker.close()


@pytest.fixture
def served(
    emulator: Emulator, broker_env: dict[str, str], database_url: str, clock: Clock
) -> Iterator[Served]:
    with serving(emulator, broker_env, database_url, clock=clock) as s:
        yield s


def follow(url: str, *, until: str = APP, limit: int = 10) -> httpx.Response:
    """Follow redirects as a browser would, stopping at the first response that is not a
    redirect or whose next address is under ``until`` (the app, unreachable here)."""
    with httpx.Client(timeout=30) as http:
        for _ in range(limit):
            reply = http.get(url)
            location = reply.headers.get("location")
            if reply.status_code not in (301, 302, 303, 307) or location is None:
                return reply
            if location.startswith(until):
                return reply
            url = str(reply.url.join(location))
    raise AssertionError("too many redirects")


def connect_user(
    served: Served,
    emulator: Emulator,
    user_id: str,
    email: str,
    scopes: list[str] | None = None,
    *,
    grant: str | list[str] = "all",
) -> httpx.Response:
    """The end user follows a connect link and consents at the emulator; the broker's last
    answer (a redirect to the return URL)."""
    with contextlib.suppress(EmulatorError):
        emulator.create_user(email)
    emulator.consent_auto(email=email, grant=grant)  # type: ignore[arg-type]
    with served.http("connections:manage") as http:
        link = http.post(
            "/v1/connect-links",
            json={
                "user_id": user_id,
                "scopes": scopes or ["gmail.readonly"],
                "return_url": RETURN_URL,
            },
        )
    assert link.status_code == 201, link.text
    return follow(link.json()["url"])


@contextlib.contextmanager
def broker_process(
    env: dict[str, str], *args: str, log: Path
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """``gtoken serve ARGS`` as a process; yields its URL and the process."""
    with log.open("a") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gtoken", "serve", *args],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env=env,
        )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("gtoken serve listening on "):
        proc.kill()
        proc.wait(timeout=10)
        pytest.fail(f"the broker did not start: {line!r} {log.read_text()[-3000:]}")
    try:
        yield line.split()[-1], proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        proc.stdout.close()
