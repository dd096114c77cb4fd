"""A process killed at any point of a refresh loses no refresh token and leaves the account
usable (DESIGN invariant 3)."""

from __future__ import annotations

import os
import random
import signal
import time
from pathlib import Path

from gtoken.accounts import Accounts
from gtoken.emulator.client import Emulator
from gtoken.oauth import ClientSecrets
from tests.support import login
from tests.test_refresh import token_from

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
    emulator: Emulator, tmp_path: Path
) -> None:
    env = {"GTOKEN_HOME": str(tmp_path / "home"), "GTOKEN_EMULATOR_HOST": emulator.host}
    secrets = emulator.create_client()
    emulator.create_user("ada@example.com")
    emulator.consent_auto()
    with Accounts(env=env) as accounts:
        token = token_from(
            login(emulator, secrets, "openid email https://www.googleapis.com/auth/gmail.readonly"),
            accounts,
        )
        accounts.add(ClientSecrets.from_json(secrets), token)
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
