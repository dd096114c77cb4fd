"""The refresh engine: one refresh per expiry, whatever store holds the grants."""

from __future__ import annotations

from gtoken.refresh.engine import (
    DEFAULT_MIN_TTL,
    FLIGHTS,
    Flights,
    ProcessLocks,
    Refresher,
    label,
    token_of,
    unix_seconds,
    usable,
)

__all__ = [
    "DEFAULT_MIN_TTL",
    "FLIGHTS",
    "Flights",
    "ProcessLocks",
    "Refresher",
    "label",
    "token_of",
    "unix_seconds",
    "usable",
]
