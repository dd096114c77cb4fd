"""A refresh storm: 8 processes × 16 threads ask for one account's token just after it expired.

Target: exactly one refresh request reaches the emulator, every caller gets the new token, and
the whole storm is over within 3× one refresh round trip: a single caller refreshing the same
account alone, measured in the same run by the same means.

The callers are long-lived threads of worker processes (``bench/storm_worker.py``) that import
gtoken, open the accounts, read the store and open gtoken's HTTP client first; then the
benchmark sends them all one release time, a little ahead, and each releases its threads at that
moment by the shared wall clock. A storm lasts from that moment to the last caller's answer.
The same storm in fresh processes, whose first refresh also loads the HTTP client, is measured
for context.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from bench import cpu, report
from bench.account import SignedIn, expire, fingerprint, signed_in
from gtoken.accounts import Accounts

NAME = "refresh_storm"
TITLE = "Refresh storm across processes and threads"
PROCESSES = 8
THREADS = 16
ROUNDS = 5  # storms measured, each beside a single caller's refresh
COLD_ROUNDS = 3  # the same in processes whose first refresh it is, for context
TARGET = 3.0  # times one refresh round trip
LEAD = 0.25  # seconds between sending the release time and the release
ANSWER_TIMEOUT = 60.0
WORKER = Path(__file__).with_name("storm_worker.py")
OTHER_WORK = 0.2


@dataclass(frozen=True)
class Caller:
    begun: float  # seconds after the release
    done: float
    token: str  # fingerprint
    error: str | None = None


@dataclass(frozen=True)
class Round:
    kind: str  # "solo" or "storm"
    callers: list[Caller]
    late: float  # how long after the release the slowest process let its threads go
    cpu: float  # CPU seconds the workers used for the round
    refreshes: int  # refresh requests the emulator answered during the round
    stored: str  # fingerprint of the token stored afterwards
    expired: str  # fingerprint of the expired token the callers found

    @property
    def seconds(self) -> float:
        """From the release to the last caller's answer."""
        return max(c.done for c in self.callers)

    @property
    def first(self) -> float:
        return min(c.done for c in self.callers)

    @property
    def median(self) -> float:
        return statistics.median(c.done for c in self.callers)

    def problems(self, expected: int) -> list[str]:
        errors = sorted({c.error for c in self.callers if c.error})
        problems = [f"a caller failed: {e}" for e in errors]
        if len(self.callers) != expected:
            problems.append(f"{len(self.callers)} callers answered, not {expected}")
        if self.refreshes != 1:
            problems.append(f"{self.refreshes} refresh requests reached the emulator, not 1")
        tokens = {c.token for c in self.callers if not c.error}
        if len(tokens) > 1:
            problems.append(f"the callers got {len(tokens)} different tokens")
        if tokens and tokens != {self.stored}:
            problems.append("the callers' token is not the one stored")
        if self.expired in tokens:
            problems.append("a caller got the expired token")
        return problems


def median_seconds(rounds: list[Round]) -> float:
    return statistics.median(r.seconds for r in rounds)


@dataclass(frozen=True)
class Outcome:
    solo: list[Round]  # long-lived processes: the rounds held to the target
    storms: list[Round]
    cold_solo: list[Round]  # fresh processes, for context
    cold_storms: list[Round]
    other_cpu: float | None
    problems: list[str]

    @property
    def round_trip(self) -> float:
        return median_seconds(self.solo)

    @property
    def storm(self) -> float:
        return median_seconds(self.storms)

    @property
    def ratio(self) -> float:
        return self.storm / self.round_trip

    @property
    def cold_ratio(self) -> float:
        return median_seconds(self.cold_storms) / median_seconds(self.cold_solo)

    @property
    def ok(self) -> bool:
        return not self.problems and self.ratio <= TARGET


# -- the worker processes -----------------------------------------------------------------------


class Worker:
    """One ``storm_worker.py`` process, read line by line with a deadline."""

    def __init__(self, env: dict[str, str], threads: int, *, warm: bool, log: IO[str]) -> None:
        argv = [sys.executable, str(WORKER), str(threads)] + (["--warm"] if warm else [])
        self.threads = threads
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True, env=env
        )
        self._lines: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put("")  # the end

    def line(self, timeout: float = ANSWER_TIMEOUT) -> str:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise RuntimeError(f"a storm worker said nothing for {timeout:.0f} s") from None
        if not line:
            raise RuntimeError(f"a storm worker ended early (exit code {self.proc.wait()})")
        return line

    def release(self, at: float) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"{at!r}\n")
        self.proc.stdin.flush()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            assert self.proc.stdin is not None
            self.proc.stdin.close()  # the worker's cue to end
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._reader.join(timeout=10)  # it ends at the end of the output
        if self.proc.stdout is not None and not self._reader.is_alive():
            self.proc.stdout.close()


