"""A process killed at any point of a refresh loses no refresh token and leaves the account
usable (DESIGN invariant 3)."""

from __future__ import annotations

import os
import random
import signal
import time

from gtoken.accounts import Accounts
from gtoken.emulator.client import Emulator
from tests.support import stored_login

KILLS = 100
GMAIL_RO = "https://www.googleapis.com/auth/gmail.readonly"


def _refresh_forever(env: dict[str, str]) -> None:
    """The child: refresh as fast as it can, each time treating the held token as rejected."""
    accounts = Accounts(env=env)
    record = accounts.find()
    held = record.access_token
    while True:
        held = accounts.refresher.fresh(record.id, rejected=held).access_token


def test_sigkill_at_random_points_of_refresh_loses_nothing(
    emulator: Emulator, env: dict[str, str]
) -> None:
    with Accounts(env=env) as accounts:
        _, token = stored_login(emulator, accounts, f"openid email {GMAIL_RO}")
    original = token.refresh_token
    rng = random.Random(20261122)
    for _ in range(KILLS):
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child never returns
            try:
                _refresh_forever(env)
            finally:
                os._exit(1)
        time.sleep(rng.uniform(0.005, 0.08))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        with Accounts(env=env) as after:
            record = after.find()
            assert record.refresh_token == original
            assert record.status == "active"
    with Accounts(env=env) as accounts:
        before = emulator.stats()["token"]["refresh_token"]
        record = accounts.find()
        fresh = accounts.refresher.fresh(record.id, rejected=record.access_token)
        assert fresh.access_token != record.access_token  # not locked, not damaged
        assert emulator.stats()["token"]["refresh_token"] == before + 1
    assert before >= KILLS // 4  # refreshes really ran between the kills
