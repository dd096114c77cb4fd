"""The vault's database: SQLite (the embedded default) or PostgreSQL, behind one small interface.

SQL is written once, with ``?`` placeholders, and runs on both: :class:`Sql` rewrites them to
psycopg's ``%s``. Every write is a transaction that :meth:`Database.transaction` begins and ends;
reads go through :meth:`Database.read`, outside any transaction.

- SQLite: one connection per thread (:class:`gtoken.store.connections.Connections`), WAL, and
  ``BEGIN IMMEDIATE`` for writes: one writer at a time for the whole file, on one machine.
- PostgreSQL: a psycopg 3 connection pool. A connection that is lost, or a pool with no free
  connection in time, is a :class:`~gtoken.errors.TransientError`: nothing was written.
"""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import unquote, urlsplit

from gtoken.errors import ConfigError, TransientError
from gtoken.store.connections import Connections, create_private_db
from gtoken.store.paths import check_private_file

if TYPE_CHECKING:
    import psycopg
    import psycopg_pool

__all__ = ["Database", "Dialect", "PostgresDatabase", "Sql", "SqliteDatabase", "open_database"]

Dialect = Literal["sqlite", "postgresql"]
Row = tuple[Any, ...]


class Sql:
    """One connection inside a transaction (or not), spoken to in ``?``-placeholder SQL."""

    def __init__(self, conn: Any, dialect: Dialect) -> None:
        self._conn = conn
        self.dialect = dialect

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.dialect == "postgresql" else sql

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return list(self._conn.execute(self._sql(sql), tuple(params)).fetchall())

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        row = self._conn.execute(self._sql(sql), tuple(params)).fetchone()
        return None if row is None else tuple(row)

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Execute a statement; the number of rows it changed."""
        cursor = self._conn.execute(self._sql(sql), tuple(params))
        return int(cursor.rowcount)

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if self.dialect == "postgresql":
            with self._conn.cursor() as cursor:
                cursor.executemany(self._sql(sql), [tuple(r) for r in rows])
        else:
            self._conn.executemany(sql, [tuple(r) for r in rows])


class Database:
    """What the vault needs of a database."""

    dialect: Dialect
    #: Tells this database apart from others in lock names; shows no password.
    name: str

    def transaction(self) -> contextlib.AbstractContextManager[Sql]:
        raise NotImplementedError

    def read(self) -> contextlib.AbstractContextManager[Sql]:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class SqliteDatabase(Database):
    """One SQLite file, created mode 0600."""

    dialect: Dialect = "sqlite"

    def __init__(self, path: Path, *, busy_timeout: float = 30.0) -> None:
        self.path = path
        self.name = f"sqlite:{path.resolve()}"
        try:
            # The vault's tables come from its migrations, run once the file exists.
            create_private_db(path, lambda _conn: None)
        except FileNotFoundError:
            raise ConfigError(
                f"the vault database {path} cannot be created: its directory does not exist",
                hint="Create the directory, or give another sqlite:///path.",
            ) from None
        for suffix in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(FileNotFoundError):
                check_private_file(Path(f"{path}{suffix}"))
        self._db = Connections(path, busy_timeout=busy_timeout)
        self._db.use_wal()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Sql]:
        try:
            with self._db.transaction() as conn:
                yield Sql(conn, "sqlite")
        except sqlite3.OperationalError as exc:
            raise TransientError(f"the vault database {self.path} is busy ({exc})") from None

    @contextlib.contextmanager
    def read(self) -> Iterator[Sql]:
        yield Sql(self._db.get(), "sqlite")

    def close(self) -> None:
        self._db.close()

    def __repr__(self) -> str:
        return f"SqliteDatabase({str(self.path)!r})"


class PostgresDatabase(Database):
    """A PostgreSQL database through a psycopg 3 connection pool."""

    dialect: Dialect = "postgresql"

    def __init__(self, url: str, *, max_connections: int = 10, timeout: float = 30.0) -> None:
        try:
            import psycopg
            import psycopg_pool
        except ImportError:
            raise ConfigError(
                "a postgresql:// vault needs psycopg 3 and its pool",
                hint="Install them: pip install 'gtoken[postgres]'.",
            ) from None
        self.url = url
        self.timeout = timeout
        self._errors: tuple[type[BaseException], ...] = (
            psycopg.OperationalError,
            psycopg_pool.PoolTimeout,
        )
        self._pool: psycopg_pool.ConnectionPool[psycopg.Connection[Any]] = (
            psycopg_pool.ConnectionPool(
                url,
                min_size=1,
                max_size=max_connections,
                timeout=timeout,
                kwargs={"autocommit": True, "connect_timeout": max(1, int(timeout))},
                open=False,
                name="gtoken-vault",
            )
        )
        self._pool.open(wait=False)
        with self.read() as sql:
            row = sql.one("SELECT current_database(), current_schema()")
        assert row is not None
        self.name = f"postgresql:{row[0]}.{row[1]}"

    @contextlib.contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        try:
            with self._pool.connection() as conn:
                yield conn
        except self._errors as exc:
            raise TransientError(
                f"the vault database ({_shown_url(self.url)}) is unreachable or busy "
                f"({type(exc).__name__}: {_first_line(exc)}); nothing was changed"
            ) from None

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Sql]:
        with self._connection() as conn, conn.transaction():
            yield Sql(conn, "postgresql")

    @contextlib.contextmanager
    def read(self) -> Iterator[Sql]:
        with self._connection() as conn:
            yield Sql(conn, "postgresql")

    @contextlib.contextmanager
    def advisory_lock(self, name: str, *, timeout: float) -> Iterator[None]:
        """Hold the transaction-scoped advisory lock ``name`` for the block, waiting at most
        ``timeout`` seconds. Its connection stays out of the pool meanwhile; if this process dies,
        the server ends the session and the lock with it."""
        key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        with self._connection() as conn, conn.transaction():
            conn.execute(f"SET LOCAL lock_timeout = {int(timeout * 1000)}")
            # A process stopped (not killed) while holding the lock lets it go after this long.
            conn.execute(f"SET LOCAL idle_in_transaction_session_timeout = {int(timeout * 4000)}")
            try:
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (key,))
            except self._lock_timeout() as exc:
                raise TransientError(
                    f"another process held the refresh lock for more than {timeout:g} s "
                    f"({_first_line(exc)}); nothing was changed"
                ) from None
            yield

    def _lock_timeout(self) -> type[BaseException]:
        import psycopg.errors

        return psycopg.errors.LockNotAvailable

    def close(self) -> None:
        self._pool.close()

    def __repr__(self) -> str:
        return f"PostgresDatabase({_shown_url(self.url)!r})"


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [""])[0][:200]


def _shown_url(url: str) -> str:
    """``url`` without its password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return parts._replace(netloc=netloc).geturl()


def open_database(url: str, *, max_connections: int = 10, timeout: float = 30.0) -> Database:
    """The database at ``url``: ``sqlite:///relative/or//absolute/path`` or
    ``postgresql://user@host/db`` (``postgres://`` too)."""
    if not isinstance(url, str) or not url.strip():
        raise ConfigError(
            "no vault database URL was given",
            hint="Pass one (sqlite:///path or postgresql://...) or set GTOKEN_DATABASE_URL.",
        )
    scheme = url.split(":", 1)[0].lower()
    if scheme == "sqlite":
        path = unquote(urlsplit(url).path)
        if not url.startswith("sqlite:///") or path in ("", "/"):
            raise ConfigError(
                f"{url!r} names no SQLite file",
                hint="Write sqlite:///relative/path.db or sqlite:////absolute/path.db.",
            )
        return SqliteDatabase(Path(path[1:]), busy_timeout=timeout)
    if scheme in ("postgresql", "postgres"):
        return PostgresDatabase(url, max_connections=max_connections, timeout=timeout)
    raise ConfigError(
        f"the vault database URL must start with sqlite:/// or postgresql://, not {scheme}://",
        hint="For example sqlite:///vault.db or postgresql://app@db.example.com/app.",
    )