@contextlib.contextmanager
def workers(env: dict[str, str], count: int, threads: int, *, warm: bool) -> Iterator[list[Worker]]:
    """``count`` workers of ``threads`` threads each, started together and all ready."""
    with tempfile.TemporaryFile("w+") as log:
        group: list[Worker] = []
        try:
            for _ in range(count):
                group.append(Worker(env, threads, warm=warm, log=log))
            for worker in group:
                if worker.line().strip() != "ready":
                    raise RuntimeError("a storm worker did not get ready")
            yield group
        except RuntimeError as exc:
            log.seek(0)
            raise RuntimeError(f"{exc}; its stderr: {log.read()[-2000:]}") from None
        finally:
            for worker in group:
                worker.close()


# -- the run ------------------------------------------------------------------------------------


def one_round(account: SignedIn, accounts: Accounts, group: list[Worker]) -> Round:
    """Let the token expire, release every worker's threads at once, and see what they got."""
    expire(account.emu, accounts)
    stale = accounts.find().access_token
    assert stale is not None
    before = account.refreshes()
    release = time.time() + LEAD
    for worker in group:
        worker.release(release)
    answers = [json.loads(worker.line()) for worker in group]
    refreshes = account.refreshes() - before
    stored = accounts.find().access_token
    assert stored is not None
    return Round(
        kind="solo" if len(group) * group[0].threads == 1 else "storm",
        callers=[_caller(c, release) for answer in answers for c in answer["callers"]],
        late=max(answer["released"] for answer in answers) - release,
        cpu=sum(answer["cpu"] for answer in answers),
        refreshes=refreshes,
        stored=fingerprint(stored),
        expired=fingerprint(stale),
    )


def _caller(data: dict[str, Any], release: float) -> Caller:
    if "error" in data:
        return Caller(0.0, 0.0, "", data["error"])
    return Caller(data["begun"] - release, data["done"] - release, data["token"])


def run() -> Outcome:
    problems: list[str] = []

    def check(round_: Round) -> Round:
        expected = 1 if round_.kind == "solo" else PROCESSES * THREADS
        problems.extend(f"{round_.kind}: {p}" for p in round_.problems(expected))
        return round_

    def measure(group: list[Worker]) -> Round:
        return check(one_round(account, accounts, group))

    solo: list[Round] = []
    storms: list[Round] = []
    cold_solo: list[Round] = []
    cold_storms: list[Round] = []
    with signed_in() as account, Accounts(env=account.env) as accounts:
        env = account.env
        with (
            workers(env, 1, 1, warm=True) as alone,
            workers(env, PROCESSES, THREADS, warm=True) as crowd,
        ):
            pids = [account.server.pid] + [w.proc.pid for w in alone + crowd]
            measure(alone)  # warm-up, not counted: each thread opens its SQLite connection
            measure(crowd)
            before = cpu.sample(pids)
            for _ in range(ROUNDS):
                solo.append(measure(alone))
                storms.append(measure(crowd))
            other = cpu.other(before, cpu.sample(pids))
        for _ in range(COLD_ROUNDS):
            with (
                workers(env, 1, 1, warm=False) as alone,
                workers(env, PROCESSES, THREADS, warm=False) as crowd,
            ):
                cold_solo.append(measure(alone))
                cold_storms.append(measure(crowd))
    return Outcome(solo, storms, cold_solo, cold_storms, other, problems)


# -- telling ------------------------------------------------------------------------------------

HEADERS = [
    "round",
    "callers",
    "refreshes",
    "first answer ms",
    "median answer ms",
    "last answer ms",
    "× round trip",
    "latest release ms",
    "workers' CPU ms",
]


def _cells(name: str, rounds: list[Round], round_trip: float) -> list[str]:
    """A row for one round, or the medians of several."""
    refreshes = {r.refreshes for r in rounds}
    each = "" if len(rounds) == 1 else " each"

    def ms(of: Callable[[Round], float]) -> str:
        return f"{statistics.median(of(r) for r in rounds) * 1000:.1f}"

    return [
        name,
        str(len(rounds[0].callers)),
        f"{refreshes.pop()}{each}" if len(refreshes) == 1 else "/".join(map(str, refreshes)),
        ms(lambda r: r.first),
        ms(lambda r: r.median),
        ms(lambda r: r.seconds),
        f"{median_seconds(rounds) / round_trip:.2f}",
        ms(lambda r: r.late),
        ms(lambda r: r.cpu),
    ]


