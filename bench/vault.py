"""The vault's benchmarks.

- ``vault_access``: ``access_token(user_id)`` for a valid token, in one process: calls per second
  on SQLite and on PostgreSQL (1 thread and 4), and on PostgreSQL the time per call with 1,000,000
  stored connections beside the time with 1,000 (target: at most 1.5×). The rows are made in bulk
  (``COPY``), sealed as the vault seals them, with valid access tokens: no call reaches Google.
- ``vault_storm``: 3 processes × 50 threads ask for one user's expired token on PostgreSQL
  (target: exactly 1 refresh at the emulator, 150 equal tokens).
- ``vault_due``: 10,000 connections fall due and 3 processes run ``refresh_due`` at once on
  PostgreSQL (target: all refreshed within 60 s, none twice: 10,000 refreshes at the emulator).
"""

from __future__ import annotations

import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench import report
from bench.vault_setup import CALLBACK, GMAIL, Google, google, pg_schema, sqlite_file
from gtoken.store.crypto import Keyring, seal
from gtoken.vault import Vault

ROOT = Path(__file__).resolve().parent.parent
CALLS = 5000
WARM = 1000
ROUNDS = 5


# -- vault_access -------------------------------------------------------------------------------

ACCESS = "vault_access"


@dataclass
class Access:
    rows: list[list[str]] = field(default_factory=list)
    small: float = 0.0  # µs per call, PostgreSQL, 1,000 connections
    large: float = 0.0  # the same with 1,000,000
    problems: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return self.large / self.small if self.small else float("inf")

    @property
    def ok(self) -> bool:
        return not self.problems and self.ratio <= 1.5


def _fill(vault: Vault, start: int, stop: int) -> None:
    """Connections ``u{start}``..``u{stop - 1}`` with valid (fake) access tokens, in bulk."""
    storage = vault._storage
    ring: Keyring = storage.keyring
    client_id = vault._client_id(None)
    now = int(time.time())
    table = "gtoken_vault_connections"
    columns = (
        "id, client_id, user_id, email, scopes, status, expires_at, refreshed_at, "
        "refresh_serial, created_at, updated_at, access_token, refresh_token"
    )

    def row(n: int) -> tuple[object, ...]:
        row_id = f"{n:024x}"
        sealed = [
            seal(ring, f"ya29.bench-{n}-{secrets.token_hex(40)}", table=table, row=row_id, field=f)
            for f in ("access_token", "refresh_token")
        ]
        return (
            row_id,
            client_id,
            f"u{n:07}",
            f"u{n}@example.com",
            GMAIL,
            "active",
            now + 86400,
            now,
            1,
            now,
            now,
            *sealed,
        )

    db = vault._db
    if db.dialect == "postgresql":
        copying = f"COPY {table} ({columns}) FROM STDIN"
        with (
            db._connection() as conn,  # type: ignore[attr-defined]
            conn.transaction(),
            conn.cursor() as cursor,
            cursor.copy(copying) as copy,
        ):
            for n in range(start, stop):
                copy.write_row(row(n))
        # As after any bulk load: set the rows' visibility hints and statistics now, so that
        # the first reads do not write.
        with db._connection() as conn:  # type: ignore[attr-defined]
            conn.execute(f"VACUUM (ANALYZE) {table}")
    else:
        marks = ", ".join("?" * 13)
        with db.transaction() as sql:
            sql.many(
                f"INSERT INTO {table} ({columns}) VALUES ({marks})",
                [row(n) for n in range(start, stop)],
            )


def _per_call(vault: Vault, users: int, threads: int, calls: int, seed: int) -> float:
    """µs per access_token call (wall time over calls), random users, ``threads`` at once."""
    rng = random.Random(seed)
    picks = [f"u{rng.randrange(users):07}" for _ in range(calls)]
    shares = [picks[i::threads] for i in range(threads)]
    errors: list[BaseException] = []

    def work(share: Sequence[str]) -> None:
        try:
            for user in share:
                vault.access_token(user)
        except BaseException as exc:
            errors.append(exc)

    pool = [threading.Thread(target=work, args=(s,)) for s in shares]
    began = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    seconds = time.perf_counter() - began
    if errors:
        raise RuntimeError(f"access_token failed: {errors[0]!r}")
    return seconds / calls * 1e6


