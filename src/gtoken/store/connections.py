"""SQLite connections for many threads and processes: one connection per thread (and per process
after a fork), WAL mode, and write transactions that take SQLite's write lock up front.

``BEGIN IMMEDIATE`` takes the database's single write lock at the start of a transaction, waiting
up to ``busy_timeout`` seconds for it, so a read-modify-write never fails halfway with "database is
locked" the way a deferred transaction that upgrades from reading to writing can.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sqlite3
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path

from gtoken.store.errors import ReadOnlyStore, StoreError
from gtoken.store.format import FILE_MODE, KEY_FILE, read_only_mode

__all__ = ["Connections", "check_not_empty", "create_private_db", "describe"]


class Connections:
    """Per-thread connections to one SQLite file, and nested write transactions on them."""

    def __init__(self, path: Path, *, busy_timeout: float) -> None:
        self.path = path
        self.busy_timeout = busy_timeout
        #: Set when the store could only be opened for reading; writes raise ReadOnlyStore.
        self.read_only = False
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
        except BaseException as exc:
            with contextlib.suppress(sqlite3.Error):
                if depth == 0:
                    conn.execute("ROLLBACK")
                else:
                    conn.execute(f"ROLLBACK TO sp{depth}")
                    conn.execute(f"RELEASE sp{depth}")
            if isinstance(exc, sqlite3.OperationalError) and _of_the_place(exc):
                raise describe(exc, self.path, "write") from None
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
        if self.read_only:
            return
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
        if not self.read_only:
            try:
                return self._open(read_only=False)
            except sqlite3.Error as exc:
                if not _read_only_place(self.path):
                    raise describe(exc, self.path, "open") from None
            # Reading a valid token must work where nothing can be written (a read-only root,
            # a mounted secret); every write is then refused with ReadOnlyStore.
            self.read_only = True
        try:
            return self._open(read_only=True)
        except sqlite3.Error as exc:
            raise describe(exc, self.path, "open") from None

    def _open(self, *, read_only: bool) -> sqlite3.Connection:
        mode = read_only_mode(str(self.path)) if read_only else "rw"
        conn = sqlite3.connect(
            f"file:{urllib.parse.quote(str(self.path))}?mode={mode}",
            uri=True,
            timeout=self.busy_timeout,
            isolation_level=None,  # transactions are begun and ended here, explicitly
            check_same_thread=False,  # only so that close() can close every thread's
        )
        try:
            # A committed refresh token must survive a power cut, not only a crash.
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA schema_version").fetchone()  # opens the file for real
        except BaseException:
            conn.close()
            raise
        conn.text_factory = _text
        return conn

    def _begin(self, conn: sqlite3.Connection) -> None:
        if self.read_only:
            raise ReadOnlyStore(
                f"the store {self.path} is read-only here ({self.path.parent} cannot be "
                "written), so nothing can be saved in it"
            )
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise describe(exc, self.path, "begin") from None

    def _commit(self, conn: sqlite3.Connection) -> None:
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
            raise describe(exc, self.path, "write") from None


def describe(exc: sqlite3.Error, path: Path, doing: str) -> StoreError:
    """What an SQLite error means for the person, with what to do about it."""
    name = getattr(exc, "sqlite_errorname", "")
    unchanged = "" if doing == "open" else "; nothing was changed"
    if name == "SQLITE_FULL" or (
        name.startswith(("SQLITE_IOERR", "SQLITE_CANTOPEN")) and _full(path)
    ):
        return StoreError(
            f"the disk holding {path} is full: gtoken could not write to the store{unchanged}",
            hint=f"Free some space on the disk that holds {path.parent}, then try again.",
        )
    if name.startswith("SQLITE_READONLY") or (name == "SQLITE_CANTOPEN" and _read_only_place(path)):
        return ReadOnlyStore(
            f"the store {path} is read-only here ({path.parent} cannot be written), so nothing "
            f"can be saved in it{unchanged}"
        )
    if name in ("SQLITE_BUSY", "SQLITE_LOCKED") or name.startswith("SQLITE_BUSY"):
        return StoreError(
            f"{path} stayed locked by another process ({exc}){unchanged}",
            hint="Try again, or look for a stuck gtoken process.",
        )
    if name in ("SQLITE_CORRUPT", "SQLITE_NOTADB") or name.startswith("SQLITE_CORRUPT"):
        return StoreError(
            f"the store {path} is damaged ({exc}){unchanged}",
            hint="Restore it from a backup, or move it away and sign in again with gtoken login.",
        )
    verb = "open" if doing == "open" else "write to"
    return StoreError(
        f"cannot {verb} the store {path} ({exc}){unchanged}",
        hint=f"Check the disk and that {path.parent} and the files in it are yours and "
        "writable; if the store itself is damaged, move it away and sign in again.",
    )


def _of_the_place(exc: sqlite3.Error) -> bool:
    """Whether ``exc`` is about the disk, the file or its locks, not about the SQL."""
    name = getattr(exc, "sqlite_errorname", "")
    return name.startswith(
        ("SQLITE_FULL", "SQLITE_READONLY", "SQLITE_IOERR", "SQLITE_CORRUPT", "SQLITE_BUSY")
    ) or name in ("SQLITE_NOTADB", "SQLITE_CANTOPEN", "SQLITE_LOCKED")


def _full(path: Path) -> bool:
    """Whether the file system holding ``path`` has no space left (SQLite reports a full disk
    as an I/O error when it cannot even make its shared-memory file)."""
    try:
        return os.statvfs(path.parent).f_bavail == 0
    except OSError:
        return False


def _read_only_place(path: Path) -> bool:
    """Whether ``path`` (or its directory) cannot be written, on a read-only file system or by
    its permissions."""
    return not (os.access(path.parent, os.W_OK) and os.access(path, os.W_OK))


def _text(data: bytes) -> str:
    # A damaged byte in one column must not make the whole query fail (sqlite3's default
    # refuses text that is not UTF-8): it shows as U+FFFD, which no valid value holds, and the
    # row is reported as damaged.
    return data.decode("utf-8", "replace")


def create_private_db(path: Path, build: Callable[[sqlite3.Connection], object]) -> None:
    """Create the database file, mode 0600, unless one exists (SQLite would make it 0644; its WAL
    and shared-memory files then take the same mode).

    ``build`` makes its tables in a file beside it, which then takes the name in one step: no
    process ever sees a store half made, so an empty store file is always damage (see
    :func:`check_not_empty`), never a creation under way."""
    if path.exists():
        return
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    os.close(fd)
    try:
        conn = sqlite3.connect(tmp, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            build(conn)
        finally:
            conn.close()
        with contextlib.suppress(FileExistsError):  # another process made it first: theirs wins
            os.link(tmp, path)
    finally:
        for suffix in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{tmp}{suffix}")


def check_not_empty(path: Path) -> None:
    """Refuse a store file of zero bytes: it held accounts once (a new one is never empty) and
    was cut short, by a full disk or a failed copy; taking it for a new store would hide that."""
    if path.stat().st_size:
        return
    key_file = path.parent / KEY_FILE
    evidence = f" ({key_file} shows a store was in use here)" if key_file.exists() else ""
    raise StoreError(
        f"the store {path} is empty (0 bytes): it was cut short{evidence}, by a full disk, a "
        "failed copy or restore, and the accounts it held cannot be read from it. Nothing was "
        "changed",
        hint=f"Restore {path.name} from a backup if there is one; otherwise move it away "
        "(mv it to another name) and sign in again with gtoken login.",
    )
