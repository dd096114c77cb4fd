"""A ``gtoken`` command that never ends is killed by the helpers' deadline and fails its test,
whichever way the test talks to it."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.cli.conftest import Gtoken

KILLED = r"was still running after 2 s and was killed"


def test_a_command_run_to_its_end_is_killed_at_its_deadline(gtoken: Gtoken) -> None:
    # The emulator serves until it is stopped: a command that never exits on its own.
    with pytest.raises(pytest.fail.Exception, match=KILLED):
        gtoken("emulator", "--port", "0", timeout=2)
    assert gtoken.deadlines[-1].proc.returncode == -signal.SIGKILL


def test_a_command_waiting_for_input_is_killed_at_its_deadline(
    gtoken: Gtoken, client_secrets: Path
) -> None:
    proc = gtoken.popen(
        "login", "--client-secrets", str(client_secrets), "--scope", "mail", "--no-browser",
        deadline=2,
    )  # fmt: skip
    seen = gtoken.read_until(proc, "/o/oauth2/v2/auth?")
    # Nobody pastes the address: finish() reads stderr to its end, which never comes by itself.
    with pytest.raises(pytest.fail.Exception, match=KILLED):
        gtoken.finish(proc, seen, ("login",))
    assert proc.returncode == -signal.SIGKILL


def test_waiting_for_a_line_that_never_comes_ends_at_the_deadline(
    gtoken: Gtoken, client_secrets: Path
) -> None:
    proc = gtoken.popen(
        "login", "--client-secrets", str(client_secrets), "--scope", "mail", "--no-browser",
        deadline=2,
    )  # fmt: skip
    with pytest.raises(pytest.fail.Exception, match=KILLED):
        gtoken.read_until(proc, "a line gtoken never prints")
