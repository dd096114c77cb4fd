"""``gtoken emulator`` as a subprocess on 127.0.0.1, as users run it, for the benchmarks."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass

LISTENING = "gtoken emulator listening on "


@dataclass(frozen=True)
class Server:
    url: str
    pid: int


@contextlib.contextmanager
def emulator_process() -> Iterator[Server]:
    """``gtoken emulator`` on a free port of 127.0.0.1, as a subprocess."""
    argv = [sys.executable, "-m", "gtoken", "emulator", "--host", "127.0.0.1", "--port", "0"]
    with tempfile.TemporaryFile("w+") as stderr:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=stderr, text=True)
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            if not line.startswith(LISTENING):
                proc.kill()
                proc.wait()
                stderr.seek(0)
                raise RuntimeError(f"the emulator did not start: {line!r} {stderr.read()}")
            yield Server(line.split()[-1], proc.pid)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
