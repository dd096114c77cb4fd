"""A process using a vault, for the vault benchmarks (``python -m bench.vault_worker``).

    storm URL USER THREADS   THREADS threads ask for USER's token at once
    due URL CONCURRENCY      one refresh_due run over everything that is due

It opens the vault, prints "ready", reads a release time (unix seconds) on stdin, starts then,
and prints one JSON line: what it got and when it finished.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from dataclasses import asdict

from bench.vault_setup import wait_until
from gtoken.vault import Vault


def main() -> None:
    mode, url, *rest = sys.argv[1:]
    with Vault(url) as vault:
        vault.connections(limit=1)  # the pool's first connection, opened before the clock starts
        print("ready", flush=True)
        release = float(sys.stdin.readline())
        if mode == "storm":
            out = storm(vault, rest[0], int(rest[1]), release)
        else:
            wait_until(release)
            report = vault.refresh_due(within=600, limit=100_000, concurrency=int(rest[0]))
            out = {**asdict(report), "done": time.time()}
    print(json.dumps(out), flush=True)


def storm(vault: Vault, user: str, threads: int, release: float) -> dict[str, object]:
    tokens: list[str] = []
    errors: list[str] = []

    def ask() -> None:
        wait_until(release)
        try:
            tokens.append(vault.access_token(user))
        except Exception as exc:
            errors.append(type(exc).__name__)

    pool = [threading.Thread(target=ask) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return {"tokens": tokens, "errors": errors, "done": time.time()}


if __name__ == "__main__":
    main()
