"""The embedded token store: one SQLite file in the gtoken home.

Safe to share between threads (each thread gets its own connection) and between processes on one
machine: the file is in WAL mode, every write runs in ``BEGIN IMMEDIATE``, which takes SQLite's
single write lock, and waits up to ``busy_timeout`` seconds for it. :meth:`SqliteStore.transaction`
hands that lock to the caller for read-modify-write sequences. It locks the whole file, not one
account: for work that waits on the network, take a lease (:meth:`SqliteStore.acquire_lease`)
instead and keep transactions short. A refresh, for example: acquire the lease
``refresh:<account id>`` with an owner unique to the attempt (poll while another holds it),
read the account again, call Google only if its token is still expiring, store the result with
:meth:`~SqliteStore.update_tokens`, release the lease.

Key rotation while other processes hold the store open (DESIGN invariant 9): every write seals
with the key the store records, read under the write lock (:mod:`gtoken.store.sealing`), so a
key the keyring no longer holds is never used to seal.

Limits: one machine (SQLite's locks do not work over network filesystems; use PostgreSQL for
replicas), one writer at a time for the whole file.

Reading never writes. A row that fails to decrypt or parse raises
:class:`~gtoken.store.errors.CorruptRecord` and is left as it is; a store sealed with keys the
keyring lacks raises :class:`~gtoken.store.errors.WrongKey` when opened, before anything is written.
"""

from __future__ import annotations

import builtins
import contextlib
import functools
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

from gtoken.errors import WrongKey
from gtoken.store import schema
from gtoken.store.connections import Connections, check_not_empty, create_private_db
from gtoken.store.crypto import Keyring, open_sealed, seal
from gtoken.store.errors import CorruptRecord, NotFound, ReadOnlyStore, VersionConflict
from gtoken.store.format import (
    ACCOUNT_ORDER,
    DEFAULTS_WHERE,
    NAMED_WHERE,
    STORE_FILE,
    STORE_SIDE_FILES,
)
from gtoken.store.keys import load_keyring
from gtoken.store.paths import check_private_file, ensure_private_dir, gtoken_home
from gtoken.store.records import (
    KEEP,
    SECRET_FIELDS,
    STATUSES,
    AccountHead,
    AccountRecord,
    DamagedAccount,
    Keep,
    Status,
)
from gtoken.store.rows import COLUMNS, decode_account, encode_account, seal_field
from gtoken.store.sealing import SEALING_KEY, SealingKeys, key_ids_in_use

__all__ = ["STORE_FILE", "SqliteStore", "open_store"]

# SQL is only ever built from the column names above, never from input.
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM accounts"  # noqa: S608
_HEADS = "SELECT id, client_id, email, is_default, updated_at FROM accounts"
_UPSERT_SET = ", ".join(f"{c} = excluded.{c}" for c in COLUMNS[1:])
_UPSERT = (
    f"INSERT INTO accounts ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"  # noqa: S608
    f" ON CONFLICT (id) DO UPDATE SET {_UPSERT_SET}"
)


def open_store(env: Mapping[str, str] = os.environ, *, home: Path | None = None) -> SqliteStore:
    """The default store: ``store.sqlite3`` in the gtoken home (created 0700 if missing), with the
    keyring from :func:`~gtoken.store.keys.load_keyring`. A new key file is only made for a new
    store: a store whose key file is gone is an error, not a fresh start."""
    home = gtoken_home(env) if home is None else home
    ensure_private_dir(home)
    path = home / STORE_FILE
    keyring = load_keyring(home, env, create=not path.exists())
    return SqliteStore(path, keyring, keys=functools.partial(load_keyring, home, env, create=False))


