"""No test can hang the suite: a stuck test fails by pytest-timeout, with or without xdist.

The limit is pyproject.toml's ``timeout``; the ``gtoken`` helpers of tests/cli have their own,
shorter deadline (tests/cli/test_deadlines.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

STUCK = textwrap.dedent(
    """
    import subprocess, sys

    def test_waits_for_a_child_that_never_exits():
        # What a helper that reads a child's output to the end does when the child hangs.
        child = (
            "import os, sys, time; open(sys.argv[1], 'w').write(str(os.getpid())); "
            "time.sleep(600)"
        )
        subprocess.run([sys.executable, "-c", child, sys.argv[-1]], capture_output=True)
    """
)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize("workers", [[], ["-n", "1"]], ids=["plain", "xdist"])
def test_a_test_stuck_on_its_child_fails_by_timeout(tmp_path: Path, workers: list[str]) -> None:
    stuck = tmp_path / "test_stuck.py"
    pidfile = tmp_path / "child.pid"
    stuck.write_text(STUCK.replace("sys.argv[-1]", repr(str(pidfile))))
    pytest_args = ["-c", str(ROOT / "pyproject.toml"), "-p", "no:cacheprovider", "-o", "timeout=3"]
    run = subprocess.run(
        [sys.executable, "-m", "pytest", *pytest_args, *workers, str(stuck)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,  # this test's own bound: the stuck one must be over well before
    )
    out = run.stdout + run.stderr
    assert run.returncode == 1, out
    assert "Timeout (>3.0s) from pytest-timeout" in out
    assert "1 failed" in out
    assert not alive(int(pidfile.read_text())), "the stuck child was left running"


def test_the_limit_is_configured_for_every_test() -> None:
    from tomllib import loads

    options = loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert options["timeout"] >= 120
    assert options["timeout_method"] == "signal"
