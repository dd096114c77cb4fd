"""Running the broker: the worker keeps grants alive from every replica (each connection
refreshed once), and the keys rotate while it serves."""

from __future__ import annotations

import base64
import concurrent.futures
import contextlib
import os
import subprocess
import sys
import threading
import time
from typing import Any

import httpx

from gtoken.emulator.client import Emulator
from gtoken.store import new_key
from gtoken.store.crypto import key_id
from tests.broker.conftest import connect_user, serving
from tests.support import Clock


def test_worker_in_two_replicas_refreshes_each_connection_once(
    emulator: Emulator, broker_env: dict[str, str], database_url: str, clock: Clock
) -> None:
    emulator.configure(access_token_lifetime=300)
    with serving(emulator, broker_env, database_url, clock=clock) as served:
        for n in range(12):
            connect_user(served, emulator, f"user-{n}", f"u{n}@example.com")
        client = served.client
    emulator.configure(access_token_lifetime=3600)
    before = emulator.stats()["token"].get("refresh_token", 0)
    options: dict[str, Any] = {"worker_interval": 0.5, "refresh_within": 600.0}
    with contextlib.ExitStack() as stack:
        for _ in range(2):
            stack.enter_context(
                serving(
                    emulator,
                    broker_env,
                    database_url,
                    clock=clock,
                    client=client,
                    worker=True,
                    **options,
                )
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if emulator.stats()["token"].get("refresh_token", 0) - before >= 12:
                break
            time.sleep(0.2)
        time.sleep(1.5)  # more looks by both workers: nothing is due any more
    assert emulator.stats()["token"].get("refresh_token", 0) - before == 12


def test_rekey_while_serving(
    emulator: Emulator, broker_env: dict[str, str], database_url: str, clock: Clock
) -> None:
    old = broker_env["GTOKEN_VAULT_KEYS"]
    with serving(emulator, broker_env, database_url, clock=clock) as served:
        for n in range(5):
            connect_user(served, emulator, f"user-{n}", f"u{n}@example.com")
        with served.http("admin") as http:
            assert http.post("/v1/webhooks", json={"url": "http://127.0.0.1:9/x"}).is_success
        client = served.client
    new = base64.b64encode(new_key()).decode()
    rotated = {**broker_env, "GTOKEN_VAULT_KEYS": f"{new},{old}"}
    failures: list[str] = []
    stop = threading.Event()
    with serving(emulator, rotated, database_url, clock=clock, client=client) as served:

        def ask(n: int) -> None:
            with served.http() as http:
                while not stop.is_set():
                    reply = http.post(f"/v1/connections/user-{n % 5}/token", json={})
                    if reply.status_code != 200:
                        failures.append(reply.text)

        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            asking = [pool.submit(ask, n) for n in range(4)]
            run = subprocess.run(
                [sys.executable, "-m", "gtoken", "serve", "rekey", "--database-url", database_url],
                env={**os.environ, **rotated},
                capture_output=True,
                text=True,
                timeout=120,
            )
            stop.set()
            for future in asking:
                future.result()
        assert run.returncode == 0, run.stderr
        assert "older keys can be dropped" in run.stderr
        assert served.broker.vault.key_ids_in_use() == {key_id(base64.b64decode(new))}
    assert failures == []
    # The old key dropped: everything still opens, the webhook secret too.
    with serving(
        emulator, {**broker_env, "GTOKEN_VAULT_KEYS": new}, database_url, clock=clock, client=client
    ) as served:
        with served.http() as http:
            assert http.post("/v1/connections/user-3/token", json={}).status_code == 200
        assert served.broker.webhooks._secret(served.broker.webhooks.endpoints()[0].id)
        assert httpx.get(f"{served.url}/readyz").status_code == 200
