"""The one place gtoken sends HTTP: timeouts, and retries with jittered backoff.

Retried: connection errors, timeouts, 408, 429, 500, 502, 503, 504 (honouring ``Retry-After``).
Never retried: any other 4xx, in particular 400 and 401, whose answer will not change.

Requests go out as :class:`~gtoken.oauth.grants.TokenRequest` values (or method, URL, headers,
body) and come back as :class:`Response` values, so the protocol code above never sees httpx.
``sleep`` and ``random`` are injected, which keeps tests of the retry schedule fast and exact.
"""

from __future__ import annotations

import asyncio
import itertools
import random as _random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

import httpx

from gtoken.errors import NetworkError
from gtoken.oauth.grants import TokenRequest

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class Response:
    """What came back: status, headers (lower-case names) and the raw body."""

    status: int
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: ``attempts`` in all, backoff doubling from ``base_delay`` up to
    ``max_delay`` with full jitter; a ``Retry-After`` longer than ``max_retry_after`` is not
    waited for (the last answer is returned instead)."""

    attempts: int = 4
    base_delay: float = 0.25
    max_delay: float = 4.0
    max_retry_after: float = 30.0
    timeout: float = 20.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    async_sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep, repr=False)
    random: Callable[[], float] = field(default=_random.random, repr=False)

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return retry_after
        return self.random() * min(self.max_delay, self.base_delay * 2.0**attempt)


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("retry-after")
    if value is None:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _describe(url: str) -> str:
    # The URL's origin and path only: query strings may carry tokens.
    parsed = httpx.URL(url)
    return f"{parsed.scheme}://{parsed.netloc.decode()}{parsed.path}"


class Transport:
    """Synchronous HTTP with gtoken's retry policy, over one keep-alive ``httpx.Client``."""

    def __init__(self, policy: RetryPolicy | None = None, *, client: httpx.Client | None = None):
        self.policy = policy or RetryPolicy()
        self._client = client or httpx.Client(timeout=self.policy.timeout)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, request: TokenRequest) -> Response:
        """Send a token-endpoint request (form POST)."""
        return self.request(
            request.method, request.url, headers=dict(request.headers), content=request.body
        )

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
    ) -> Response:
        for attempt in itertools.count():
            try:
                reply = self._client.request(method, url, headers=headers, content=content)
            except httpx.TransportError as exc:
                wait = _next_wait(self.policy, attempt, None)
                if wait is None:
                    raise _network_error(url, exc) from None
            else:
                response = _response(reply)
                wait = _next_wait(self.policy, attempt, response)
                if wait is None:
                    return response
            self.policy.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover


class AsyncTransport:
    """The same, for asyncio programs, over one ``httpx.AsyncClient``."""

    def __init__(
        self, policy: RetryPolicy | None = None, *, client: httpx.AsyncClient | None = None
    ):
        self.policy = policy or RetryPolicy()
        self._client = client or httpx.AsyncClient(timeout=self.policy.timeout)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def send(self, request: TokenRequest) -> Response:
        """Send a token-endpoint request (form POST)."""
        return await self.request(
            request.method, request.url, headers=dict(request.headers), content=request.body
        )

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
    ) -> Response:
        for attempt in itertools.count():
            try:
                reply = await self._client.request(method, url, headers=headers, content=content)
            except httpx.TransportError as exc:
                wait = _next_wait(self.policy, attempt, None)
                if wait is None:
                    raise _network_error(url, exc) from None
            else:
                response = _response(reply)
                wait = _next_wait(self.policy, attempt, response)
                if wait is None:
                    return response
            await self.policy.async_sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover


def _response(reply: httpx.Response) -> Response:
    return Response(
        reply.status_code, {k.lower(): v for k, v in reply.headers.items()}, reply.content
    )


def _next_wait(policy: RetryPolicy, attempt: int, response: Response | None) -> float | None:
    """Seconds to wait before trying again, or None to stop with this outcome.

    ``response`` None means the connection failed. A ``Retry-After`` longer than the policy
    allows stops at once: the caller gets the answer, which says when to come back.
    """
    if attempt >= policy.attempts - 1:
        return None
    if response is None:
        return policy.delay(attempt, None)
    if response.status not in RETRY_STATUSES:
        return None
    retry_after = _retry_after(response.headers)
    if retry_after is not None and retry_after > policy.max_retry_after:
        return None
    return policy.delay(attempt, retry_after)


def _network_error(url: str, exc: httpx.TransportError) -> NetworkError:
    return NetworkError(
        f"could not reach {_describe(url)} ({type(exc).__name__}) after several tries",
        hint="Check the network connection (or that the emulator at GTOKEN_EMULATOR_HOST runs).",
    )
