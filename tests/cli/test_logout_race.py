"""``gtoken logout`` while another process refreshes the same account."""

from __future__ import annotations

import time

from gtoken.emulator.client import Emulator
from tests.cli.conftest import Gtoken, Run


def test_a_refresh_whose_account_is_logged_out_meanwhile_is_consent_needed(
    gtoken: Gtoken, signed_in: Run, emulator: Emulator
) -> None:
    emulator.fault("token", delay=3)
    refreshing = gtoken.popen("token", "--min-ttl", "3599")
    deadline = time.monotonic() + 30
    while emulator.faults():  # the refresh has reached Google and waits for its answer
        assert time.monotonic() < deadline, "the refresh never reached the token endpoint"
        time.sleep(0.05)

    logout = gtoken("logout")
    done = gtoken.finish(refreshing, [], ("token", "--min-ttl", "3599"))

    assert logout.returncode == 0, logout.stderr
    assert done.returncode == 4, done.stderr
    assert "logged out" in done.stderr or "signed out" in done.stderr
    assert "no account with id" not in done.stderr
    assert gtoken("accounts", "--json").stdout.strip() == "[]"
