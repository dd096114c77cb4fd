"""What a gtoken home holds and how, in the standard library only.

Read by the store, the accounts layer and the fast path of ``gtoken token``
(:mod:`gtoken.cli.cached`), which answers from the files without importing the store, so that
they cannot drift apart.
"""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["from_unix_seconds", "unix_seconds"]


def unix_seconds(moment: datetime | None) -> int | None:
    """``moment`` as the store keeps times: whole seconds since the epoch."""
    return None if moment is None else int(moment.timestamp())


def from_unix_seconds(seconds: int | float | None) -> datetime | None:
    """A time as the store keeps it, as an aware UTC datetime."""
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)