def _side_by_side(vaults: Sequence[tuple[Vault, int]], threads: int) -> list[float]:
    """µs per call for each of ``vaults`` (with its number of users), measured in alternating
    rounds so that whatever else the machine does weighs on each alike; medians of the rounds."""
    for vault, users in vaults:
        _per_call(vault, users, threads, WARM, seed=0)
    rounds: list[list[float]] = [[] for _ in vaults]
    for n in range(ROUNDS):
        for i, (vault, users) in enumerate(vaults):
            rounds[i].append(_per_call(vault, users, threads, CALLS // ROUNDS, seed=n + 1))
    return [statistics.median(r) for r in rounds]


def run_access() -> Access:
    out = Access()
    with google() as g:
        with sqlite_file() as url, _vault(g, url) as vault:
            _fill(vault, 0, 1000)
            (one,), (four,) = _side_by_side([(vault, 1000)], 1), _side_by_side([(vault, 1000)], 4)
            out.rows.append(_access_row("SQLite", 1000, one, four))
        with (
            pg_schema() as small_url,
            pg_schema() as large_url,
            _vault(g, small_url) as small,
            _vault(g, large_url) as large,
        ):
            _fill(small, 0, 1000)
            _fill(large, 0, 1_000_000)
            pair = [(small, 1000), (large, 1_000_000)]
            (s1, l1), (s4, l4) = _side_by_side(pair, 1), _side_by_side(pair, 4)
        out.small, out.large = s1, l1
        out.rows.append(_access_row("PostgreSQL", 1000, s1, s4))
        out.rows.append(_access_row("PostgreSQL", 1_000_000, l1, l4))
    return out


def _access_row(kind: str, users: int, one: float, four: float) -> list[str]:
    return [kind, f"{users:,}", f"{1e6 / one:,.0f}", f"{one:,.0f}", f"{1e6 / four:,.0f}"]


HEADERS_ACCESS = [
    "database",
    "connections",
    "calls/s (1 thread)",
    "µs per call",
    "calls/s (4 threads)",
]


def access_text(out: Access) -> str:
    table = report.text_table(HEADERS_ACCESS, out.rows)
    return (
        f"{table}\nPostgreSQL at 1,000,000 connections: {out.ratio:.2f} × the time at 1,000 "
        f"(target ≤ 1.5){'; ' + '; '.join(out.problems) if out.problems else ''}"
    )


def access_markdown(out: Access, machine: report.Machine) -> str:
    return f"""\
## Vault: a valid token

**Target**: `vault.access_token(user_id)` for a valid token takes at most 1.5 × as long with
1,000,000 stored connections as with 1,000 (PostgreSQL); calls per second on SQLite and
PostgreSQL are reported.

**Method** (`bench/vault.py`): a vault on a new PostgreSQL schema (and an SQLite file), its
connections written in bulk (`COPY`) with access and refresh tokens sealed as the vault seals
them and valid for a day, so that no call reaches Google, then `VACUUM (ANALYZE)` as after any
bulk load. The 1,000 and the 1,000,000 connections are two vaults (two schemas) measured side
by side: {WARM:,} calls each to warm up, then {ROUNDS} alternating rounds of
{CALLS // ROUNDS:,} calls for random users, one thread and then 4 sharing the calls; medians
of the rounds. Each call is one indexed read by (client, user id) and one AES-GCM open. The
database runs on the same machine.

**Last run**: {machine.line()}.

{report.markdown_table(HEADERS_ACCESS, out.rows, left=2)}

At 1,000,000 connections a call takes **{out.ratio:.2f} ×** the time at 1,000.
"""


# -- vault_storm --------------------------------------------------------------------------------

STORM = "vault_storm"


@dataclass
class Storm:
    tokens: int = 0
    distinct: int = 0
    refreshes: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.tokens == 150 and self.distinct == 1 and self.refreshes == 1 and not self.errors


def _workers(g: Google, args: list[list[str]]) -> tuple[list[dict[str, object]], float]:
    env = {**g.env, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "bench.vault_worker", *a],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=ROOT,
        )
        for a in args
    ]
    try:
        for p in procs:
            assert p.stdout is not None
            if p.stdout.readline().strip() != "ready":
                raise RuntimeError(f"a vault worker did not start: {p.communicate()[1][-2000:]}")
        release = time.time() + 0.5
        for p in procs:
            assert p.stdin is not None
            p.stdin.write(f"{release}\n")
            p.stdin.flush()
        results = []
        for p in procs:
            out, err = p.communicate(timeout=600)
            if p.returncode != 0:
                raise RuntimeError(f"a vault worker failed: {err[-2000:]}")
            results.append(json.loads(out.strip().splitlines()[-1]))
        return results, release
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()


def run_storm() -> Storm:
    with google() as g, pg_schema() as url, _vault(g, url) as vault:
        (token,) = g.refresh_tokens(1)
        vault.import_refresh_tokens([("user-42", token)])
        before = g.refreshes()
        results, release = _workers(g, [["storm", url, "user-42", "50"]] * 3)
        tokens = [t for r in results for t in r["tokens"]]  # type: ignore[attr-defined]
        return Storm(
            tokens=len(tokens),
            distinct=len(set(tokens)),
            refreshes=g.refreshes() - before,
            seconds=max(float(r["done"]) for r in results) - release,  # type: ignore[arg-type]
            errors=[e for r in results for e in r["errors"]],  # type: ignore[attr-defined]
        )


