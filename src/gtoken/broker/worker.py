"""The background worker every replica runs: refreshes falling due (the vault's ``refresh_due``),
webhook delivery, and retention. Leader-free: every piece of work is claimed in the database by
one replica, so any number may run it at once. At shutdown the loops finish what they hold (the
vault releases its claims) and stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Final

import httpx
from anyio import to_thread

from gtoken.broker.metrics import Metrics
from gtoken.broker.service import Broker

__all__ = ["Worker"]

log = logging.getLogger("gtoken.broker.worker")
WEBHOOK_INTERVAL: Final = 1.0
RETENTION_INTERVAL: Final = 3600.0


class Worker:
    def __init__(self, broker: Broker, metrics: Metrics) -> None:
        self.broker = broker
        self.metrics = metrics
        self.settings = broker.settings
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._http = httpx.Client(timeout=10.0, follow_redirects=False)

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._loop(self.refresh_due, self.settings.worker_interval)),
            asyncio.create_task(self._loop(self.deliver, WEBHOOK_INTERVAL)),
            asyncio.create_task(self._loop(self.prune, RETENTION_INTERVAL)),
        ]

    async def stop(self) -> None:
        self._stop.set()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._http.close()

    async def _loop(self, step: Callable[[], Awaitable[bool]], interval: float) -> None:
        while not self._stop.is_set():
            busy = False
            try:
                busy = await step()
            except Exception as exc:
                log.warning("the worker's %s failed: %s", step.__name__, exc)
            if busy:
                continue  # more is waiting: go on at once
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), interval)

    async def refresh_due(self) -> bool:
        limit = 200
        report = await to_thread.run_sync(
            lambda: self.broker.vault.refresh_due(
                within=self.settings.refresh_within,
                limit=limit,
                concurrency=self.settings.worker_concurrency,
            )
        )
        for outcome in ("refreshed", "needs_consent", "failed"):
            count = getattr(report, outcome)
            if count:
                self.metrics.refreshes.labels(outcome).inc(count)
        return report.claimed >= limit

    async def deliver(self) -> bool:
        limit = 100
        claimed = await to_thread.run_sync(
            lambda: self.broker.webhooks.deliver_batch(
                self._http, limit=limit, concurrency=self.settings.worker_concurrency
            )
        )
        delivered, attempted = claimed
        if attempted:
            self.metrics.webhooks.labels("delivered").inc(delivered)
            self.metrics.webhooks.labels("failed").inc(attempted - delivered)
        return attempted >= limit

    async def prune(self) -> bool:
        before = int(time.time() - self.settings.audit_days * 86400)
        await to_thread.run_sync(lambda: self.broker.records.prune(audit_before=before))
        return False
