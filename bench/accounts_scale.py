"""A thousand stored accounts cost what one does: choosing an account reads the columns that are
not secret, and only the chosen row is opened.

Target: with 1,000 accounts in the store, a token lookup takes at most 1.3 × what it takes with
one, in the library (``Accounts.token``) and as a whole ``gtoken token`` process, for the
default account and for one named by e-mail; and adding the 1,000th account takes at most 1.3 ×
adding the first.

Two gtoken homes are made side by side in a temporary directory: one holding a single account,
one holding 1,000 (all of one client, stored as a login stores them, through
``Accounts.adopt``). No network is involved: every stored access token is valid for an hour, so
no lookup refreshes. The measurements alternate between the two homes, so that whatever else
the machine does falls on both alike.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench import report
from gtoken.accounts import Accounts
from gtoken.oauth import ClientSecrets, Token

NAME = "accounts_scale"
TITLE = "A thousand stored accounts"
ACCOUNTS = 1000
TARGET = 1.3
LIBRARY_BLOCKS = 15  # blocks of LIBRARY_CALLS calls each, per home and question
LIBRARY_CALLS = 200
CLI_RUNS = 15  # whole processes per home and question
ADD_RUNS = 61  # adds per home (each undone before the next)
KEPT = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
CLIENT = ClientSecrets(
    kind="installed",
    client_id="1234-bench.apps.googleusercontent.com",
    client_secret="GOCSPX-bench-not-a-secret",
    token_uri="https://oauth2.googleapis.com/token",
)
SCOPES = frozenset({"openid", "https://www.googleapis.com/auth/gmail.readonly"})


def _email(n: int) -> str:
    return f"user-{n:04d}@example.com"


def _token(n: int) -> Token:
    return Token(
        access_token=f"ya29.bench-{n:05d}-" + "a" * 160,
        expires_at=datetime.now(UTC) + timedelta(hours=1),
        refresh_token=f"1//bench-{n:05d}-" + "r" * 90,
        scopes=SCOPES,
        id_token="eyJ.bench." + "i" * 800,
    )


def _add(accounts: Accounts, n: int) -> None:
    accounts.adopt(CLIENT, _token(n), sub=f"sub-{n:05d}", email=_email(n))


@dataclass(frozen=True)
class Home:
    env: dict[str, str]
    size: int
    named: str  # the e-mail looked up by name: the middle one


@contextmanager
def _homes() -> Iterator[tuple[Home, Home]]:
    with tempfile.TemporaryDirectory(prefix="gtoken-bench-") as tmp:
        base = {name: os.environ[name] for name in KEPT if name in os.environ}
        homes = []
        for size in (1, ACCOUNTS):
            env = {**base, "GTOKEN_HOME": str(Path(tmp) / f"home-{size}")}
            with Accounts(env=env) as accounts, accounts.store.transaction():
                for n in range(size):
                    _add(accounts, n)
            homes.append(Home(env, size, _email(size // 2)))
        yield homes[0], homes[1]


@dataclass(frozen=True)
class Row:
    what: str
    one: float  # seconds, median
    many: float

    @property
    def ratio(self) -> float:
        return self.many / self.one


@dataclass(frozen=True)
class Outcome:
    rows: list[Row]

    @property
    def ok(self) -> bool:
        return all(row.ratio <= TARGET for row in self.rows)


def _side_by_side(
    runs: int, one: Callable[[], float], many: Callable[[], float]
) -> tuple[float, float]:
    a: list[float] = []
    b: list[float] = []
    for _ in range(runs):
        a.append(one())
        b.append(many())
    return statistics.median(a), statistics.median(b)


def _library(home: Home, name: str | None) -> Callable[[], float]:
    accounts = Accounts(env=home.env)
    accounts.token(name)  # warm: the store open, its statements prepared

    def block() -> float:
        began = time.perf_counter()
        for _ in range(LIBRARY_CALLS):
            accounts.token(name)
        return (time.perf_counter() - began) / LIBRARY_CALLS

    return block


def _cli(home: Home, args: list[str]) -> Callable[[], float]:
    command = [sys.executable, "-m", "gtoken", "token", *args]

    def run() -> float:
        began = time.perf_counter()
        done = subprocess.run(command, env=home.env, capture_output=True, check=False)
        took = time.perf_counter() - began
        if done.returncode != 0:
            raise RuntimeError(f"gtoken token failed: {done.stderr.decode()[-300:]}")
        return took

    return run


def _adding(home: Home) -> Callable[[], float]:
    """Adding one more account (the first, or the 1,000th), timed; then forgetting it again."""
    accounts = Accounts(env=home.env)
    n = home.size if home.size == ACCOUNTS else 0
    if home.size == ACCOUNTS:
        accounts.forget(_email(ACCOUNTS - 1))  # 999 stay; the 1,000th is the one added
        n = ACCOUNTS - 1
    else:
        accounts.forget(_email(0))  # empty: the one added is the first

    def add() -> float:
        began = time.perf_counter()
        _add(accounts, n)
        took = time.perf_counter() - began
        accounts.forget(_email(n))
        return took

    return add


def run() -> Outcome:
    rows = []
    with _homes() as (one, many):
        for label, name_one, name_many in [
            ("library: default account", None, None),
            ("library: account by e-mail", one.named, many.named),
        ]:
            rows.append(
                Row(
                    label,
                    *_side_by_side(
                        LIBRARY_BLOCKS, _library(one, name_one), _library(many, name_many)
                    ),
                )
            )
        for label, args_one, args_many in [
            ("gtoken token: default account", [], []),
            (
                "gtoken token: account by e-mail",
                ["--account", one.named],
                ["--account", many.named],
            ),
        ]:
            rows.append(
                Row(label, *_side_by_side(CLI_RUNS, _cli(one, args_one), _cli(many, args_many)))
            )
        rows.append(
            Row(
                "adding an account (1st / 1,000th)",
                *_side_by_side(ADD_RUNS, _adding(one), _adding(many)),
            )
        )
    return Outcome(rows)


def _cells(row: Row) -> list[str]:
    return [row.what, f"{row.one * 1e3:.3f}", f"{row.many * 1e3:.3f}", f"{row.ratio:.2f}"]


HEADERS = ["lookup", "1 account ms", f"{ACCOUNTS:,} accounts ms", "× (target ≤ 1.3)"]


def text(outcome: Outcome) -> str:
    verdict = "met" if outcome.ok else "MISSED"
    table = report.text_table(HEADERS, [_cells(r) for r in outcome.rows])
    return f"{TITLE} (target {verdict}: every × at most {TARGET})\n{table}"


def markdown(outcome: Outcome, machine: report.Machine) -> str:
    table = report.markdown_table(HEADERS, [_cells(r) for r in outcome.rows])
    verdict = "Every lookup and the add meet" if outcome.ok else "Not every row meets"
    return f"""\
