"""A thousand asyncio tasks ask for one account's token just after it expired.

Target: exactly one refresh reaches the emulator, and every task gets the token it brought. The
time to serve all the tasks is reported beside one task alone, measured in the same run (no
target on it).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

from bench import cpu, report
from bench.account import SignedIn, expire, fingerprint, signed_in
from gtoken.accounts import Accounts
from gtoken.aio import AsyncAccounts

NAME = "async_storm"
TITLE = "Async storm: 1,000 tasks, one refresh"
TASKS = 1000
ROUNDS = 3  # storms measured, each beside a task alone


@dataclass(frozen=True)
class Round:
    tasks: int
    seconds: float  # from the first task's start to the last answer
    first: float  # to the first answer
    refreshes: int  # refresh requests the emulator answered during the round
    problems: list[str]


@dataclass(frozen=True)
class Outcome:
    alone: list[Round]
    storms: list[Round]
    other_cpu: float | None

    @property
    def problems(self) -> list[str]:
        return sorted({p for r in self.alone + self.storms for p in r.problems})

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def storm(self) -> float:
        return statistics.median(r.seconds for r in self.storms)

    @property
    def round_trip(self) -> float:
        return statistics.median(r.seconds for r in self.alone)


def one_round(account: SignedIn, accounts: Accounts, tasks: int) -> Round:
    """``tasks`` tasks on a new event loop, all started at once, ask for the expired token."""
    expire(account.emu, accounts)
    expired = accounts.find().access_token
    before = account.refreshes()

    async def storm() -> tuple[float, float, list[str]]:
        aio = AsyncAccounts(accounts)

        async def ask() -> tuple[str, float]:
            token = await aio.token()
            return token.access_token, time.perf_counter()

        start = time.perf_counter()
        answers = await asyncio.gather(*(ask() for _ in range(tasks)))
        seconds = time.perf_counter() - start
        return seconds, min(at for _, at in answers) - start, [token for token, _ in answers]

    seconds, first, tokens = asyncio.run(storm())
    refreshes = account.refreshes() - before
    stored = accounts.find().access_token
    problems = []
    if refreshes != 1:
        problems.append(f"{refreshes} refresh requests reached the emulator, not 1")
    got = {fingerprint(t) for t in tokens}
    if len(tokens) != tasks or stored is None or got != {fingerprint(stored)}:
        problems.append(f"the tasks got {len(got)} tokens, not just the one stored")
    if expired in tokens:
        problems.append("a task got the expired token")
    return Round(tasks, seconds, first, refreshes, problems)


def run() -> Outcome:
    with signed_in() as account, Accounts(env=account.env) as accounts:
        one_round(account, accounts, TASKS)  # warm-up: the first refresh opens the HTTP client
        alone: list[Round] = []
        storms: list[Round] = []
        before = cpu.sample([account.server.pid])
        for _ in range(ROUNDS):
            alone.append(one_round(account, accounts, 1))
            storms.append(one_round(account, accounts, TASKS))
        other = cpu.other(before, cpu.sample([account.server.pid]))
    return Outcome(alone, storms, other)


# -- telling ------------------------------------------------------------------------------------

HEADERS = ["round", "tasks", "refreshes", "first answer ms", "all answered ms", "× one task alone"]


def _row(name: str, rounds: list[Round], alone: float) -> list[str]:
    def each(of: Callable[[Round], object]) -> str:
        values = sorted({str(of(r)) for r in rounds})
        if len(values) > 1:
            return "/".join(values)
        return values[0] + (" each" if len(rounds) > 1 else "")

    seconds = statistics.median(r.seconds for r in rounds)
    return [
        name,
        each(lambda r: f"{r.tasks:,}"),
        each(lambda r: r.refreshes),
        f"{statistics.median(r.first for r in rounds) * 1000:.1f}",
        f"{seconds * 1000:.1f}",
        f"{seconds / alone:.1f}",
    ]


def _table(outcome: Outcome) -> list[list[str]]:
    trip = outcome.round_trip
    rows = [_row(f"one task alone, median of {ROUNDS}", outcome.alone, trip)]
    rows += [_row(f"storm #{n}", [r], trip) for n, r in enumerate(outcome.storms, 1)]
    rows.append(_row(f"**storm, median of {ROUNDS}**", outcome.storms, trip))
    return rows


def _verdict(outcome: Outcome) -> list[str]:
    lines = [f"{p}." for p in outcome.problems]
    if outcome.ok:
        lines.append(
            f"Each storm caused exactly one refresh, and all {TASKS:,} tasks got its token: "
            "meets the target."
        )
    per_task = (outcome.storm - outcome.round_trip) / (TASKS - 1) * 1e6
    first = statistics.median(r.first for r in outcome.storms)
    lines.append(
        f"Serving all {TASKS:,} tasks took {outcome.storm * 1000:.0f} ms, one task alone "
        f"{outcome.round_trip * 1000:.1f} ms: about {per_task:.0f} µs for each further task. "
        f"The first answer came after {first * 1000:.0f} ms: the tasks share one store read and "
        "one refresh, and the rest is the event loop handing the answer to each of them."
    )
    return lines


def _setting(outcome: Outcome) -> str:
    return (
        f"{ROUNDS} storms of {TASKS:,} tasks, each beside one task alone, after one storm to warm "
        f"up; other CPU {cpu.percent(outcome.other_cpu)}"
    )


def text(outcome: Outcome) -> str:
    rows = [[cell.replace("**", "") for cell in row] for row in _table(outcome)]
    return "\n".join(
        [
            f"{TITLE}: target exactly 1 refresh; {_setting(outcome)}",
            report.text_table(HEADERS, rows),
            *_verdict(outcome),
        ]
    )


def markdown(outcome: Outcome, machine: report.Machine) -> str:
    return f"""\
## {TITLE}

**Target**: {TASKS:,} concurrent tasks asking for one account's expired token cause exactly 1
refresh; the time to serve them all is reported.

**Method** (`bench/async_storm.py`): sign an account in against `gtoken emulator` in a temporary
`GTOKEN_HOME`, and open it with `Accounts` in the benchmark's process. Before each round the
stored token expires for real, as in the refresh storm: the emulator issues one that lives 1 s,
gtoken stores it, and it is left to lapse. Then, on a new event loop,
`asyncio.gather` of {TASKS:,} `AsyncAccounts(accounts).token()` calls, timed from the start of
the gather to the last answer. The emulator's stats must show exactly one refresh request for
the round, and every task must get the token stored by it. Each storm alternates with a round of
one task alone. "other CPU" is what the rest of the machine used during the measured rounds.

**Last run**: {machine.line()}; {_setting(outcome)}.

{report.markdown_table(HEADERS, _table(outcome))}

{" ".join(_verdict(outcome))}
"""
