"""gtoken's tokens for httpx: ``httpx.Client(auth=gtoken.httpx_auth(["gmail.readonly"]))``.

Each request gets ``Authorization: Bearer <token>``. The token is kept in memory while it has more
than ``min_ttl`` seconds to live and taken from the store (refreshed there, once, however many
ask) when it has less. A 401 is answered by one refresh, with the refused token marked as
rejected, and one resend; if the resend is refused too, its 401 is returned as it is (no loop).
A request whose body cannot be sent twice (a stream) is not resent: its 401 is returned, and the
next request carries the new token. When the refresh itself fails (the person revoked access, say)
its error is raised: ``ConsentRequired`` says what to do, a bare 401 would not.

The async flow (``httpx.AsyncClient``) refreshes through :mod:`gtoken.aio`, off the event loop.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator, Iterable, Mapping

import httpx

from gtoken import resolve
from gtoken.accounts import Accounts
from gtoken.adapters.bearer import Bearer
from gtoken.refresh import DEFAULT_MIN_TTL

__all__ = ["HttpxAuth", "httpx_auth"]


class HttpxAuth(httpx.Auth):
    """``httpx`` auth with a stored account's access token, refreshed by gtoken. Made by
    :func:`gtoken.httpx_auth` (or ``await gtoken.aio.httpx_auth(...)``)."""

    def __init__(
        self, accounts: Accounts, account_id: str, *, min_ttl: float = DEFAULT_MIN_TTL
    ) -> None:
        self._bearer = Bearer(accounts, account_id, min_ttl=min_ttl)

    def __repr__(self) -> str:
        return f"gtoken.HttpxAuth(account={self._bearer.label!r})"

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        token = self._bearer.current()
        response = yield _authorized(request, token)
        if response.status_code == 401:
            renewed = self._bearer.renewed(token)
            if _replayable(request):
                yield _authorized(request, renewed)

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = await self._bearer.acurrent()
        response = yield _authorized(request, token)
        if response.status_code == 401:
            renewed = await self._bearer.arenewed(token)
            if _replayable(request):
                yield _authorized(request, renewed)


def _authorized(request: httpx.Request, token: str) -> httpx.Request:
    request.headers["Authorization"] = f"Bearer {token}"
    return request


def _replayable(request: httpx.Request) -> bool:
    # Bytes (content=, data=, json=, or a stream already read) can be sent again; a stream cannot.
    return isinstance(request.stream, httpx.ByteStream)


def httpx_auth(
    scopes: Iterable[str] = (),
    *,
    account: str | None = None,
    client_secrets: resolve.ClientSecretsArg = None,
    login: resolve.Login = "auto",
    env: Mapping[str, str] | None = None,
    min_ttl: float = DEFAULT_MIN_TTL,
) -> HttpxAuth:
    """An :class:`HttpxAuth` for the account :func:`gtoken.credentials` with the same arguments
    would use, running consent as it would. (In asyncio code, ``await gtoken.aio.httpx_auth``.)"""
    accounts, record = resolve.resolve(
        scopes, client_secrets=client_secrets, account=account, login=login, env=env
    )
    return HttpxAuth(accounts, record.id, min_ttl=min_ttl)