def storm_text(out: Storm) -> str:
    return (
        f"3 processes × 50 threads: {out.tokens} tokens, {out.distinct} distinct, "
        f"{out.refreshes} refresh(es) at the emulator, {out.seconds:.2f} s, "
        f"errors {out.errors or 'none'}"
    )


def storm_markdown(out: Storm, machine: report.Machine) -> str:
    return f"""\
## Vault: a refresh storm across processes

**Target**: 3 processes × 50 threads ask for one user's expired token on PostgreSQL at the same
moment: exactly 1 refresh reaches the emulator and all 150 callers get the same token.

**Method** (`bench/vault.py`, `bench/vault_worker.py`): one user's refresh token, obtained from
the emulator, imported into a vault on a new PostgreSQL schema (so it has no access token yet);
three worker processes open the vault, then release their threads at one shared moment.

**Last run**: {machine.line()}.

| callers | distinct tokens | refreshes at the emulator | errors | seconds to the last answer |
| ---: | ---: | ---: | ---: | ---: |
| {out.tokens} | {out.distinct} | {out.refreshes} | {len(out.errors)} | {out.seconds:.2f} |
"""


# -- vault_due ----------------------------------------------------------------------------------

DUE = "vault_due"
DUE_CONNECTIONS = int(os.environ.get("GTOKEN_BENCH_DUE_CONNECTIONS", "10000"))


@dataclass
class Due:
    connections: int = 0
    claimed: int = 0
    refreshed: int = 0
    refreshes: int = 0
    seconds: float = 0.0
    per_process: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        n = self.connections
        return (
            self.claimed == n
            and self.refreshed == n
            and self.refreshes == n
            and (self.seconds <= 60)
        )


def run_due() -> Due:
    with google() as g, pg_schema() as url, _vault(g, url) as vault:
        tokens = g.refresh_tokens(DUE_CONNECTIONS)
        vault.import_refresh_tokens([(f"user-{n:05}", t) for n, t in enumerate(tokens)])
        before = g.refreshes()
        results, release = _workers(g, [["due", url, "8"]] * 3)
        return Due(
            connections=DUE_CONNECTIONS,
            claimed=sum(int(r["claimed"]) for r in results),  # type: ignore[call-overload]
            refreshed=sum(int(r["refreshed"]) for r in results),  # type: ignore[call-overload]
            refreshes=g.refreshes() - before,
            seconds=max(float(r["done"]) for r in results) - release,  # type: ignore[arg-type]
            per_process=[int(r["claimed"]) for r in results],  # type: ignore[call-overload]
        )


def due_text(out: Due) -> str:
    return (
        f"refresh_due in 3 processes over {out.connections:,} connections: claimed "
        f"{out.claimed:,} ({', '.join(map(str, out.per_process))}), refreshed "
        f"{out.refreshed:,}, {out.refreshes:,} refreshes at the emulator, {out.seconds:.1f} s "
        "(target ≤ 60 s, none twice)"
    )


def due_markdown(out: Due, machine: report.Machine) -> str:
    return f"""\
## Vault: refresh_due in three replicas

**Target**: {out.connections:,} connections fall due and 3 processes run `refresh_due` at once
against the emulator on PostgreSQL: all refreshed within 60 s, none twice (the emulator counts
exactly {out.connections:,} refreshes).

**Method** (`bench/vault.py`, `bench/vault_worker.py`): {out.connections:,} refresh tokens
obtained from the emulator through its authorization and token endpoints (100 per Google
account, Google's limit per account and client), one per application user, imported into a
vault on a new PostgreSQL schema (no access token yet: all due); three worker processes each
run `refresh_due(within=600, limit=100000, concurrency=8)` from one shared moment. Each claims its
rows with `FOR UPDATE SKIP LOCKED`, then refreshes them through the refresh engine.

**Last run**: {machine.line()}.

{report.markdown_table(DUE_HEADERS, [_due_row(out)], left=0)}
"""


DUE_HEADERS = [
    "connections",
    "claimed per process",
    "refreshed",
    "refreshes at the emulator",
    "seconds",
]


def _due_row(out: Due) -> list[str]:
    claimed = " + ".join(map(str, out.per_process))
    return [
        f"{out.connections:,}",
        claimed,
        f"{out.refreshed:,}",
        f"{out.refreshes:,}",
        f"{out.seconds:.1f}",
    ]


def _vault(g: Google, url: str) -> Vault:
    return Vault(url, client_secrets=g.client, redirect_uri=CALLBACK, env=g.env)
