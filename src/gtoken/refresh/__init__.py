"""The refresh engine: one renewal per expiry, whatever store holds the grants.

:class:`Engine` holds the rules; a store plugs in by implementing :class:`GrantStore`, and brings
a :class:`CrossProcessLock` over the processes that share it (:class:`FileLocks` on one
machine). See :mod:`gtoken.refresh.engine` for the rules and where each is written.
"""

from __future__ import annotations

from gtoken.refresh.engine import (
    DEFAULT_MIN_TTL,
    Engine,
    Grant,
    GrantStatus,
    GrantStore,
    Renew,
    consent_reason,
    keep_refresh_token,
    refresh_answer,
    usable,
)
from gtoken.refresh.flights import FLIGHTS, Flights
from gtoken.refresh.locks import CrossProcessLock, FileLocks, WaitingLock

__all__ = [
    "DEFAULT_MIN_TTL",
    "FLIGHTS",
    "CrossProcessLock",
    "Engine",
    "FileLocks",
    "Flights",
    "Grant",
    "GrantStatus",
    "GrantStore",
    "Renew",
    "WaitingLock",
    "consent_reason",
    "keep_refresh_token",
    "refresh_answer",
    "usable",
]
