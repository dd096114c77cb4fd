"""``gtoken.aio.Vault``: :class:`gtoken.Vault` for asyncio applications (ASGI: Starlette, FastAPI).

The same methods, as coroutines. Each runs the synchronous vault's method in a worker thread, so
there is one implementation of every rule (state, PKCE, sealing, the refresh engine's single
flight and cross-process lock) for both, and the event loop never waits on the database or on
Google. Tasks asking for one user's expired token at once cause one refresh, as threads do.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Literal, ParamSpec, TypeVar

from gtoken.vault.vault import Vault as SyncVault

if TYPE_CHECKING:
    from gtoken.adapters.google_auth import Credentials
    from gtoken.oauth.token import Token
    from gtoken.vault.due import DueReport
    from gtoken.vault.events import Event, EventKind
    from gtoken.vault.records import Connection, Status

__all__ = ["Vault"]

P = ParamSpec("P")
T = TypeVar("T")


class Vault:
    """:class:`gtoken.Vault` with coroutine methods. Opening it (which may migrate the schema)
    blocks: do it at start-up, or ``await asyncio.to_thread(gtoken.aio.Vault, ...)``."""

    def __init__(self, database_url: str | None = None, **options: Any) -> None:
        """The arguments of :class:`gtoken.Vault`."""
        self.sync = SyncVault(database_url, **options)

    async def _run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        return await asyncio.to_thread(functools.partial(fn, *args, **kwargs))

    async def authorization_url(
        self,
        user_id: str,
        scopes: Iterable[str],
        login_hint: str | None = None,
        *,
        prompt: Literal["consent", "select_account"] | None = None,
        client: str | None = None,
        redirect_uri: str | None = None,
    ) -> str:
        return await self._run(
            self.sync.authorization_url,
            user_id,
            list(scopes),
            login_hint,
            prompt=prompt,
            client=client,
            redirect_uri=redirect_uri,
        )

    async def complete(self, callback_url: str, *, user_id: str | None = None) -> Connection:
        return await self._run(self.sync.complete, callback_url, user_id=user_id)

    async def token(
        self,
        user_id: str,
        *,
        scopes: Iterable[str] | None = None,
        min_ttl: float = 120.0,
        client: str | None = None,
    ) -> Token:
        return await self._run(
            self.sync.token, user_id, scopes=scopes, min_ttl=min_ttl, client=client
        )

    async def access_token(
        self,
        user_id: str,
        min_ttl: float = 60,
        *,
        scopes: Iterable[str] | None = None,
        client: str | None = None,
    ) -> str:
        return await self._run(
            self.sync.access_token, user_id, min_ttl, scopes=scopes, client=client
        )

    async def credentials(
        self, user_id: str, scopes: Iterable[str] | None = None, *, client: str | None = None
    ) -> Credentials:
        """google-auth Credentials (their own ``refresh`` is synchronous, as google-auth's is)."""
        return await self._run(self.sync.credentials, user_id, scopes, client=client)

    async def connection(self, user_id: str, *, client: str | None = None) -> Connection | None:
        return await self._run(self.sync.connection, user_id, client=client)

    async def connections(
        self,
        *,
        client: str | None = None,
        status: Status | None = None,
        after: str | Connection | None = None,
        limit: int = 100,
    ) -> list[Connection]:
        return await self._run(
            self.sync.connections, client=client, status=status, after=after, limit=limit
        )

    async def revoke(self, user_id: str, *, client: str | None = None) -> bool:
        return await self._run(self.sync.revoke, user_id, client=client)

    async def forget(self, user_id: str, *, client: str | None = None) -> bool:
        return await self._run(self.sync.forget, user_id, client=client)

    async def refresh_due(
        self,
        within: float = 600,
        limit: int = 1000,
        *,
        idle_days: float = 30,
        concurrency: int = 4,
    ) -> DueReport:
        return await self._run(
            self.sync.refresh_due, within, limit, idle_days=idle_days, concurrency=concurrency
        )

    def on(
        self, callback: Callable[[Event], object], *events: EventKind
    ) -> Callable[[Event], object]:
        """As :meth:`gtoken.Vault.on`; callbacks run in the thread that made the change."""
        return self.sync.on(callback, *events)

    async def aclose(self) -> None:
        await self._run(self.sync.close)

    async def __aenter__(self) -> Vault:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"gtoken.aio.Vault({self.sync.database!r})"
