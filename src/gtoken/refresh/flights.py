"""Single flight in one process: at most one call per key at a time, whose result every caller
that arrives meanwhile shares."""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Callable
from typing import TypeVar

__all__ = ["FLIGHTS", "Flights"]

T = TypeVar("T")


class Flights:
    """At most one call per key at a time in this process; callers that arrive meanwhile share
    its result (or its exception)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: dict[str, concurrent.futures.Future[object]] = {}

    def run(self, key: str, fn: Callable[[], T]) -> T:
        with self._lock:
            call = self._calls.get(key)
            leader = call is None
            if call is None:
                call = self._calls[key] = concurrent.futures.Future()
        if not leader:
            return call.result()  # type: ignore[return-value]
        try:
            result = fn()
        except BaseException as exc:
            call.set_exception(exc)
            raise
        else:
            call.set_result(result)
            return result
        finally:
            with self._lock:
                del self._calls[key]


#: One per process: threads share a refresh whichever engine they go through.
FLIGHTS = Flights()
