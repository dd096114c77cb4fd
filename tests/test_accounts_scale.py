"""A thousand stored accounts: the one asked for is chosen by the columns that are not secret, and
only it is opened. To show that, every other account's sealed values are damaged on purpose: a
lookup that opened any of them would fail.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from gtoken.accounts import Accounts
from gtoken.emulator.client import Emulator
from gtoken.store import AccountRecord
from tests.store.samples import account
from tests.support import Clock, no_wait, stored_login

GMAIL_RO = "https://www.googleapis.com/auth/gmail.readonly"
N = 1000


@dataclass
class Crowd:
    accounts: Accounts
    real: AccountRecord  # signed in with the emulator, the default
    env: dict[str, str]

    def damage_all_but(self, keep: str) -> None:
        with sqlite3.connect(self.accounts.store.path) as db:
            db.execute(
                "UPDATE accounts SET access_token = 'damaged', refresh_token = 'damaged',"
                " id_token = 'damaged', client_secret = 'damaged' WHERE id != ?",
                (keep,),
            )

    def gtoken(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "gtoken", *args],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=60,
        )


@pytest.fixture
def crowd(env: dict[str, str], clock: Clock, emulator: Emulator) -> Iterator[Crowd]:
    """One real account and 999 more, half of them through the same client."""
    with Accounts(env=env, clock=clock, transport=no_wait) as accounts:
        stored_login(emulator, accounts, f"openid email {GMAIL_RO}")
        real = accounts.find()
        with accounts.store.transaction():
            for n in range(N - 1):
                client = real.client_id if n % 2 else "other-client.apps.googleusercontent.com"
                accounts.store.put(account(f"acct-{n:04d}", client_id=client))
        yield Crowd(accounts, real, {**os.environ, **env})


def test_the_default_among_a_thousand_is_the_only_one_opened(crowd: Crowd) -> None:
    crowd.damage_all_but(crowd.real.id)
    accounts = crowd.accounts

    assert accounts.find().id == crowd.real.id
    assert accounts.find(client_id=crowd.real.client_id).id == crowd.real.id
    refreshed = accounts.token(min_ttl=3599)  # a refresh, stored: opens and writes that row only
    assert refreshed.access_token != crowd.real.access_token
    assert accounts.token().access_token == refreshed.access_token

    run = crowd.gtoken("token")
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == refreshed.access_token
    forced = crowd.gtoken("token", "--min-ttl", "3599")  # through the library, refreshing
    assert forced.returncode == 0, forced.stderr


@pytest.mark.parametrize("n", [0, 500, N - 2])
def test_an_account_named_among_a_thousand_is_the_only_one_opened(crowd: Crowd, n: int) -> None:
    name = f"acct-{n:04d}"
    crowd.damage_all_but(name)
    accounts = crowd.accounts
    stored = accounts.store.get(name)
    assert stored is not None

    assert accounts.find(f"{name}@example.com").id == name
    assert accounts.find(f"{name.upper()}@EXAMPLE.COM").id == name
    assert accounts.find(name).id == name
    assert accounts.token(f"{name}@example.com").access_token == stored.access_token
    run = crowd.gtoken("token", "--account", f"{name}@example.com")
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == stored.access_token

    accounts.set_default(f"{name}@example.com")
    assert accounts.find().id == name
    assert accounts.token().access_token == stored.access_token
    assert accounts.forget(name).id == name
    assert accounts.store.get(name) is None


def test_adding_an_account_to_a_thousand_opens_none_of_them(
    crowd: Crowd, emulator: Emulator
) -> None:
    crowd.damage_all_but("nobody")

    stored_login(emulator, crowd.accounts, f"openid email {GMAIL_RO}", email="bob@example.com")

    added = crowd.accounts.find()
    assert added.email == "bob@example.com"
    assert crowd.accounts.token().access_token == added.access_token
    run = crowd.gtoken("token")
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == added.access_token
