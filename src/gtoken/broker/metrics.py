"""Prometheus metrics of one broker process, and the ASGI middleware that counts requests, times
them, gives each a request id and writes one JSON log line per request (route template, never
the query string: callbacks carry codes)."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

__all__ = ["Metrics", "RequestMiddleware"]

access = logging.getLogger("gtoken.broker.access")


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "gtoken_broker_requests",
            "HTTP requests by route and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "gtoken_broker_request_seconds",
            "HTTP request latency by route",
            ["route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
            registry=self.registry,
        )
        self.events = Counter(
            "gtoken_broker_events",
            "Vault events seen by this process (refresh outcomes and causes among them)",
            ["event"],
            registry=self.registry,
        )
        self.refreshes = Counter(
            "gtoken_broker_worker_refreshes",
            "Refreshes of connections falling due, by outcome",
            ["outcome"],
            registry=self.registry,
        )
        self.webhooks = Counter(
            "gtoken_broker_webhook_attempts",
            "Webhook delivery attempts by outcome",
            ["outcome"],
            registry=self.registry,
        )
        self.tokens = Counter(
            "gtoken_broker_tokens", "Access tokens handed out", registry=self.registry
        )
        self.up = Gauge("gtoken_broker_up", "1 while serving", registry=self.registry)
        self.up.set(1)

    def watch(self, read: Callable[[], tuple[dict[str, int], int]]) -> None:
        """Gauges read at scrape time: connections by status, the webhook backlog."""
        self.registry.register(_Database(read))


class _Database(Collector):
    def __init__(self, read: Callable[[], tuple[dict[str, int], int]]) -> None:
        self._read = read

    def collect(self) -> Any:
        by_status, backlog = self._read()
        connections = GaugeMetricFamily(
            "gtoken_broker_connections", "Connections by status", labels=["status"]
        )
        for status, count in sorted(by_status.items()):
            connections.add_metric([status], count)
        yield connections
        yield GaugeMetricFamily(
            "gtoken_broker_webhook_backlog", "Webhook messages not yet delivered", value=backlog
        )


class RequestMiddleware:
    def __init__(self, app: Any, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        given = dict(scope.get("headers") or ()).get(b"x-request-id", b"")
        request_id = given.decode("latin-1")[:64] if given.isascii() and given else ""
        request_id = request_id or secrets.token_hex(8)
        status = 500

        async def sending(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode("latin-1")),
                ]
            await send(message)

        scope.setdefault("state", {})["request_id"] = request_id
        try:
            await self.app(scope, receive, sending)
        finally:
            # The route's template (never the path itself: ids and tokens are in paths); the
            # endpoint's name for routes outside the API (openapi.json).
            route = scope.get("route")
            endpoint = getattr(scope.get("endpoint"), "__name__", None)
            name = getattr(route, "path", None) or endpoint or "unmatched"
            elapsed = time.perf_counter() - started
            self.metrics.requests.labels(scope["method"], name, str(status)).inc()
            self.metrics.latency.labels(name).observe(elapsed)
            if access.isEnabledFor(logging.INFO):
                client = scope.get("client")
                access.info(
                    "%s %s %s",
                    scope["method"],
                    name,
                    status,
                    extra={
                        "request_id": request_id,
                        "method": scope["method"],
                        "route": name,
                        "status": status,
                        "ms": round(elapsed * 1000, 2),
                        "caller": client[0] if client else None,
                    },
                )
