"""One process of ``bench.refresh_storm``: threads that ask gtoken for the default account's
access token, all at once, at a release time the benchmark sends.

Run as ``python bench/storm_worker.py THREADS [--warm]`` with ``GTOKEN_HOME`` and
``GTOKEN_EMULATOR_HOST`` in the environment. It imports gtoken, opens the accounts, reads the
store and starts THREADS threads that live as long as it does (with ``--warm`` it also opens
gtoken's HTTP client, which a process's first refresh would do otherwise), then prints
``ready``. Each line it reads on stdin is a release time in seconds since the epoch: every
thread asks for the token once from that moment on, and the process prints one JSON line with
the time it let them go, the CPU time it used for the round, and per caller when it began and
when it had its answer (by the wall clock, which all processes share) and a fingerprint of the
token. An empty line or the end of stdin ends it.

Only gtoken and the standard library: the benchmark's own package is not imported here.
"""

from __future__ import annotations

import hashlib
import json
import queue
import sys
import threading
import time
from typing import Any

from gtoken.accounts import Accounts


class Callers:
    """Threads that live as long as the process, as a server's worker threads do; each round
    they all wait for one event, then ask for the token once."""

    def __init__(self, accounts: Accounts, threads: int) -> None:
        self.accounts = accounts
        self.inboxes: list[queue.Queue[threading.Event | None]] = []
        self.answers: queue.Queue[dict[str, Any]] = queue.Queue()
        for _ in range(threads):
            inbox: queue.Queue[threading.Event | None] = queue.Queue()
            threading.Thread(target=self._serve, args=(inbox,), daemon=True).start()
            self.inboxes.append(inbox)

    def _serve(self, inbox: queue.Queue[threading.Event | None]) -> None:
        while (go := inbox.get()) is not None:
            go.wait()
            self.answers.put(self._ask())

    def _ask(self) -> dict[str, Any]:
        begun = time.time()
        try:
            token = self.accounts.token().access_token
        except Exception as exc:  # told to the benchmark, which fails the run
            # gtoken's messages name no secret (DESIGN invariant 1).
            return {"error": f"{type(exc).__name__}: {exc}"}
        done = time.time()
        return {
            "begun": begun,
            "done": done,
            "token": hashlib.sha256(token.encode()).hexdigest()[:16],
        }

    def storm(self, release: float) -> dict[str, Any]:
        """Every thread asks once, from ``release`` on; when each began and had its answer."""
        go = threading.Event()
        for inbox in self.inboxes:
            inbox.put(go)
        cpu = time.process_time()
        time.sleep(max(0.0, release - time.time()))
        released = time.time()
        go.set()
        callers = [self.answers.get() for _ in self.inboxes]
        return {"released": released, "callers": callers, "cpu": time.process_time() - cpu}

    def stop(self) -> None:
        for inbox in self.inboxes:
            inbox.put(None)


def main(argv: list[str]) -> int:
    threads = int(argv[0])
    with Accounts() as accounts:
        accounts.find()
        if "--warm" in argv[1:]:
            accounts.refresher.transport()
        callers = Callers(accounts, threads)
        print("ready", flush=True)
        for line in sys.stdin:
            if not line.strip():
                break
            print(json.dumps(callers.storm(float(line))), flush=True)
        callers.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
