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

Limits: one machine (SQLite's locks do not work over network filesystems; use PostgreSQL for
replicas), one writer at a time for the whole file, and each process holds the keyring it was
opened with (after a key rotation elsewhere, reopen).

Reading never writes. A row that fails to decrypt or parse raises
:class:`~gtoken.store.errors.CorruptRecord` and is left as it is; a store sealed with keys the
keyring lacks raises :class:`~gtoken.store.errors.WrongKey` when opened, before anything is written.
"""

from __future__ import annotations

import builtins
import contextlib
import os
import re
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

from gtoken.errors import WrongKey
from gtoken.store import schema
from gtoken.store.connections import Connections, create_private_db
from gtoken.store.crypto import Keyring, open_sealed, seal
from gtoken.store.errors import CorruptRecord, NotFound, VersionConflict
from gtoken.store.format import ACCOUNT_ORDER, ENV_KEY, KEY_FILE, STORE_FILE, STORE_SIDE_FILES
from gtoken.store.keys import load_keyring
from gtoken.store.paths import check_private_file, ensure_private_dir, gtoken_home
from gtoken.store.records import KEEP, SECRET_FIELDS, STATUSES, AccountRecord, Keep, Status
from gtoken.store.rows import COLUMNS, decode_account, encode_account, seal_field

__all__ = ["STORE_FILE", "SqliteStore", "open_store"]

# SQL is only ever built from the column names above, never from input.
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM accounts"  # noqa: S608
_UPSERT_SET = ", ".join(f"{c} = excluded.{c}" for c in COLUMNS[1:])
_UPSERT = (
    f"INSERT INTO accounts ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"  # noqa: S608
    f" ON CONFLICT (id) DO UPDATE SET {_UPSERT_SET}"
)
_SEALED_VALUES = " UNION ".join(
    [f"SELECT substr({c}, 1, 11) AS p FROM accounts" for c in SECRET_FIELDS]  # noqa: S608
    + ["SELECT substr(value, 1, 11) AS p FROM kv"]
)
_KEY_IDS = f"SELECT DISTINCT p FROM ({_SEALED_VALUES}) WHERE p IS NOT NULL"  # noqa: S608
_KEY_ID_PREFIX = re.compile(r"v1:([0-9a-f]{8})")


def open_store(env: Mapping[str, str] = os.environ, *, home: Path | None = None) -> SqliteStore:
    """The default store: ``store.sqlite3`` in the gtoken home (created 0700 if missing), with the
    keyring from :func:`~gtoken.store.keys.load_keyring`. A new key file is only made for a new
    store: a store whose key file is gone is an error, not a fresh start."""
    home = gtoken_home(env) if home is None else home
    ensure_private_dir(home)
    path = home / STORE_FILE
    keyring = load_keyring(home, env, create=not path.exists())
    return SqliteStore(path, keyring)


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
    ) -> None:
        """Open (creating, mode 0600) and migrate the store at ``path``.

        ``check_keys=False`` opens a store even if its values were sealed with keys the keyring
        lacks, so that accounts can still be listed by id or deleted."""
        self.path = Path(path)
        self._keyring = keyring
        self._clock = clock
        create_private_db(self.path)
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
            self._check_keys()
        self._db.use_wal()
        schema.migrate(conn, self.path)

    @property
    def keyring(self) -> Keyring:
        return self._keyring

    def close(self) -> None:
        """Close every connection this store opened. Using it afterwards is an error."""
        self._db.close()

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SqliteStore({str(self.path)!r}, keyring={self._keyring!r})"

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
        return None if row is None else decode_account(row, self._keyring)

    def get_default(self, client_id: str) -> AccountRecord | None:
        """The default account of ``client_id``, or None."""
        sql = f"{_SELECT} WHERE client_id = ? AND is_default = 1"
        row = self._conn().execute(sql, (client_id,)).fetchone()
        return None if row is None else decode_account(row, self._keyring)

    def list(self, *, client_id: str | None = None) -> builtins.list[AccountRecord]:
        """Every account (of ``client_id``, if given), by client, email and id."""
        where, params = ("WHERE client_id = ?", (client_id,)) if client_id else ("", ())
        rows = self._conn().execute(f"{_SELECT} {where} ORDER BY {ACCOUNT_ORDER}", params)
        return [decode_account(row, self._keyring) for row in rows.fetchall()]

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
            values = encode_account(record, self._keyring)
            if not record.refresh_token and old is not None:
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

    def set_default(self, id: str) -> AccountRecord:
        """Make ``id`` its client's default account (and no other)."""
        with self.transaction():
            conn = self._conn()
            current = self._require(conn, id)
            self._clear_default(conn, current.client_id, id, self._now())
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
            stored = encode_account(updated, self._keyring)
            conn.execute(_update_sql(columns), [*(stored[c] for c in columns), id])
            return updated

    def _require(self, conn: sqlite3.Connection, id: str) -> AccountRecord:
        row = conn.execute(f"{_SELECT} WHERE id = ?", (id,)).fetchone()
        if row is None:
            raise NotFound(f"no account with id {id!r} in {self.path}")
        return decode_account(row, self._keyring)

    def _expect(self, id: str, expected: int | None, actual: int) -> None:
        if expected is not None and expected != actual:
            raise VersionConflict(
                f"account {id!r} is at version {actual}, not {expected}: it changed since it was "
                "read; read it again and retry",
                expected=expected,
                actual=actual,
            )

    def _clear_default(self, conn: sqlite3.Connection, client_id: str, keep: str, now: int) -> None:
        conn.execute(
            "UPDATE accounts SET is_default = 0, updated_at = ?, version = version + 1"
            " WHERE client_id = ? AND is_default = 1 AND id != ?",
            (now, client_id, keep),
        )

    # -- keys ---------------------------------------------------------------------------------

    def key_ids_in_use(self) -> set[str]:
        """The ids of the keys that stored values are sealed with (read from the values' prefix)."""
        rows = self._conn().execute(_KEY_IDS)
        prefixes = (p for (p,) in rows.fetchall() if isinstance(p, str))
        return {m.group(1) for m in map(_KEY_ID_PREFIX.fullmatch, prefixes) if m}

    def rotate_key(self, new_keyring: Keyring) -> int:
        """Re-seal every stored secret with ``new_keyring.current``, in one transaction.

        Values are read with ``new_keyring`` and this store's keyring together, so the old keys
        may be in either. Afterwards the store uses ``new_keyring``, and every value opens with
        its current key alone; older keys can then be dropped. Content versions are not bumped:
        the values did not change. Returns the number of values re-sealed."""
        old = self._keyring
        reader = new_keyring.merged(old)
        self._keyring = reader  # readers in other threads may see either key until we finish
        count = 0
        try:
            with self.transaction():
                conn = self._conn()
                count += self._reseal_accounts(conn, reader, new_keyring)
                count += self._reseal_kv(conn, reader, new_keyring)
        except BaseException:
            self._keyring = old
            raise
        self._keyring = new_keyring
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
        entries = rows.fetchall()
        for namespace, key, value in entries:
            plain = open_sealed(reader, value, table="kv", row=namespace, field=key)
            conn.execute(
                "UPDATE kv SET value = ? WHERE namespace = ? AND key = ?",
                (seal(writer, plain, table="kv", row=namespace, field=key), namespace, key),
            )
        return len(entries)

    def _check_keys(self) -> None:
        missing = sorted(self.key_ids_in_use() - set(self._keyring))
        if not missing:
            return
        needed = ", ".join(missing)
        if self._keyring.source == ENV_KEY:
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
            f"({self._keyring.source}; key ids {', '.join(self._keyring.ids)}) does not hold. "
            f"Nothing was changed. To fix it, {how}",
            key_id=missing[0],
        )

    # -- key-value entries --------------------------------------------------------------------

    def kv_put(
        self, namespace: str, key: str, value: str, *, expires_at: float | None = None
    ) -> None:
        """Store ``value`` sealed under ``(namespace, key)``, replacing any earlier one."""
        sealed = seal(self._keyring, value, table="kv", row=namespace, field=key)
        with self.transaction():
            self._conn().execute(
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
        return open_sealed(self._keyring, row[0], table="kv", row=namespace, field=key)

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


def _update_sql(columns: Iterable[str]) -> str:
    columns = list(columns)
    if not set(columns) <= set(COLUMNS):
        raise ValueError(f"not account columns: {set(columns) - set(COLUMNS)}")
    return f"UPDATE accounts SET {', '.join(f'{c} = ?' for c in columns)} WHERE id = ?"  # noqa: S608
