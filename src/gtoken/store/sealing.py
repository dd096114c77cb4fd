"""Which key seals a store's values, kept right while other processes rotate it (DESIGN
invariant 9).

The store records the key every value is sealed with: a key-value entry sealed with that key, whose
key id is read from its prefix without opening it. Every write reads that record under the
store's write lock and seals with that key, reading the keyring again when another process has
rotated to a key this one lacks; a rotation changes the record under the same lock, in the
transaction that re-seals every value. So a key the keyring no longer holds is never used to seal,
and when even the keyring read again lacks the store's key (a ``GTOKEN_KEY`` that was rotated
away), the write is refused with :class:`~gtoken.errors.WrongKey` and nothing is written. Reads
that meet a value sealed with a key this process lacks read the keyring again once.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from gtoken.errors import WrongKey
from gtoken.store.crypto import Keyring, seal
from gtoken.store.format import ENV_KEY, KEY_FILE
from gtoken.store.records import SECRET_FIELDS

__all__ = ["SEALING_KEY", "SealingKeys", "key_ids_in_use"]

T = TypeVar("T")

#: The kv entry whose sealed value's key id names the key every write seals with.
SEALING_KEY = ("gtoken.store", "sealing key")

# SQL built from the column names only, never from input.
_SEALED_VALUES = " UNION ".join(
    [f"SELECT substr({c}, 1, 11) AS p FROM accounts" for c in SECRET_FIELDS]  # noqa: S608
    + ["SELECT substr(value, 1, 11) AS p FROM kv"]
)
_KEY_IDS = f"SELECT DISTINCT p FROM ({_SEALED_VALUES}) WHERE p IS NOT NULL"  # noqa: S608
_KEY_ID_PREFIX = re.compile(r"v1:([0-9a-f]{8})")
_KEY_ID = re.compile(r"[0-9a-f]{8}")


def key_ids_in_use(conn: sqlite3.Connection) -> set[str]:
    """The ids of the keys that stored values are sealed with (read from the values' prefix)."""
    prefixes = (p for (p,) in conn.execute(_KEY_IDS).fetchall() if isinstance(p, str))
    return {m.group(1) for m in map(_KEY_ID_PREFIX.fullmatch, prefixes) if m}


def recorded_key_id(conn: sqlite3.Connection) -> str | None:
    """The id of the key the store records as the one its values are sealed with, or None."""
    row = conn.execute(
        "SELECT substr(value, 4, 8) FROM kv WHERE namespace = ? AND key = ?", SEALING_KEY
    ).fetchone()
    kid = None if row is None else row[0]
    return kid if isinstance(kid, str) and _KEY_ID.fullmatch(kid) else None


class SealingKeys:
    """The keyring of one store in this process, and how to read it again."""

    def __init__(self, ring: Keyring, path: Path, reload: Callable[[], Keyring] | None) -> None:
        self.ring = ring
        self.path = path
        self._reload = reload

    def for_writing(self, conn: sqlite3.Connection, now: int) -> Keyring:
        """The keyring to seal with, ``conn`` holding the write lock: the one whose current key
        is the store's recorded key."""
        kid = recorded_key_id(conn)
        if kid is None:  # a new store, one no write has marked yet, or a damaged record
            self.mark(conn, self.ring, now)
            return self.ring
        if kid not in self.ring:
            self.reload()
        if kid not in self.ring:
            raise WrongKey(
                f"the store {self.path} is now encrypted with key id {kid}: its key was rotated "
                f"since this program read its keys, and the keyring ({self.ring.source}; key "
                f"ids {', '.join(self.ring.ids)}) does not hold the new key. Nothing was "
                f"written. Restart the program with the key whose id is {kid} (set {ENV_KEY} to "
                "it, if that is where the key comes from)",
                key_id=kid,
            )
        self.ring = self.ring.sealing_with(kid)
        return self.ring

    def mark(self, conn: sqlite3.Connection, ring: Keyring, now: int) -> None:
        """Record ``ring``'s current key as the one the store's values are sealed with."""
        namespace, key = SEALING_KEY
        sealed = seal(ring, ring.current, table="kv", row=namespace, field=key)
        conn.execute(
            "INSERT OR REPLACE INTO kv (namespace, key, value, expires_at, updated_at)"
            " VALUES (?, ?, ?, NULL, ?)",
            (namespace, key, sealed, now),
        )

    def reload(self) -> bool:
        """Read the keyring again (another process may have rotated the key); True if that was
        possible. Keys already held stay, for values not yet re-sealed."""
        if self._reload is None:
            return False
        self.ring = self._reload().merged(self.ring)
        return True

    def reading(self, read: Callable[[Keyring], T]) -> T:
        """``read(keyring)``, once more with the keyring read again if it met a key it lacks."""
        try:
            return read(self.ring)
        except WrongKey:
            if not self.reload():
                raise
            return read(self.ring)

    def check(self, conn: sqlite3.Connection) -> None:
        """Raise :class:`WrongKey`, naming the key it needs, when the store's values are sealed
        with a key the keyring (read again if need be) lacks."""
        if recorded_key_id(conn) in self.ring:
            # Every value is sealed with the recorded key (writes use it, a rotation re-seals
            # all): opening a store of thousands need not read them all.
            return
        missing = sorted(key_ids_in_use(conn) - set(self.ring))
        if missing and self.reload():
            missing = sorted(key_ids_in_use(conn) - set(self.ring))
        if not missing:
            return
        needed = ", ".join(missing)
        if self.ring.source == ENV_KEY:
            how = (
                f"{ENV_KEY} is set, so the key file ({KEY_FILE} in GTOKEN_HOME) is not read: set "
                f"{ENV_KEY} to the key with id {needed}, or unset it if {KEY_FILE} holds that key"
            )
        else:
            how = (
                f"set {ENV_KEY} to the key with id {needed}, or restore the {KEY_FILE} that holds "
                "it"
            )
        raise WrongKey(
            f"the store {self.path} is encrypted with key id {needed}, which the keyring "
            f"({self.ring.source}; key ids {', '.join(self.ring.ids)}) does not hold. "
            f"Nothing was changed. To fix it, {how}",
            key_id=missing[0],
        )
