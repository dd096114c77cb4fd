"""Leases: named locks in the store's ``leases`` table that outlive no crash by more than their
time to live. Callers run these inside the store's write transaction."""

from __future__ import annotations

import sqlite3

__all__ = ["acquire", "release"]


def acquire(conn: sqlite3.Connection, name: str, *, owner: str, ttl: float, now: float) -> bool:
    """Hold ``name`` for ``owner`` until ``now + ttl``; True if it was free, expired, or already
    ``owner``'s (then it is extended)."""
    held = conn.execute("SELECT owner, expires_at FROM leases WHERE name = ?", (name,)).fetchone()
    if held is not None and held[0] != owner and held[1] > now:
        return False
    conn.execute(
        "INSERT OR REPLACE INTO leases (name, owner, expires_at) VALUES (?, ?, ?)",
        (name, owner, now + ttl),
    )
    return True


def release(conn: sqlite3.Connection, name: str, *, owner: str) -> bool:
    """Give up ``name`` if ``owner`` holds it; True if it did."""
    cursor = conn.execute("DELETE FROM leases WHERE name = ? AND owner = ?", (name, owner))
    return cursor.rowcount > 0
