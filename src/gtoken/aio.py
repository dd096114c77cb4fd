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

import functools
import hashlib
import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from gtoken import resolve
from gtoken.accounts import Accounts
from gtoken.async_accounts import AsyncAccounts, shared, shared_task
from gtoken.files.clients import read_client_secrets
from gtoken.oauth.token import Token
from gtoken.refresh import DEFAULT_MIN_TTL
from gtoken.store import AccountRecord

if TYPE_CHECKING:
    from gtoken.adapters.httpx_auth import HttpxAuth
    from gtoken.vault.aio import Vault

__all__ = ["AsyncAccounts", "Vault", "access_token", "httpx_auth", "token"]


async def _resolve(
    scopes: Iterable[str],
    *,
    client_secrets: resolve.ClientSecretsArg,
    account: str | None,
    login: resolve.Login,
    env: Mapping[str, str] | None,
) -> tuple[Accounts, AccountRecord]:
    """What :func:`gtoken.resolve.resolve` finds, reading the store on the loop and leaving
    opening the store and consent to a worker thread."""
    env_ = os.environ if env is None else env
    wanted = resolve.wanted_scopes(scopes)
    accounts = resolve.cached_accounts(env_)
    if accounts is not None:
        client_id = (
            None if client_secrets is None else read_client_secrets(client_secrets).client_id
        )
        record = resolve.ready(accounts, wanted, client_id=client_id, account=account)
        if record is not None:
            return accounts, record
    find = functools.partial(
        resolve.resolve,
        wanted,
        client_secrets=client_secrets,
        account=account,
        login=login,
        env=env_,
    )
    # Hashed: a client_secrets mapping holds the client secret.
    asked = repr((resolve.env_key(env_), account, sorted(wanted), client_secrets))
    key = f"consent:{hashlib.sha256(asked.encode()).hexdigest()}"
    return await shared(key, find)


async def token(
    scopes: Iterable[str] = (),
    *,
    account: str | None = None,
    client_secrets: resolve.ClientSecretsArg = None,
    login: resolve.Login = "auto",
    env: Mapping[str, str] | None = None,
    min_ttl: float = DEFAULT_MIN_TTL,
) -> Token:
    """A fresh access token (valid ``min_ttl`` more seconds at least) for the account
    :func:`gtoken.credentials` with the same arguments would use, running consent as it would.
    Tasks asking the same at the same moment share one answer."""
    env_ = os.environ if env is None else env
    wanted = resolve.wanted_scopes(scopes)

    async def answer() -> Token:
        accounts, record = await _resolve(
            wanted, client_secrets=client_secrets, account=account, login=login, env=env_
        )
        fresh = await AsyncAccounts(accounts)._fresh(record, min_ttl=min_ttl, rejected=None)
        return accounts.refresher.token(fresh)

    # Hashed: a client_secrets mapping holds the client secret.
    asked = repr((resolve.env_key(env_), account, sorted(wanted), client_secrets, login, min_ttl))
    return await shared_task(f"token:{hashlib.sha256(asked.encode()).hexdigest()}", answer)


async def access_token(
    scopes: Iterable[str] = (),
    *,
    account: str | None = None,
    client_secrets: resolve.ClientSecretsArg = None,
    login: resolve.Login = "auto",
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
    client_secrets: resolve.ClientSecretsArg = None,
    login: resolve.Login = "auto",
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
