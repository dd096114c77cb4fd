"""The file locks of one machine: processes that wait for a refresh another process makes wait
together, so that they read its result at the same time, not one after another."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from gtoken.refresh import FileLocks

_TAKE = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from gtoken.refresh import FileLocks

    locks = FileLocks(Path(sys.argv[1]))
    with locks.first_or_wait("refresh:store\\0account") as first:
        began = time.time()
        time.sleep(float(sys.argv[2]))
        print(json.dumps({"first": first, "began": began, "ended": time.time()}), flush=True)
    """
)


def _take(directory: Path, seconds: float) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", _TAKE, str(directory), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )


def test_processes_waiting_for_the_holder_then_hold_the_lock_together(tmp_path: Path) -> None:
    directory = tmp_path / "locks"
    holder = _take(directory, 1.5)
    time.sleep(0.5)  # the holder has the lock (it starts within this on any machine gtoken runs)
    waiters = [_take(directory, 0.5) for _ in range(4)]

    held = json.loads(holder.communicate(timeout=60)[0])
    waited = [json.loads(w.communicate(timeout=60)[0]) for w in waiters]

    assert held["first"] is True
    assert [w["first"] for w in waited] == [False] * 4
    # Each waiter got the lock once the holder let it go, and all of them held it at once.
    assert min(w["began"] for w in waited) >= held["ended"] - 0.05
    assert max(w["began"] for w in waited) < min(w["ended"] for w in waited)


def test_nobody_holding_it_the_first_caller_holds_it_alone(tmp_path: Path) -> None:
    locks = FileLocks(tmp_path / "locks")
    with locks.first_or_wait("a") as first:
        assert first is True
    with locks.hold("a"), locks.first_or_wait("b") as other:
        assert other is True  # names do not share a lock
