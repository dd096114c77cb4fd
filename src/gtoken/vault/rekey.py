"""Re-sealing a vault with its newest key, while the application serves.

Row by row, each in a short transaction that writes only if the row's sealed values are still the
ones read: a row written meanwhile (sealed by the writer with a key of its own) is left to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gtoken.store.crypto import sealed_key_id
from gtoken.vault.records import SECRET_FIELDS
from gtoken.vault.storage import CLIENTS, CONNECTIONS, STATES, Storage

__all__ = ["key_ids_in_use", "rekey"]


def rekey(storage: Storage, *, batch: int = 200) -> int:
    """Re-seal, with the keyring's current key, every value sealed with another key. Row by
    row in short transactions, so the application goes on serving; a row written meanwhile
    (already sealed with a key of the writer's) is left to the writer. Returns the number of
    rows re-sealed."""
    count = 0
    current = storage.keyring.current
    for table, key, fields in (
        (CONNECTIONS, "id", SECRET_FIELDS),
        (CLIENTS, "client_id", ("client_secret",)),
        (STATES, "state_hash", ("verifier",)),
    ):
        after = ""
        while True:
            with storage.db.read() as sql:
                rows = sql.all(
                    f"SELECT {key}, {', '.join(fields)} FROM {table} "  # noqa: S608
                    f"WHERE {key} > ? ORDER BY {key} LIMIT ?",
                    (after, batch),
                )
            if not rows:
                break
            after = rows[-1][0]
            for row_id, *sealed in rows:
                if all(v is None or sealed_key_id(v) == current for v in sealed):
                    continue
                count += _reseal(storage, table, key, row_id, fields, sealed)
    return count


def _reseal(
    storage: Storage,
    table: str,
    key: str,
    row_id: str,
    fields: Sequence[str],
    sealed: Sequence[Any],
) -> int:
    who = f"row {row_id} of {table}"
    fresh = [
        storage.seal_value(table, row_id, f, storage.open_value(table, row_id, f, v, who))
        for f, v in zip(fields, sealed, strict=True)
    ]
    same = " AND ".join(
        f"{f} IS NULL" if v is None else f"{f} = ?" for f, v in zip(fields, sealed, strict=True)
    )
    with storage.db.transaction() as sql:
        return sql.run(
            f"UPDATE {table} SET {', '.join(f'{f} = ?' for f in fields)} "  # noqa: S608
            f"WHERE {key} = ? AND {same}",
            [*fresh, row_id, *(v for v in sealed if v is not None)],
        )


def key_ids_in_use(storage: Storage) -> set[str]:
    """The ids of the keys that stored values are sealed with."""
    found: set[str] = set()
    for table, fields in (
        (CONNECTIONS, SECRET_FIELDS),
        (CLIENTS, ("client_secret",)),
        (STATES, ("verifier",)),
    ):
        for field in fields:
            with storage.db.read() as sql:
                rows = sql.all(
                    f"SELECT DISTINCT substr({field}, 4, 8) FROM {table} "  # noqa: S608
                    f"WHERE {field} IS NOT NULL"
                )
            found.update(str(r[0]) for r in rows)
    return found
