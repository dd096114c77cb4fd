"""The file locks of one machine: processes that wait for a refresh another process makes wait
together, so that they read its result at the same time, not one after another."""

from __future__ import annotations

import select
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from gtoken.refresh import FileLocks

_TAKE = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from gtoken.refresh import FileLocks

    locks = FileLocks(Path(sys.argv[1]))
    with locks.first_or_wait("refresh:store\\0account") as first:
        print("first" if first else "waited", flush=True)
        sys.stdin.readline()  # hold the lock until the test says let go
    """
)


def _take(directory: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", _TAKE, str(directory)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def _line(proc: subprocess.Popen[str], seconds: float = 60) -> str:
    """The next line ``proc`` prints, or a failure after ``seconds`` (however loaded the machine
    is, a process that holds or gets the lock says so well within that)."""
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], seconds)
    assert ready, "no word from the process in time"
    return proc.stdout.readline().strip()


def _blocked_on(lock_file: Path) -> int:
    """How many processes the kernel has waiting for ``lock_file``'s lock (Linux /proc/locks)."""
    inode = f":{lock_file.stat().st_ino} "
    return sum(
        "->" in line and inode in line for line in Path("/proc/locks").read_text().splitlines()
    )


def test_processes_waiting_for_the_holder_then_hold_the_lock_together(tmp_path: Path) -> None:
    directory = tmp_path / "locks"
    holder = _take(directory)
    waiters: list[subprocess.Popen[str]] = []
    try:
        assert _line(holder) == "first"
        (lock_file,) = directory.iterdir()
        waiters = [_take(directory) for _ in range(4)]
        deadline = time.monotonic() + 60
        while _blocked_on(lock_file) < 4:  # all four are waiting for the holder
            assert time.monotonic() < deadline, "the waiters never queued for the lock"
            time.sleep(0.02)
        assert holder.stdin is not None
        holder.stdin.write("\n")
        holder.stdin.flush()
        # Every waiter says it holds the lock while none has let go yet: they hold it together.
        # (Were the lock exclusive, only one would speak and the others would wait for it.)
        assert [_line(w) for w in waiters] == ["waited"] * 4
    finally:
        for proc in [holder, *waiters]:
            proc.kill()
            proc.wait(timeout=60)
            for stream in (proc.stdin, proc.stdout):
                if stream is not None:
                    stream.close()


def test_nobody_holding_it_the_first_caller_holds_it_alone(tmp_path: Path) -> None:
    locks = FileLocks(tmp_path / "locks")
    with locks.first_or_wait("a") as first:
        assert first is True
    with locks.hold("a"), locks.first_or_wait("b") as other:
        assert other is True  # names do not share a lock