class SqliteStore:
    """Accounts (with sealed tokens), small sealed key-value entries, and leases, in one file."""

    def __init__(
        self,
        path: Path | str,
        keyring: Keyring,
        *,
        busy_timeout: float = 30.0,
        clock: Callable[[], float] = time.time,
        check_keys: bool = True,
        keys: Callable[[], Keyring] | None = None,
    ) -> None:
        """Open (creating, mode 0600) and migrate the store at ``path``.

        ``check_keys=False`` opens a store even if its values were sealed with keys the keyring
        lacks, so that accounts can still be listed by id or deleted. ``keys`` reads the keyring
        again (after another process rotated the key); without it, ``keyring`` is all there is."""
        self.path = Path(path)
        self._keys = SealingKeys(keyring, self.path, keys)
        self._clock = clock
        create_private_db(self.path, lambda conn: schema.migrate(conn, self.path))
        check_not_empty(self.path)
        for suffix in ("", *STORE_SIDE_FILES):
            with contextlib.suppress(FileNotFoundError):
                check_private_file(Path(f"{self.path}{suffix}"))
        self._db = Connections(self.path, busy_timeout=busy_timeout)
        try:
            self._open(check_keys=check_keys)
        except BaseException:
            self.close()
            raise

    def _open(self, *, check_keys: bool) -> None:
        conn = self._conn()
        if schema.schema_version(conn, self.path) and check_keys:
            # Before the journal mode or the schema is touched. (When a migration changes the
            # sealed columns, check with the columns of the file's own version.)
            self._keys.check(conn)
        self._db.use_wal()
        if self._db.read_only and schema.schema_version(conn, self.path) != schema.SCHEMA_VERSION:
            raise ReadOnlyStore(
                f"the store {self.path} was written by an older gtoken and must be brought up to "
                f"date before this one can read it, but it is read-only here ({self.path.parent} "
                "cannot be written)"
            )
        schema.migrate(conn, self.path)

    @property
    def read_only(self) -> bool:
        """Whether the store could only be opened for reading (a read-only home): reading
        works, every write raises :class:`ReadOnlyStore`."""
        self._conn()  # the first connection of this thread finds out
        return self._db.read_only

    @property
    def keyring(self) -> Keyring:
        return self._keys.ring

    def close(self) -> None:
        """Close every connection this store opened. Using it afterwards is an error."""
        self._db.close()

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SqliteStore({str(self.path)!r}, keyring={self._keys.ring!r})"

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Hold the store's write lock (``BEGIN IMMEDIATE``) for the block: no other thread or
        process writes until it ends. Commits on success, rolls back on an exception. Nested
        blocks in the same thread are savepoints inside the outer transaction."""
        with self._db.transaction():
            yield

    # -- accounts -----------------------------------------------------------------------------

    def get(self, id: str) -> AccountRecord | None:
        """The account ``id``, or None."""
        row = self._conn().execute(f"{_SELECT} WHERE id = ?", (id,)).fetchone()
        return None if row is None else self._decode(row)

    def get_default(self, client_id: str) -> AccountRecord | None:
        """The default account of ``client_id``, or None."""
        sql = f"{_SELECT} WHERE client_id = ? AND is_default = 1"
        row = self._conn().execute(sql, (client_id,)).fetchone()
        return None if row is None else self._decode(row)

    def list(self, *, client_id: str | None = None) -> builtins.list[AccountRecord]:
        """Every account (of ``client_id``, if given), by client, email and id. Raises
        :class:`CorruptRecord` if any of them is damaged (:meth:`survey` lists those too)."""
        return [self._decode(row) for row in self._rows(client_id)]

    def survey(
        self, *, client_id: str | None = None
    ) -> builtins.list[AccountRecord | DamagedAccount]:
        """Every account (of ``client_id``, if given), by client, email and id; the damaged ones
        as :class:`DamagedAccount`, saying what is wrong with each."""
        return [self._entry(row) for row in self._rows(client_id)]

    def entry(self, id: str) -> AccountRecord | DamagedAccount | None:
        """The account ``id`` (a :class:`DamagedAccount` if it does not open), or None."""
        row = self._conn().execute(f"{_SELECT} WHERE id = ?", (id,)).fetchone()
        return None if row is None else self._entry(row)

    def heads(
        self,
        *,
        client_id: str | None = None,
        name: str | None = None,
        default: bool = False,
        limit: int | None = None,
    ) -> builtins.list[AccountHead]:
        """The accounts that fit, by client, email and id, without opening any sealed value:
        of ``client_id``; called ``name`` (its id, or its email whatever its case); only
        default accounts; at most ``limit``. Rows whose naming columns are damaged are left out
        (:meth:`survey` shows them)."""
        where: builtins.list[str] = []
        params: builtins.list[object] = []
        if name is not None:
            # Through the id's and the e-mail's indexes; the few rows a name fits are then
            # sorted out by client (a client condition here would make SQLite scan the client).
            where.append(NAMED_WHERE)
            params += [name, name]
        elif client_id is not None:
            where.append("client_id = ?")
            params.append(client_id)
        if default:
            where.append(DEFAULTS_WHERE)
        sql = _HEADS + (f" WHERE {' AND '.join(where)}" if where else "")
        sql += f" ORDER BY {ACCOUNT_ORDER}"
        by_name_of_client = name is not None and client_id is not None
        if limit is not None and not by_name_of_client:
            sql += f" LIMIT {int(limit)}"
        rows = self._conn().execute(sql, params).fetchall()
        heads = [head for head in map(_head, rows) if head is not None]
        if by_name_of_client:
            heads = [head for head in heads if head.client_id == client_id][:limit]
        return heads

    def _rows(self, client_id: str | None) -> builtins.list[Any]:
        where, params = ("WHERE client_id = ?", (client_id,)) if client_id else ("", ())
        rows = self._conn().execute(f"{_SELECT} {where} ORDER BY {ACCOUNT_ORDER}", params)
        return rows.fetchall()

    def _entry(self, row: Any) -> AccountRecord | DamagedAccount:
        try:
            return self._decode(row)
        except CorruptRecord as exc:
            raw = dict(zip(COLUMNS, row, strict=True))
            return DamagedAccount(
                id=str(raw["id"]),
                client_id=raw["client_id"] if isinstance(raw["client_id"], str) else None,
                email=raw["email"] if isinstance(raw["email"], str) else None,
                is_default=raw["is_default"] == 1,
                problem=exc.message,
            )

    def put(self, record: AccountRecord, *, expected_version: int | None = None) -> AccountRecord:
        """Insert or replace the account ``record.id``; returns it as stored.

        No write erases a stored refresh token: a record without one keeps the one already stored
        (:meth:`delete` is the way to forget it). ``is_default=True`` takes
        the default from the client's other accounts. ``expected_version`` (0: "must not exist")
        makes the write conditional."""
        with self.transaction():
            conn = self._conn()
            old = conn.execute(
                "SELECT version, created_at, refresh_token FROM accounts WHERE id = ?", (record.id,)
            ).fetchone()
            old_version = old[0] if old is not None and type(old[0]) is int else 0
            self._expect(record.id, expected_version, old_version if old is not None else 0)
            now = self._now()
            values = encode_account(record, self._keys.for_writing(conn, now))
            if not record.refresh_token and old is not None and self._opens(record.id, old[2]):
                values["refresh_token"] = old[2]
            if old is not None and type(old[1]) is int:
                values["created_at"] = old[1]
            elif not record.created_at:
                values["created_at"] = now
            values.update(updated_at=now, version=old_version + 1)
            if record.is_default:
                self._clear_default(conn, record.client_id, record.id, now)
            # An upsert, not INSERT OR REPLACE, which would delete any row in the way of a
            # unique index instead of failing.
            conn.execute(_UPSERT, [values[name] for name in COLUMNS])
            return self._require(conn, record.id)

    def update_tokens(
        self,
        id: str,
        *,
        access_token: str,
        expires_at: int | None,
        refresh_token: str | Keep | None = KEEP,
        refresh_token_expires_at: int | Keep | None = KEEP,
        id_token: str | Keep | None = KEEP,
        scopes: Iterable[str] | Keep = KEEP,
        expected_version: int | None = None,
    ) -> AccountRecord:
        """Store the result of a refresh; returns the updated account.

        Which refresh token a grant keeps after Google's answer is the refresh engine's decision
        (:func:`gtoken.refresh.keep_refresh_token`); the store only guarantees that no write
        erases one: ``KEEP``, ``None`` and ``""`` all leave the stored one in place, and
        :meth:`delete` is the way to forget it. ``id_token`` and ``refresh_token_expires_at``:
        ``KEEP`` leaves them, ``None`` clears them. Raises :class:`NotFound`, and
        :class:`VersionConflict` when ``expected_version`` is given and differs."""
        if not isinstance(access_token, str) or not access_token:
            raise ValueError("access_token must be a non-empty string")
        changes: dict[str, object] = {"access_token": access_token, "expires_at": expires_at}
        if isinstance(refresh_token, str) and refresh_token:
            changes["refresh_token"] = refresh_token
        if refresh_token_expires_at is not KEEP:
            changes["refresh_token_expires_at"] = refresh_token_expires_at
        if id_token is not KEEP:
            changes["id_token"] = id_token
        if scopes is not KEEP:
            changes["scopes"] = tuple(scopes)
        return self._update(id, changes, expected_version)

    def set_status(
        self,
        id: str,
        status: Status,
        reason: str | None = None,
        *,
        expected_version: int | None = None,
    ) -> AccountRecord:
        """Mark the account ``active``, ``needs_consent`` or ``revoked``, with a reason for people.
        Its tokens are left as they are."""
        if status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
        return self._update(id, {"status": status, "status_reason": reason}, expected_version)

    def set_default(self, id: str, *, every_client: bool = False) -> AccountRecord:
        """Make ``id`` its client's default account (and no other); with ``every_client``, the
        one default account of all clients. Opens no other account."""
        with self.transaction():
            conn = self._conn()
            current = self._require(conn, id)
            self._clear_default(conn, None if every_client else current.client_id, id, self._now())
            return self._update(id, {"is_default": True}, None)

    def delete(self, id: str) -> bool:
        """Forget the account ``id``, tokens and all (even a damaged row). True if it existed."""
        with self.transaction():
            cursor = self._conn().execute("DELETE FROM accounts WHERE id = ?", (id,))
            return cursor.rowcount > 0

    def _update(
        self, id: str, changes: dict[str, object], expected_version: int | None
    ) -> AccountRecord:
        with self.transaction():
            conn = self._conn()
            current = self._require(conn, id)
            self._expect(id, expected_version, current.version)
            updated = replace(
                current,
                **cast("dict[str, Any]", changes),
                updated_at=self._now(),
                version=current.version + 1,
            )
            columns = [*changes, "updated_at", "version"]
            stored = encode_account(updated, self._keys.for_writing(conn, self._now()))
            conn.execute(_update_sql(columns), [*(stored[c] for c in columns), id])
            return updated

    def _require(self, conn: sqlite3.Connection, id: str) -> AccountRecord:
        row = conn.execute(f"{_SELECT} WHERE id = ?", (id,)).fetchone()
        if row is None:
            raise NotFound(f"no account with id {id!r} in {self.path}")
        return self._decode(row)

    def _expect(self, id: str, expected: int | None, actual: int) -> None:
        if expected is not None and expected != actual:
            raise VersionConflict(
                f"account {id!r} is at version {actual}, not {expected}: it changed since it was "
                "read; read it again and retry",
                expected=expected,
                actual=actual,
            )

    def _clear_default(
        self, conn: sqlite3.Connection, client_id: str | None, keep: str, now: int
    ) -> None:
        # Both forms find the defaults through the partial index on is_default = 1.
        sql = "UPDATE accounts SET is_default = 0, updated_at = ?, version = version + 1"
        if client_id is None:
            conn.execute(f"{sql} WHERE is_default = 1 AND id != ?", (now, keep))
        else:
            conn.execute(
                f"{sql} WHERE client_id = ? AND is_default = 1 AND id != ?", (now, client_id, keep)
            )

    def _opens(self, id: str, sealed: object) -> bool:
        """Whether a stored refresh token is worth keeping: it opens, or was sealed with a key
        this keyring lacks (then it is kept as it is, for the keyring that has it)."""
        if not isinstance(sealed, str):
            return False
        try:
            self._keys.reading(
                lambda ring: open_sealed(
                    ring, sealed, table="accounts", row=id, field="refresh_token"
                )
            )
        except CorruptRecord:
            return False
        except WrongKey:
            return True
        return True

    # -- keys ---------------------------------------------------------------------------------

    def key_ids_in_use(self) -> set[str]:
        """The ids of the keys that stored values are sealed with (read from the values' prefix)."""
        return key_ids_in_use(self._conn())

    def rotate_key(self, new_keyring: Keyring) -> int:
        """Re-seal every stored secret with ``new_keyring.current``, in one transaction.

        Values are read with ``new_keyring`` and this store's keyring together, so the old keys
        may be in either. Afterwards the store uses ``new_keyring``, and every value opens with
        its current key alone; older keys can then be dropped. Content versions are not bumped:
        the values did not change. Returns the number of values re-sealed."""
        old = self._keys.ring
        reader = new_keyring.merged(old)
        self._keys.ring = reader  # readers in other threads may see either key until we finish
        count = 0
        try:
            with self.transaction():
                conn = self._conn()
                count += self._reseal_accounts(conn, reader, new_keyring)
                count += self._reseal_kv(conn, reader, new_keyring)
                self._keys.mark(conn, new_keyring, self._now())
        except BaseException:
            self._keys.ring = old
            raise
        self._keys.ring = new_keyring
        return count

    def _reseal_accounts(self, conn: sqlite3.Connection, reader: Keyring, writer: Keyring) -> int:
        count = 0
        for row in conn.execute(f"{_SELECT} ORDER BY id").fetchall():
            record = decode_account(row, reader)  # checks the whole row before anything changes
            values = [seal_field(writer, record.id, c, getattr(record, c)) for c in SECRET_FIELDS]
            conn.execute(_update_sql(SECRET_FIELDS), [*values, record.id])
            count += sum(v is not None for v in values)
        return count

    def _reseal_kv(self, conn: sqlite3.Connection, reader: Keyring, writer: Keyring) -> int:
        rows = conn.execute("SELECT namespace, key, value FROM kv ORDER BY namespace, key")
        entries = [e for e in rows.fetchall() if tuple(e[:2]) != SEALING_KEY]
        for namespace, key, value in entries:
            plain = open_sealed(reader, value, table="kv", row=namespace, field=key)
            conn.execute(
                "UPDATE kv SET value = ? WHERE namespace = ? AND key = ?",
                (seal(writer, plain, table="kv", row=namespace, field=key), namespace, key),
            )
        return len(entries)

    def _decode(self, row: Any) -> AccountRecord:
        return self._keys.reading(lambda ring: decode_account(row, ring))

    # -- key-value entries --------------------------------------------------------------------

    def kv_put(
        self, namespace: str, key: str, value: str, *, expires_at: float | None = None
    ) -> None:
        """Store ``value`` sealed under ``(namespace, key)``, replacing any earlier one."""
        with self.transaction():
            conn = self._conn()
            ring = self._keys.for_writing(conn, self._now())
            sealed = seal(ring, value, table="kv", row=namespace, field=key)
            conn.execute(
                "INSERT OR REPLACE INTO kv (namespace, key, value, expires_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (namespace, key, sealed, expires_at, self._now()),
            )

    def kv_get(self, namespace: str, key: str) -> str | None:
        """The value under ``(namespace, key)``, or None if absent or expired."""
        row = (
            self._conn()
            .execute(
                "SELECT value, expires_at FROM kv WHERE namespace = ? AND key = ?", (namespace, key)
            )
            .fetchone()
        )
        return self._kv_value(namespace, key, row)

    def kv_take(self, namespace: str, key: str) -> str | None:
        """Remove and return the value under ``(namespace, key)`` (None if absent or expired):
        whoever takes it first gets it, once."""
        with self.transaction():
            conn = self._conn()
            row = conn.execute(
                "SELECT value, expires_at FROM kv WHERE namespace = ? AND key = ?", (namespace, key)
            ).fetchone()
            value = self._kv_value(namespace, key, row)
            conn.execute("DELETE FROM kv WHERE namespace = ? AND key = ?", (namespace, key))
            return value

    def kv_delete(self, namespace: str, key: str) -> bool:
        with self.transaction():
            cursor = self._conn().execute(
                "DELETE FROM kv WHERE namespace = ? AND key = ?", (namespace, key)
            )
            return cursor.rowcount > 0

    def _kv_value(self, namespace: str, key: str, row: tuple[Any, ...] | None) -> str | None:
        if row is None:
            return None
        if row[1] is not None and not isinstance(row[1], int | float):
            raise CorruptRecord(
                f"the stored entry {key!r} in {namespace!r} has a damaged expiry; delete it",
                table="kv",
                row=namespace,
                field=key,
            )
        if row[1] is not None and row[1] <= self._clock():
            return None
        return self._keys.reading(
            lambda ring: open_sealed(ring, row[0], table="kv", row=namespace, field=key)
        )

    # -- leases -------------------------------------------------------------------------------

    def acquire_lease(self, name: str, *, owner: str, ttl: float) -> bool:
        """Try to hold the lease ``name`` for ``ttl`` seconds; True if ``owner`` now holds it
        (it was free, expired, or already ``owner``'s, in which case it is extended).

        A lease is a lock that outlives no crash by more than ``ttl``: use one per account around
        work that waits on the network, with an ``owner`` unique to the attempt."""
        if ttl <= 0:
            raise ValueError("ttl must be positive")
        with self.transaction():
            conn = self._conn()
            now = self._clock()
            row = conn.execute("SELECT owner, expires_at FROM leases WHERE name = ?", (name,))
            held = row.fetchone()
            if held is not None and held[0] != owner and held[1] > now:
                return False
            conn.execute(
                "INSERT OR REPLACE INTO leases (name, owner, expires_at) VALUES (?, ?, ?)",
                (name, owner, now + ttl),
            )
            return True

    def release_lease(self, name: str, *, owner: str) -> bool:
        """Give up the lease ``name`` if ``owner`` holds it; True if it did."""
        with self.transaction():
            cursor = self._conn().execute(
                "DELETE FROM leases WHERE name = ? AND owner = ?", (name, owner)
            )
            return cursor.rowcount > 0

    def _conn(self) -> sqlite3.Connection:
        return self._db.get()

    def _now(self) -> int:
        return int(self._clock())


def _head(row: Any) -> AccountHead | None:
    id, client_id, email, is_default, updated_at = row
    if not (isinstance(id, str) and id and isinstance(client_id, str) and client_id):
        return None
    return AccountHead(
        id=id,
        client_id=client_id,
        email=email if isinstance(email, str) else None,
        is_default=is_default == 1,
        updated_at=updated_at if type(updated_at) is int else 0,
    )


def _update_sql(columns: Iterable[str]) -> str:
    columns = list(columns)
    if not set(columns) <= set(COLUMNS):
        raise ValueError(f"not account columns: {set(columns) - set(COLUMNS)}")
    return f"UPDATE accounts SET {', '.join(f'{c} = ?' for c in columns)} WHERE id = ?"  # noqa: S608
