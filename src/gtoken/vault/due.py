"""Keeping grants alive: refreshing the connections that fall due, from cron or a worker.

Each run claims connections a few at a time, up to ``limit`` in all (a lease of
:data:`CLAIM_SECONDS` in the row, taken with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, under
SQLite's write lock otherwise), so runners in every replica share the work instead of repeating
it; and refreshes each claim through the refresh engine, ``concurrency`` at a time. A
connection whose refresh token was last used ``idle`` ago is refreshed even if nobody asked for
it: Google drops refresh tokens unused for six months.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from gtoken.errors import ConsentRequired, GTokenError
from gtoken.refresh import Grant
from gtoken.vault.records import StoredConnection
from gtoken.vault.storage import Storage

__all__ = ["CLAIM_SECONDS", "DueReport", "refresh_due"]

#: How long a runner holds its claim on a connection before another runner may take it.
CLAIM_SECONDS: Final = 300
#: Connections claimed at a time, per thread of a runner.
BATCH_PER_WORKER: Final = 8


@dataclass(frozen=True)
class DueReport:
    """What a :meth:`gtoken.Vault.refresh_due` run did."""

    claimed: int = 0
    refreshed: int = 0
    needs_consent: int = 0
    failed: int = 0


Fresh = Callable[..., Grant]


def refresh_due(
    storage: Storage,
    fresh: Fresh,
    *,
    within: float,
    limit: int,
    idle_seconds: float,
    concurrency: int,
) -> DueReport:
    if within < 0 or limit < 1 or concurrency < 1 or idle_seconds <= 0:
        raise ValueError("within >= 0, limit >= 1, concurrency >= 1 and idle > 0, please")
    outcomes = {"refreshed": 0, "needs_consent": 0, "failed": 0}
    claimed = 0
    now = storage.now()

    def one(key: tuple[str, str]) -> str:
        try:
            conn = storage.get(*key, secrets_wanted=("access_token",))
            if conn is None:
                return "failed"
            fresh(conn, min_ttl=within, rejected=_stale(conn, now - idle_seconds))
            return "refreshed"
        except ConsentRequired:
            return "needs_consent"
        except GTokenError:
            return "failed"
        finally:
            storage.release(*key)

    with concurrent.futures.ThreadPoolExecutor(concurrency, "gtoken-due") as pool:
        # Small claims, one after the other, so that runners in other replicas share the work.
        while claimed < limit:
            now = storage.now()
            batch = storage.claim_due(
                expiring_before=now + int(within),
                refreshed_before=now - int(idle_seconds),
                limit=min(limit - claimed, concurrency * BATCH_PER_WORKER),
                lease=CLAIM_SECONDS,
            )
            if not batch:
                break
            claimed += len(batch)
            for outcome in pool.map(one, batch):
                outcomes[outcome] += 1
    return DueReport(claimed=claimed, **outcomes)


def _stale(conn: StoredConnection, idle_before: float) -> str | None:
    """An idle connection's access token counts as rejected, so that it is refreshed (and the
    refresh token used) even if the token is still valid."""
    if conn.refreshed_at is None or conn.refreshed_at < idle_before:
        return conn.access_token
    return None
