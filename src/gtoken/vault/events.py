"""Status changes of connections, for the application to react to (mail a user, notify a
service, count). Callbacks run in the process that made the change, after it is stored; one that
raises is logged and does not undo or stop anything."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal, get_args

__all__ = ["EVENTS", "Event", "EventKind", "Hooks"]

log = logging.getLogger("gtoken.vault")

#: connected: a user connected for the first time. needs_consent: Google refused the grant (or
#: sent no refresh token); ``reason`` says why. revoked: revoked at Google and forgotten.
#: refresh_failed: a refresh failed for a passing reason; nothing changed. recovered: a user who
#: needed consent gave it again.
EventKind = Literal["connected", "needs_consent", "revoked", "refresh_failed", "recovered"]
EVENTS: Final = get_args(EventKind)


@dataclass(frozen=True)
class Event:
    kind: EventKind
    user_id: str
    client_id: str
    reason: str | None = None


class Hooks:
    """Callbacks by event kind."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._callbacks: list[tuple[frozenset[str], Callable[[Event], object]]] = []

    def add(self, callback: Callable[[Event], object], kinds: frozenset[str]) -> None:
        unknown = kinds - set(EVENTS)
        if unknown:
            raise ValueError(f"unknown events {sorted(unknown)}; the events are {list(EVENTS)}")
        with self._lock:
            self._callbacks.append((kinds, callback))

    def emit(self, event: Event) -> None:
        with self._lock:
            callbacks = [cb for kinds, cb in self._callbacks if event.kind in kinds]
        for callback in callbacks:
            try:
                callback(event)
            except Exception:
                log.exception("a vault event callback failed on %s", event.kind)
