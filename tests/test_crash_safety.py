"""A process killed at any point of a refresh loses no refresh token and leaves the account
usable (DESIGN invariant 3)."""

from __future__ import annotations

import os
import random
import select
import signal
import time

from gtoken.accounts import Accounts
from gtoken.emulator.client import Emulator
from tests.support import stored_login

KILLS = 100
GMAIL_RO = "https://www.googleapis.com/auth/gmail.readonly"


def _refresh_forever(env: dict[str, str], signal_fd: int) -> None:
    """The child: refresh as fast as it can, each time treating the held token as rejected, and
    write a byte to ``signal_fd`` as each refresh ends (so the parent knows one is under way)."""
    accounts = Accounts(env=env)
    record = accounts.find()
    held = record.access_token
    os.write(signal_fd, b"s")  # set up: the next thing it does is a refresh
    while True:
        held = accounts.refresher.fresh(record.id, rejected=held).access_token
        os.write(signal_fd, b"r")


def _wait_for(fd: int, count: int) -> None:
    """Read ``count`` bytes the child writes, however slowly a loaded machine runs it."""
    while count:
        ready, _, _ = select.select([fd], [], [], 60)
        assert ready, "the child stopped signalling"
        got = os.read(fd, count)
        assert got, "the child died before it was killed"
        count -= len(got)


def test_sigkill_at_random_points_of_refresh_loses_nothing(
    emulator: Emulator, env: dict[str, str]
) -> None:
    with Accounts(env=env) as accounts:
        _, token = stored_login(emulator, accounts, f"openid email {GMAIL_RO}")
    original = token.refresh_token
    rng = random.Random(20261122)
    for _ in range(KILLS):
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child never returns
            try:
                os.close(read_fd)
                _refresh_forever(env, write_fd)
            finally:
                os._exit(1)
        os.close(write_fd)
        try:
            # Set up, and one refresh done: the child is now inside its second refresh, at a
            # point chosen by how long the parent waits before the kill.
            _wait_for(read_fd, 2)
            time.sleep(rng.uniform(0.0, 0.03))
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        finally:
            os.close(read_fd)
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
    assert before >= KILLS  # each child refreshed once before it was killed in another refresh
