"""Many processes on one vault: one refresh for a storm of them, one claim per connection for
refresh_due in every replica, and no refresh token lost when a refreshing process is killed."""

from __future__ import annotations

import base64
import json
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import gtoken
from gtoken.emulator.client import Emulator
from gtoken.vault import Vault
from tests.support import Clock
from tests.vault.conftest import connect

ROOT = Path(__file__).resolve().parents[2]


def refreshes(emulator: Emulator) -> int:
    count: int = emulator.stats()["token"].get("refresh_token", 0)
    return count


@pytest.fixture
def workers(
    env: dict[str, str], vault_key: bytes, clock: Clock
) -> Callable[[list[list[str]]], list[dict[str, Any]]]:
    """Starts one worker process per ``args`` on this test's vault key and clock, lets them all
    go at once, and collects their results."""

    def run(args: list[list[str]]) -> list[dict[str, Any]]:
        worker_env = {
            **os.environ,
            **env,
            "GTOKEN_VAULT_KEYS": base64.b64encode(vault_key).decode(),
            "GTOKEN_TEST_CLOCK_OFFSET": str(clock.offset),
            "PYTHONPATH": str(ROOT),
        }
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "tests.vault.worker", *a],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=worker_env,
                cwd=ROOT,
            )
            for a in args
        ]
        try:
            for proc in procs:
                assert proc.stdout is not None
                line = proc.stdout.readline()
                assert line.strip() == "ready", (line, proc.stderr.read() if proc.stderr else "")
            for proc in procs:
                assert proc.stdin is not None
                proc.stdin.write("go\n")
                proc.stdin.flush()
            results = []
            for proc in procs:
                out, err = proc.communicate(timeout=120)
                assert proc.returncode == 0, err[-3000:]
                results.append(json.loads(out.strip().splitlines()[-1]))
            return results
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()

    return run


def test_3_processes_of_50_threads_cause_one_refresh(
    emulator: Emulator,
    vault: Vault,
    database_url: str,
    clock: Clock,
    workers: Callable[[list[list[str]]], list[dict[str, Any]]],
) -> None:
    connect(emulator, vault, "user-42", "ada@example.com")
    clock.advance(2 * 3600)
    results = workers([["storm", database_url, "user-42", "50"]] * 3)
    tokens = [t for r in results for t in r["tokens"]]
    assert [e for r in results for e in r["errors"]] == []
    assert len(tokens) == 150
    assert len(set(tokens)) == 1
    assert refreshes(emulator) == 1


def test_refresh_due_in_3_replicas_refreshes_each_connection_once(
    emulator: Emulator,
    vault: Vault,
    database_url: str,
    clock: Clock,
    workers: Callable[[list[list[str]]], list[dict[str, Any]]],
) -> None:
    users = [f"user-{n:02}" for n in range(20)]
    for n, user in enumerate(users):
        connect(emulator, vault, user, f"u{n}@example.com")
    clock.advance(3600 - 300)  # all within 10 minutes of expiry
    results = workers([["due", database_url]] * 3)
    assert sum(r["claimed"] for r in results) == len(users)
    assert sum(r["refreshed"] for r in results) == len(users)
    assert refreshes(emulator) == len(users)
    assert vault.refresh_due(within=600).claimed == 0  # nothing is due any more


def test_refresh_due_keeps_idle_grants_alive(
    emulator: Emulator, vault: Vault, clock: Clock
) -> None:
    emulator.configure(access_token_lifetime=90 * 86400)
    connect(emulator, vault, "idle", "idle@example.com")
    clock.advance(31 * 86400)
    assert vault.refresh_due(within=600, idle_days=30).refreshed == 1
    assert refreshes(emulator) == 1
    assert vault.refresh_due(within=600, idle_days=30).claimed == 0


def test_refresh_due_marks_a_dead_grant_and_goes_on(
    emulator: Emulator, vault: Vault, clock: Clock
) -> None:
    connect(emulator, vault, "alive", "alive@example.com")
    connect(emulator, vault, "dead", "dead@example.com")
    emulator.revoke_user("dead@example.com")
    clock.advance(2 * 3600)
    report = vault.refresh_due(within=600)
    assert (report.claimed, report.refreshed, report.needs_consent) == (2, 1, 1)
    assert vault.connection("dead").status == "needs_consent"  # type: ignore[union-attr]


def _refresh_then_die(url: str, key: bytes, env: dict[str, str], offset: float) -> None:
    import time

    with Vault(url, keys=[key], env=env, clock=lambda: time.time() + offset) as vault:
        vault.token("user-42", min_ttl=10**7)  # always refreshes
    os._exit(0)


@pytest.mark.postgres
def test_a_process_killed_while_refreshing_loses_no_refresh_token(
    emulator: Emulator,
    pg_url: str,
    open_vault_on: Callable[..., Vault],
    env: dict[str, str],
    vault_key: bytes,
    clock: Clock,
) -> None:
    vault = open_vault_on(pg_url)
    connect(emulator, vault, "user-42", "ada@example.com")
    key = (vault._client_id(None), "user-42")
    original = vault._storage.get(*key).refresh_token  # type: ignore[union-attr]
    fork = multiprocessing.get_context("fork")
    rng = random.Random(42)
    for n in range(50):
        # Google takes 5 s to answer the next refresh: long enough to be caught answering.
        if not emulator.faults():
            emulator.fault("token", delay=5, count=1)
        child = fork.Process(target=_refresh_then_die, args=(pg_url, vault_key, env, clock.offset))
        child.start()
        if n % 2 == 0:
            # Killed while Google answers: the emulator has taken the request (its fault is
            # used up) and the child holds the lock, waiting.
            deadline = time.monotonic() + 60
            while emulator.faults() and time.monotonic() < deadline:
                time.sleep(0.005)
            assert not emulator.faults(), "the child never reached Google"
            time.sleep(rng.uniform(0.0, 0.05))
        else:
            child.join(rng.uniform(0.0, 0.3))  # killed at any moment before that
        if child.is_alive():
            os.kill(child.pid, signal.SIGKILL)  # type: ignore[arg-type]
        child.join()
    emulator.clear_faults()
    after = vault._storage.get(*key)
    assert after is not None
    assert after.status == "active"
    assert after.refresh_token == original
    # The refresh token Google holds live is the one stored: it still refreshes, at once (no
    # lock was left behind).
    assert vault.token("user-42", min_ttl=10**7).refresh_token == original


@pytest.mark.postgres
def test_a_refresh_lock_held_too_long_is_a_passing_failure(
    emulator: Emulator, pg_url: str, open_vault_on: Callable[..., Vault], clock: Clock
) -> None:
    vault = open_vault_on(pg_url, lock_timeout=0.5)
    connect(emulator, vault, "user-42", "ada@example.com")
    before = vault.connection("user-42")
    clock.advance(2 * 3600)
    # Another replica holds this connection's refresh lock (stuck behind a slow Google).
    db = vault._db
    name = f"refresh:{vault._grants.name}\0{(vault._client_id(None), 'user-42')!r}"
    with (
        db.advisory_lock(name, timeout=5),  # type: ignore[attr-defined]
        pytest.raises(gtoken.TransientError, match="refresh lock"),
    ):
        vault.access_token("user-42")
    assert vault.connection("user-42") == before
    assert refreshes(emulator) == 0
    assert vault.access_token("user-42")  # once the lock is free
