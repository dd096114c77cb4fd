"""Accounts for asyncio programs: fresh tokens without blocking the event loop, one refresh
however many tasks, threads and processes ask (see :mod:`gtoken.aio` for what runs where).

Below the adapters: their asyncio methods use :class:`AsyncAccounts`, while :mod:`gtoken.aio`,
the one-call functions, builds on them.
"""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import Awaitable, Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar, cast

from gtoken.accounts import Accounts
from gtoken.errors import ConsentRequired
from gtoken.oauth.token import Token
from gtoken.refresh import DEFAULT_MIN_TTL
from gtoken.store import AccountRecord

__all__ = ["AsyncAccounts", "shared", "shared_task"]

T = TypeVar("T")

# (event loop, key) -> the task doing that work for every task of that loop that asks meanwhile.
_flights: dict[tuple[asyncio.AbstractEventLoop, str], asyncio.Task[Any]] = {}


async def shared(key: str, fn: Callable[[], T]) -> T:
    """``fn()`` run once, in a worker thread, for all the tasks of this loop that ask for ``key``
    while it runs. Cancelling a caller does not cancel the call."""
    return await shared_task(key, lambda: asyncio.to_thread(fn))


async def shared_task(key: str, start: Callable[[], Awaitable[T]]) -> T:
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
        return await shared_task(
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

        fresh = await shared(key, refresh)
        if rejected is not None and fresh.access_token == rejected:
            # This task joined a refresh started before the API refused that token.
            fresh = await shared(key, refresh)
        return fresh
