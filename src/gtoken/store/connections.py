"""SQLite connections for many threads and processes: one connection per thread (and per process
after a fork), WAL mode, and write transactions that take SQLite's write lock up front.

``BEGIN IMMEDIATE`` takes the database's single write lock at the start of a transaction, waiting
up to ``busy_timeout`` seconds for it, so a read-modify-write never fails halfway with "database is
locked" the way a deferred transaction that upgrades from reading to writing can.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

from gtoken.store.errors import StoreError
from gtoken.store.format import FILE_MODE

__all__ = ["Connections", "create_private_db"]


class Connections:
    """Per-thread connections to one SQLite file, and nested write transactions on them."""

    def __init__(self, path: Path, *, busy_timeout: float) -> None:
        self.path = path
        self.busy_timeout = busy_timeout
        self._reset()
        self._closed = False

    def _reset(self) -> None:
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []

    def get(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use."""
        if self._closed:
            raise StoreError(f"the store {self.path} is closed")
        if self._pid != os.getpid():
            # A forked child must not touch its parent's connections; it opens its own.
            self._reset()
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
            self._local.depth = 0
            with self._lock:
                self._all.append(conn)
        return conn

    def close(self) -> None:
        """Close every connection opened through this object; later use is an error."""
        self._closed = True
        if self._pid != os.getpid():
            return
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            conn.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Hold the write lock for the block; commit on success, roll back on an exception.
        A nested block in the same thread is a savepoint inside the outer transaction."""
        conn = self.get()
        depth: int = self._local.depth
        if depth == 0:
            self._begin(conn)
        else:
            conn.execute(f"SAVEPOINT sp{depth}")
        self._local.depth = depth + 1
        try:
            yield conn
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                if depth == 0:
                    conn.execute("ROLLBACK")
                else:
                    conn.execute(f"ROLLBACK TO sp{depth}")
                    conn.execute(f"RELEASE sp{depth}")
            raise
        else:
            if depth == 0:
                self._commit(conn)
            else:
                conn.execute(f"RELEASE sp{depth}")
        finally:
            self._local.depth = depth

    def use_wal(self) -> None:
        """Put the file in WAL mode (readers never wait for the writer). Converting needs a moment
        of exclusive access, and another process may be opening the same new file; filesystems
        without shared memory keep the rollback journal."""
        conn = self.get()
        deadline = time.monotonic() + self.busy_timeout
        while conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            try:
                conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError:
                if time.monotonic() > deadline:
                    raise StoreError(f"{self.path} stayed locked while opening it") from None
                time.sleep(0.01)

    def _connect(self) -> sqlite3.Connection:
        uri = f"file:{urllib.parse.quote(str(self.path))}?mode=rw"
        try:
            conn = sqlite3.connect(
                uri,
                uri=True,
                timeout=self.busy_timeout,
                isolation_level=None,  # transactions are begun and ended here, explicitly
                check_same_thread=False,  # only so that close() can close every thread's
            )
            # A committed refresh token must survive a power cut, not only a crash.
            conn.execute("PRAGMA synchronous = FULL")
        except sqlite3.Error as exc:
            raise StoreError(
                f"cannot open the store {self.path} ({exc}); if it is damaged, move it away and "
                "log in again, or point GTOKEN_HOME elsewhere"
            ) from None
        return conn

    def _begin(self, conn: sqlite3.Connection) -> None:
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise StoreError(
                f"{self.path} stayed locked by another process for {self.busy_timeout:g} s "
                f"({exc}); try again, or look for a stuck gtoken process"
            ) from None

    def _commit(self, conn: sqlite3.Connection) -> None:
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
            raise StoreError(
                f"could not write to {self.path} ({exc}); nothing was changed"
            ) from None


def create_private_db(path: Path) -> None:
    """Create an empty database file, mode 0600, unless one exists (SQLite would make it 0644;
    its WAL and shared-memory files then take the same mode)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return
    os.close(fd)