def _table(outcome: Outcome) -> list[list[str]]:
    trip = outcome.round_trip
    rows = [_cells(f"alone, median of {len(outcome.solo)}", outcome.solo, trip)]
    rows += [_cells(f"storm #{n}", [r], trip) for n, r in enumerate(outcome.storms, 1)]
    rows.append(_cells(f"**storm, median of {len(outcome.storms)}**", outcome.storms, trip))
    cold_trip = median_seconds(outcome.cold_solo)
    rows.append(
        _cells(f"fresh process alone, median of {COLD_ROUNDS}", outcome.cold_solo, cold_trip)
    )
    rows.append(
        _cells(f"fresh processes' storm, median of {COLD_ROUNDS}", outcome.cold_storms, cold_trip)
    )
    return rows


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _verdict(outcome: Outcome) -> list[str]:
    lines = [f"{p}." for p in outcome.problems]
    storms = len(outcome.storms) + len(outcome.cold_storms)
    if not outcome.problems:
        lines.append(
            f"In each of the {storms} storms exactly one refresh reached the emulator and all "
            f"{PROCESSES * THREADS} callers got the token it brought."
        )
    verb = "meets" if outcome.ratio <= TARGET else "misses"
    lines.append(
        f"The median storm took {outcome.storm * 1000:.1f} ms, {outcome.ratio:.2f} × the "
        f"median round trip of a caller alone ({outcome.round_trip * 1000:.1f} ms): {verb} the "
        f"target of {TARGET:.0f} ×."
    )
    used = statistics.median(r.cpu for r in outcome.storms)
    cores = _cores()
    floor = used / cores / outcome.round_trip
    if floor > TARGET / 2:
        lines.append(
            f"The storm is bound by CPU: its {PROCESSES * THREADS} calls used {used * 1000:.0f} "
            f"ms of CPU ({used / (PROCESSES * THREADS) * 1e6:.0f} µs each), so even with all "
            f"{cores} cores busy it could not take less than {used / cores * 1000:.0f} ms, "
            f"{floor:.1f} × the round trip."
        )
    lines.append(
        f"Fresh processes, whose first refresh also loads and opens the HTTP client: "
        f"{median_seconds(outcome.cold_storms) * 1000:.0f} ms for the storm, "
        f"{outcome.cold_ratio:.2f} × the {median_seconds(outcome.cold_solo) * 1000:.0f} ms of "
        "a fresh process alone (no target)."
    )
    if outcome.ratio > TARGET and (outcome.other_cpu or 0) > OTHER_WORK:
        lines.append(
            f"Other work used {outcome.other_cpu or 0:.0%} of a core meanwhile: measure again "
            "on a quiet machine."
        )
    return lines


def _setting(outcome: Outcome) -> str:
    return (
        f"{PROCESSES} processes × {THREADS} threads, {ROUNDS} storms each beside a caller alone, "
        f"after one of each to warm up; other CPU {cpu.percent(outcome.other_cpu)}"
    )


def text(outcome: Outcome) -> str:
    rows = [[cell.replace("**", "") for cell in row] for row in _table(outcome)]
    return "\n".join(
        [
            f"{TITLE}: target 1 refresh, ≤ {TARGET:.0f} × one round trip; {_setting(outcome)}",
            report.text_table(HEADERS, rows),
            *_verdict(outcome),
        ]
    )


def markdown(outcome: Outcome, machine: report.Machine) -> str:
    return f"""\
## {TITLE}

**Target**: {PROCESSES} processes × {THREADS} threads ask for the token of one account whose
access token has just expired: exactly 1 refresh request reaches the emulator (its stats), every
caller gets the new token, and the whole storm finishes within {TARGET:.0f}× one refresh round
trip.

**Method** (`bench/refresh_storm.py`, `bench/storm_worker.py`): sign an account in against
`gtoken emulator` in a temporary `GTOKEN_HOME`. Before each round the account's token expires
for real, with no clock faked and nothing written behind gtoken's back: the emulator is told to
issue tokens that live 1 s, gtoken refreshes and stores one, the emulator goes back to Google's
3,599 s, and the stored token is left to lapse; the refresh the round causes brings a token of
the usual lifetime. Worker processes import gtoken, open `Accounts`, read the store, open
gtoken's HTTP client (a process's first refresh does that otherwise) and start their threads,
which live as long as the process, as a server's worker threads do. The benchmark sends every
worker one release time {LEAD * 1000:.0f} ms ahead, and each process lets its threads go at that
moment of the wall clock they share; each thread calls `Accounts.token()` once and notes when
it had its answer. A round lasts from the release to the last answer; "latest release" is how
late the slowest process let its threads go (inside the round's time), "workers' CPU" the CPU
time the workers used for the round. The round trip is the same with one worker of one thread:
a caller refreshing alone, released the same way, in the same run (rounds alternate, after one
round of each to warm up, in which each thread opens its SQLite connection). Every round must
see exactly one refresh request in the emulator's stats, and every caller must get the token
that refresh stored. The last two rows are for context, without target: new workers for each
round, whose first refresh also imports and opens the HTTP client and whose threads open their
SQLite connections during the storm. "other CPU" is what the rest of the machine used during
the measured rounds.

**Last run**: {machine.line()}; {_setting(outcome)}.

{report.markdown_table(HEADERS, _table(outcome))}

{" ".join(_verdict(outcome))}
"""
