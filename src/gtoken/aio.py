"""gtoken for asyncio programs: the same accounts, store and exactly-once refresh, without blocking
the event loop.

    import gtoken.aio
    token = await gtoken.aio.access_token(["gmail.readonly"])
    async with httpx.AsyncClient(auth=await gtoken.aio.httpx_auth(["gmail.readonly"])) as http:
        ...

What runs where:

- A token that is valid in the store is read on the loop: one SQLite row, about 0.1 ms, shared by
  the tasks that ask at the same moment. (Handing that read to a worker thread costs twice as
  much in latency, and a thread.)
- A refresh runs in a worker thread through the synchronous refresh engine
  (:class:`~gtoken.refresh.Engine`), so it takes part in the process-wide thread single-flight
  and the per-account lock exactly as synchronous callers do: threads, tasks and other processes
  together cause one refresh.
- In front of that, one flight per event loop and account: the first task that finds the token
  expiring starts the refresh as a task of its own, and every task that asks meanwhile awaits that
  same task. A thousand tasks cost one worker thread and one refresh.
- A task that is cancelled stops waiting; the refresh goes on for the others and is stored either
  way. An error (``ConsentRequired``, ``NetworkError``...) reaches every task that waited.
- Consent, when the account needs it, waits for a person: it runs in a worker thread through
  :func:`gtoken.credentials`, one at a time per loop.

asyncio only (trio is not supported).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import os
from collections.abc import Awaitable, Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from gtoken import lookup
from gtoken.accounts import Accounts
from gtoken.errors import ConsentRequired
from gtoken.oauth.token import Token
from gtoken.refresh import DEFAULT_MIN_TTL
from gtoken.store import AccountRecord

if TYPE_CHECKING:
    from gtoken.adapters.httpx_auth import HttpxAuth
    from gtoken.vault.aio import Vault

__all__ = ["AsyncAccounts", "Vault", "access_token", "httpx_auth", "token"]

T = TypeVar("T")

# (event loop, key) -> the task doing that work for every task of that loop that asks meanwhile.
_flights: dict[tuple[asyncio.AbstractEventLoop, str], asyncio.Task[Any]] = {}


async def _shared(key: str, fn: Callable[[], T]) -> T:
    """``fn()`` run once, in a worker thread, for all the tasks of this loop that ask for ``key``
    while it runs. Cancelling a caller does not cancel the call."""
    return await _shared_task(key, lambda: asyncio.to_thread(fn))


async def _shared_task(key: str, start: Callable[[], Awaitable[T]]) -> T:
    """``await start()`` run once, as a task of its own, for all the tasks of this loop that ask
    for ``key`` while it runs. Cancelling a caller does not cancel the call."""
    loop = asyncio.get_running_loop()
    slot = (loop, key)
    flight = _flights.get(slot)
    if flight is None or flight.done():
        flight = loop.create_task(_await(start()), name=f"gtoken {key.split(':', 1)[0]}")
        _flights[slot] = flight
        flight.add_done_callback(functools.partial(_landed, slot))
    return cast(T, await asyncio.shield(flight))


async def _await(awaitable: Awaitable[T]) -> T:
    return await awaitable


def _landed(slot: tuple[asyncio.AbstractEventLoop, str], flight: asyncio.Task[Any]) -> None:
    if _flights.get(slot) is flight:
        del _flights[slot]
    if not flight.cancelled():
        flight.exception()  # the waiters had it; if all were cancelled, it is not "unretrieved"


class AsyncAccounts:
    """An :class:`~gtoken.accounts.Accounts` for asyncio programs: fresh tokens without blocking
    the loop, refreshed once however many tasks, threads and processes ask."""

    def __init__(self, accounts: Accounts) -> None:
        self.accounts = accounts

    @classmethod
    async def open(
        cls, *, env: Mapping[str, str] | None = None, home: Path | None = None
    ) -> AsyncAccounts:
        """The accounts of the gtoken home of ``env`` (default: ``os.environ``), opened in a
        worker thread (opening may create the store and its key)."""
        env = os.environ if env is None else env
        return cls(await asyncio.to_thread(Accounts, env=env, home=home))

    async def aclose(self) -> None:
        self.accounts.close()

    async def __aenter__(self) -> AsyncAccounts:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"gtoken.aio.AsyncAccounts(home={str(self.accounts.home)!r})"

    async def token(
        self,
        account: str | None = None,
        *,
        client_id: str | None = None,
        scopes: Iterable[str] | None = None,
        min_ttl: float = DEFAULT_MIN_TTL,
    ) -> Token:
        """A fresh access token of the account (email or id; default: the default account),
        valid ``min_ttl`` more seconds at least. Raises as :meth:`Accounts.token` does.

        Tasks asking the same question at the same moment share one answer: when the token has
        just expired, a thousand tasks cost one store read and one refresh."""
        wanted = None if scopes is None else tuple(sorted(set(scopes)))
        question = f"answer:{self.accounts.store.path}:{account}:{client_id}:{wanted}:{min_ttl}"
        return await _shared_task(
            question, lambda: self._answer(account, client_id, wanted, min_ttl)
        )

    async def _answer(
        self,
        account: str | None,
        client_id: str | None,
        scopes: Iterable[str] | None,
        min_ttl: float,
    ) -> Token:
        record = self.accounts.find(account, client_id=client_id)
        if scopes is not None:
            self.accounts.check_scopes(record, scopes)
        fresh = await self._fresh(record, min_ttl=min_ttl, rejected=None)
        return self.accounts.refresher.token(fresh)

    async def fresh(
        self,
        account_id: str,
        *,
        min_ttl: float = DEFAULT_MIN_TTL,
        rejected: str | None = None,
    ) -> AccountRecord:
        """:meth:`Engine.fresh <gtoken.refresh.Engine.fresh>` for asyncio: the account with
        an access token valid ``min_ttl`` more seconds (and other than ``rejected``, one an API
        refused), refreshing it if needed."""
        record = self.accounts.store.get(account_id)
        if record is None:
            raise ConsentRequired(
                account_id,
                "it is not in the store (logged out?)",
                hint="Sign in with gtoken login.",
            )
        return await self._fresh(record, min_ttl=min_ttl, rejected=rejected)

    async def _fresh(
        self, record: AccountRecord, *, min_ttl: float, rejected: str | None
    ) -> AccountRecord:
        if self.accounts.refresher.usable(record, min_ttl, rejected):
            return record
        refresher = self.accounts.refresher
        key = f"refresh:{refresher.grants.name}:{record.id}"

        def refresh() -> AccountRecord:
            return refresher.fresh(record.id, min_ttl=min_ttl, rejected=rejected)

        fresh = await _shared(key, refresh)
        if rejected is not None and fresh.access_token == rejected:
            # This task joined a refresh started before the API refused that token.
            fresh = await _shared(key, refresh)
        return fresh


async def _resolve(
    scopes: Iterable[str],
    *,
    client_secrets: lookup.ClientSecretsArg,
    account: str | None,
    login: lookup.Login,
    env: Mapping[str, str] | None,
) -> tuple[Accounts, AccountRecord]:
    """What :func:`gtoken.lookup.resolve` finds, reading the store on the loop and leaving
    opening the store and consent to a worker thread."""
    env_ = os.environ if env is None else env
    wanted = lookup.wanted_scopes(scopes)
    accounts = lookup.cached_accounts(env_)
    if accounts is not None:
        client_id = None if client_secrets is None else lookup.load_client(client_secrets).client_id
        record = lookup.ready(accounts, wanted, client_id=client_id, account=account)
        if record is not None:
            return accounts, record
    resolve = functools.partial(
        lookup.resolve,
        wanted,
        client_secrets=client_secrets,
        account=account,
        login=login,
        env=env_,
    )
    # Hashed: a client_secrets mapping holds the client secret.
    asked = repr((lookup.env_key(env_), account, sorted(wanted), client_secrets))
    key = f"consent:{hashlib.sha256(asked.encode()).hexdigest()}"
    return await _shared(key, resolve)


async def token(
    scopes: Iterable[str] = (),
    *,
    account: str | None = None,
    client_secrets: lookup.ClientSecretsArg = None,
    login: lookup.Login = "auto",
    env: Mapping[str, str] | None = None,
    min_ttl: float = DEFAULT_MIN_TTL,
) -> Token:
    """A fresh access token (valid ``min_ttl`` more seconds at least) for the account
    :func:`gtoken.credentials` with the same arguments would use, running consent as it would.
    Tasks asking the same at the same moment share one answer."""
    env_ = os.environ if env is None else env
    wanted = lookup.wanted_scopes(scopes)

    async def answer() -> Token:
        accounts, record = await _resolve(
            wanted, client_secrets=client_secrets, account=account, login=login, env=env_
        )
        fresh = await AsyncAccounts(accounts)._fresh(record, min_ttl=min_ttl, rejected=None)
        return accounts.refresher.token(fresh)

    # Hashed: a client_secrets mapping holds the client secret.
    asked = repr((lookup.env_key(env_), account, sorted(wanted), client_secrets, login, min_ttl))
    return await _shared_task(f"token:{hashlib.sha256(asked.encode()).hexdigest()}", answer)


async def access_token(
    scopes: Iterable[str] = (),
    *,
    account: str | None = None,
    client_secrets: lookup.ClientSecretsArg = None,
    login: lookup.Login = "auto",
    env: Mapping[str, str] | None = None,
    min_ttl: float = DEFAULT_MIN_TTL,
) -> str:
    """:func:`token`'s access token alone: what goes after ``Authorization: Bearer``."""
    got = await token(
        scopes,
        account=account,
        client_secrets=client_secrets,
        login=login,
        env=env,
        min_ttl=min_ttl,
    )
    return got.access_token


async def httpx_auth(
    scopes: Iterable[str] = (),
    *,
    account: str | None = None,
    client_secrets: lookup.ClientSecretsArg = None,
    login: lookup.Login = "auto",
    env: Mapping[str, str] | None = None,
    min_ttl: float = DEFAULT_MIN_TTL,
) -> HttpxAuth:
    """:func:`gtoken.httpx_auth` for asyncio programs: finds the account (and runs consent when
    needed) without blocking the loop."""
    from gtoken.adapters.httpx_auth import HttpxAuth

    accounts, record = await _resolve(
        scopes, client_secrets=client_secrets, account=account, login=login, env=env
    )
    return HttpxAuth(accounts, record.id, min_ttl=min_ttl)


def __getattr__(name: str) -> object:
    # The vault (and its database drivers) load only for programs that use it.
    if name == "Vault":
        from gtoken.vault.aio import Vault

        return Vault
    raise AttributeError(f"module 'gtoken.aio' has no attribute {name!r}")
