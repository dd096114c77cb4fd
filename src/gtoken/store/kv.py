"""Small sealed entries in the store's ``kv`` table, by ``(namespace, key)``, each with an
optional expiry: what a store keeps besides accounts (cached service-account tokens, the record
of the key values are sealed with). Values are sealed for ``("kv", namespace, key)``."""

from __future__ import annotations

import sqlite3
from typing import Any

from gtoken.store.crypto import Keyring, open_sealed, seal
from gtoken.store.errors import CorruptRecord
from gtoken.store.sealing import SealingKeys

__all__ = ["delete", "put", "row", "value"]

Row = tuple[Any, ...]


def put(
    conn: sqlite3.Connection,
    ring: Keyring,
    namespace: str,
    key: str,
    value: str,
    *,
    expires_at: float | None,
    now: int,
) -> None:
    """Seal ``value`` with ``ring`` and store it under ``(namespace, key)``, replacing any."""
    sealed = seal(ring, value, table="kv", row=namespace, field=key)
    conn.execute(
        "INSERT OR REPLACE INTO kv (namespace, key, value, expires_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (namespace, key, sealed, expires_at, now),
    )


def row(conn: sqlite3.Connection, namespace: str, key: str) -> Row | None:
    """The stored ``(sealed value, expires_at)`` under ``(namespace, key)``, or None."""
    found: Row | None = conn.execute(
        "SELECT value, expires_at FROM kv WHERE namespace = ? AND key = ?", (namespace, key)
    ).fetchone()
    return found


def delete(conn: sqlite3.Connection, namespace: str, key: str) -> bool:
    """Remove the entry under ``(namespace, key)``; True if there was one."""
    cursor = conn.execute("DELETE FROM kv WHERE namespace = ? AND key = ?", (namespace, key))
    return cursor.rowcount > 0


def value(
    keys: SealingKeys, namespace: str, key: str, found: Row | None, *, now: float
) -> str | None:
    """The opened value of ``found`` (a :func:`row`), or None if absent or expired at ``now``.
    Raises :class:`CorruptRecord` for a damaged expiry or value."""
    if found is None:
        return None
    sealed, expires_at = found
    if expires_at is not None and not isinstance(expires_at, int | float):
        raise CorruptRecord(
            f"the stored entry {key!r} in {namespace!r} has a damaged expiry; delete it",
            table="kv",
            row=namespace,
            field=key,
        )
    if expires_at is not None and expires_at <= now:
        return None
    return keys.reading(
        lambda ring: open_sealed(ring, sealed, table="kv", row=namespace, field=key)
    )
