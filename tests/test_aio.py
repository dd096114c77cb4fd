"""gtoken.aio against the emulator: the fast path, one refresh for tasks, threads and processes
together, a loop that keeps running meanwhile, cancellation and errors.

Async tests run with ``asyncio.run`` inside plain tests: no async plugin is needed."""

from __future__ import annotations

import asyncio
import itertools
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest

import gtoken.aio
from gtoken.accounts import Accounts
from gtoken.aio import AsyncAccounts
from gtoken.emulator.client import Emulator
from gtoken.errors import ConsentRequired
from gtoken.oauth import Token
from tests.browser import HttpBrowser
from tests.support import stored_login

T = TypeVar("T")
SCOPE = "openid email https://www.googleapis.com/auth/gmail.readonly"


def sign_in(emulator: Emulator, accounts: Accounts) -> Token:
    """Store an account as a login would; returns the login's token."""
    return stored_login(emulator, accounts, SCOPE)[1]


def refreshes(emulator: Emulator) -> int:
    return int(emulator.stats()["token"].get("refresh_token", 0))


def run(main: Callable[[], Awaitable[T]]) -> T:
    async def wrapped() -> T:
        return await main()

    return asyncio.run(wrapped())


def test_a_valid_token_comes_from_the_store(emulator, accounts, env) -> None:
    signed = sign_in(emulator, accounts)

    async def main() -> tuple[str, str]:
        own = await AsyncAccounts(accounts).token(scopes=["gmail.readonly"])
        one_call = await gtoken.aio.access_token(["gmail.readonly"], env=env)
        return own.access_token, one_call

    own, one_call = run(main)
    assert own == one_call == signed.access_token
    assert refreshes(emulator) == 0


def test_a_thousand_tasks_share_one_refresh(emulator, accounts, clock) -> None:
    signed = sign_in(emulator, accounts)
    clock.advance(3600)
    aio = AsyncAccounts(accounts)

    async def main() -> list[Token]:
        return await asyncio.gather(*(aio.token() for _ in range(1000)))

    tokens = {t.access_token for t in run(main)}
    assert len(tokens) == 1
    assert signed.access_token not in tokens
    assert refreshes(emulator) == 1


STORM = textwrap.dedent(
    """
    import asyncio, sys, threading, time
    from gtoken.accounts import Accounts
    from gtoken.aio import AsyncAccounts
    offset, start, mode = float(sys.argv[1]), float(sys.argv[2]), sys.argv[5]
    env = {"GTOKEN_HOME": sys.argv[3], "GTOKEN_EMULATOR_HOST": sys.argv[4]}
    accounts = Accounts(env=env, clock=lambda: time.time() + offset)
    accounts.find()  # the store is open and read before the start
    if mode == "threads":
        out = []
        def ask():
            out.append(accounts.token().access_token)
        threads = [threading.Thread(target=ask) for _ in range(4)]
        time.sleep(max(0.0, start - time.time()))
        for t in threads: t.start()
        for t in threads: t.join()
    else:
        async def main():
            aio = AsyncAccounts(accounts)
            await asyncio.sleep(max(0.0, start - time.time()))
            return [t.access_token for t in await asyncio.gather(*(aio.token() for _ in range(50)))]
        out = asyncio.run(main())
    print("\\n".join(out))
    """
)


