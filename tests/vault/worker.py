"""A process using a vault, for the tests of many processes at once.

    python -m tests.vault.worker storm URL USER THREADS   many threads ask for USER's token
    python -m tests.vault.worker due URL                  one refresh_due run

The keys come in GTOKEN_VAULT_KEYS, the emulator in GTOKEN_EMULATOR_HOST, and gtoken's clock is
moved by GTOKEN_TEST_CLOCK_OFFSET seconds (as the test's own clock is). The worker prints "ready",
waits for a line on stdin, works, and prints one JSON line of results.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from dataclasses import asdict

from gtoken.vault import Vault


def clock() -> float:
    return time.time() + float(os.environ.get("GTOKEN_TEST_CLOCK_OFFSET", "0"))


def storm(vault: Vault, user: str, threads: int) -> dict[str, object]:
    results: list[str] = []
    errors: list[str] = []
    barrier = threading.Barrier(threads)

    def ask() -> None:
        barrier.wait()
        try:
            results.append(vault.access_token(user))
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")

    pool = [threading.Thread(target=ask) for _ in range(threads)]
    print("ready", flush=True)
    sys.stdin.readline()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return {"tokens": results, "errors": errors}


def due(vault: Vault) -> dict[str, object]:
    print("ready", flush=True)
    sys.stdin.readline()
    return asdict(vault.refresh_due(within=600, limit=10_000, concurrency=4))


def main() -> None:
    mode, url, *rest = sys.argv[1:]
    with Vault(url, clock=clock) as vault:
        out = storm(vault, rest[0], int(rest[1])) if mode == "storm" else due(vault)
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