## {TITLE}

**Target**: with {ACCOUNTS:,} accounts stored, a token lookup takes at most {TARGET} × the time
with one, in the library and as a whole `gtoken token` process, for the default account and
for one named by e-mail; adding the {ACCOUNTS:,}th account takes at most {TARGET} × adding the
first.

**Method** (`bench/accounts_scale.py`): two gtoken homes side by side, one with 1 account and
one with {ACCOUNTS:,} (one client; each stored as a login stores it, through
`Accounts.adopt`, with tokens valid for an hour, so nothing is refreshed and no network is
used). Library: `Accounts.token()` (the default account) and `Accounts.token(email)` on an open
`Accounts`, medians of {LIBRARY_BLOCKS} blocks of {LIBRARY_CALLS} calls. `gtoken token`:
{CLI_RUNS} whole processes each. Adding: `Accounts.adopt` of one more account into the empty
store or into the {ACCOUNTS - 1:,} others (then forgotten again), {ADD_RUNS} times each; it
writes with `fsync`, so its times follow the disk. The two homes alternate throughout.

**Last run**: {machine.line()}.

{table}

{verdict} the target of {TARGET} ×: choosing an account reads only columns that are not
secret, through indexes (the default account, an e-mail, an id), and only the chosen account's
sealed values are opened.
"""