def test_tasks_threads_and_processes_share_one_refresh(emulator, accounts, clock, env) -> None:
    signed = sign_in(emulator, accounts)
    clock.advance(3600)
    start = time.time() + 2.0
    where = [env["GTOKEN_HOME"], emulator.host]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", STORM, str(clock.offset), str(start), *where, mode],
            stdout=subprocess.PIPE,
            text=True,
        )
        for mode in ("threads", "tasks")
    ]
    got: list[str] = []

    def tasks() -> None:  # 100 tasks on an event loop of its own: two loops, 200 tasks
        async def main() -> list[Token]:
            aio = AsyncAccounts(accounts)
            await asyncio.sleep(max(0.0, start - time.time()))
            return await asyncio.gather(*(aio.token() for _ in range(100)))

        got.extend(t.access_token for t in asyncio.run(main()))

    def thread() -> None:
        time.sleep(max(0.0, start - time.time()))
        got.append(accounts.token().access_token)

    workers = [threading.Thread(target=tasks) for _ in range(2)]
    workers += [threading.Thread(target=thread) for _ in range(16)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    got += [line for p in procs for line in p.communicate(timeout=60)[0].split()]
    assert all(p.returncode == 0 for p in procs)
    assert len(got) == 200 + 16 + 4 + 50
    assert len(set(got)) == 1
    assert signed.access_token not in got
    assert refreshes(emulator) == 1


def test_the_loop_keeps_running_during_a_slow_refresh(emulator, accounts, clock) -> None:
    sign_in(emulator, accounts)
    clock.advance(3600)
    emulator.fault("token", delay=1.0)
    aio = AsyncAccounts(accounts)

    async def main() -> tuple[float, list[float]]:
        beats: list[float] = []
        done = asyncio.Event()

        async def heartbeat() -> None:
            while not done.is_set():
                beats.append(time.monotonic())
                await asyncio.sleep(0.05)

        beating = asyncio.create_task(heartbeat())
        began = time.monotonic()
        await asyncio.gather(*(aio.token() for _ in range(100)))
        took = time.monotonic() - began
        done.set()
        await beating
        return took, beats

    took, beats = run(main)
    assert took >= 1.0  # the refresh did wait for the slow token endpoint
    gaps = [b - a for a, b in itertools.pairwise(beats)]
    assert len(beats) >= 15
    assert max(gaps) < 0.25, f"the loop stalled for {max(gaps):.3f} s"
    assert refreshes(emulator) == 1


def test_a_cancelled_waiter_does_not_cancel_the_refresh(emulator, accounts, clock) -> None:
    signed = sign_in(emulator, accounts)
    clock.advance(3600)
    emulator.fault("token", delay=0.5)
    aio = AsyncAccounts(accounts)

    async def main() -> list[Token | BaseException]:
        tasks = [asyncio.create_task(aio.token()) for _ in range(10)]
        await asyncio.sleep(0.1)
        tasks[0].cancel()  # the task that started the refresh
        tasks[5].cancel()
        return await asyncio.gather(*tasks, return_exceptions=True)

    results = run(main)
    assert isinstance(results[0], asyncio.CancelledError)
    assert isinstance(results[5], asyncio.CancelledError)
    rest = [r for i, r in enumerate(results) if i not in (0, 5)]
    assert all(isinstance(r, Token) for r in rest)
    assert len({r.access_token for r in rest if isinstance(r, Token)}) == 1
    assert refreshes(emulator) == 1

    emulator.fault("token", delay=0.3)
    clock.advance(3600)

    async def everyone_gives_up() -> None:
        tasks = [asyncio.create_task(aio.token()) for _ in range(5)]
        await asyncio.sleep(0.05)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.sleep(0.5)  # the refresh finishes and is stored all the same

    run(everyone_gives_up)
    assert refreshes(emulator) == 2
    assert accounts.token().access_token != signed.access_token
    assert refreshes(emulator) == 2


def test_an_error_reaches_every_waiter(emulator, accounts, clock) -> None:
    sign_in(emulator, accounts)
    emulator.revoke_user("ada@example.com")
    clock.advance(3600)
    aio = AsyncAccounts(accounts)

    async def main() -> list[Token | BaseException]:
        return await asyncio.gather(*(aio.token() for _ in range(100)), return_exceptions=True)

    results = run(main)
    assert all(isinstance(r, ConsentRequired) for r in results)
    assert "revoked" in str(results[0]).lower()
    assert refreshes(emulator) == 1
    assert accounts.find().status == "needs_consent"


def test_the_first_call_signs_in_off_the_loop(emulator, tmp_path, env) -> None:
    secrets = emulator.create_client(type="installed")
    emulator.create_user("ada@example.com")
    emulator.consent_auto(email="ada@example.com")
    env = {**env, "BROWSER": HttpBrowser(tmp_path / "page").command}

    async def main() -> list[str]:
        asked = (
            gtoken.aio.access_token(["gmail.readonly"], client_secrets=secrets, env=env)
            for _ in range(5)
        )
        return await asyncio.gather(*asked)

    assert len(set(run(main))) == 1
    assert emulator.stats()["token"]["authorization_code"] == 1  # one consent for all five


def test_repr_shows_no_token(accounts, emulator) -> None:
    sign_in(emulator, accounts)
    shown = repr(AsyncAccounts(accounts))
    assert "AsyncAccounts" in shown
    assert accounts.find().access_token not in shown


def test_scopes_as_one_string_is_a_type_error(env) -> None:
    async def main() -> Any:
        return await gtoken.aio.access_token("gmail.readonly", env=env)

    with pytest.raises(TypeError, match="not a str"):
        run(main)


def test_without_a_signed_in_account_it_says_so(env) -> None:
    async def main() -> str:
        return await gtoken.aio.access_token(["gmail.readonly"], env=env, login="never")

    with pytest.raises(ConsentRequired, match="gtoken login"):
        run(main)
