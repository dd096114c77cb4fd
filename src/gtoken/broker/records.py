"""Reads and writes of the broker's own tables (see :mod:`gtoken.broker.migrations`): API keys,
the audit log, clients' return origins, consents under way, admin sessions. Webhooks are in
:mod:`gtoken.broker.webhooks`."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Final, Literal, get_args

from gtoken.errors import TransientError
from gtoken.vault.database import Database, PostgresDatabase

__all__ = [
    "PERMISSIONS",
    "ApiKey",
    "AuditEntry",
    "Permission",
    "Records",
    "Session",
    "hash_secret",
]

Permission = Literal["tokens:read", "connections:manage", "admin"]
#: tokens:read: access tokens. connections:manage: connect links, connection status, listing
#: and deleting connections. admin: everything, including clients, webhooks and the audit log.
PERMISSIONS: Final = get_args(Permission)
KEY_PREFIX: Final = "gtk_"
SESSION_SECONDS: Final = 8 * 3600


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class ApiKey:
    """An API key as stored: never its secret."""

    id: str
    name: str
    permissions: frozenset[str]
    client_id: str | None
    created_at: int
    revoked_at: int | None

    def allows(self, permission: Permission) -> bool:
        return "admin" in self.permissions or permission in self.permissions


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: int
    key_id: str
    user_id: str
    client_id: str
    scopes: tuple[str, ...]
    caller: str | None


@dataclass(frozen=True)
class Session:
    who: str
    csrf: str = field(repr=False)  # a form secret: never in a repr or a log
    expires_at: int


class KeyRefused(Exception):
    """An API key that is unknown, malformed or revoked (401)."""


class Records:
    def __init__(
        self,
        db: Database,
        *,
        clock: Callable[[], float] = time.time,
        key_cache_seconds: float = 0.0,
    ) -> None:
        """``key_cache_seconds``: how long a checked API key is taken as valid without asking
        the database again (a key revoked in another process is refused that much later)."""
        self.db = db
        self.clock = clock
        self.key_cache_seconds = key_cache_seconds
        self._checked: dict[str, tuple[float, ApiKey]] = {}
        self._audit = _GroupCommit(db)

    def close(self) -> None:
        self._audit.close()

    def now(self) -> int:
        return int(self.clock())

    # -- API keys -------------------------------------------------------------------------------

    def create_key(
        self, name: str, permissions: Iterable[str], client_id: str | None = None
    ) -> tuple[ApiKey, str]:
        """A new key and its secret text (``gtk_<id>_<secret>``), which is not kept."""
        wanted = frozenset(permissions)
        unknown = wanted - set(PERMISSIONS)
        if not wanted or unknown:
            raise ValueError(
                f"permissions are {', '.join(PERMISSIONS)}"
                + (f"; not {', '.join(sorted(unknown))}" if unknown else "")
            )
        if not name.strip() or len(name) > 200:
            raise ValueError("a key's name is 1 to 200 characters")
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        key = ApiKey(key_id, name.strip(), wanted, client_id, self.now(), None)
        with self.db.transaction() as sql:
            sql.run(
                "INSERT INTO gtoken_broker_api_keys (id, name, secret_hash, permissions, "
                "client_id, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    key.id,
                    key.name,
                    hash_secret(secret),
                    " ".join(sorted(wanted)),
                    client_id,
                    key.created_at,
                ),
            )
        return key, f"{KEY_PREFIX}{key_id}_{secret}"

    def keys(self) -> list[ApiKey]:
        with self.db.read() as sql:
            rows = sql.all(
                "SELECT id, name, permissions, client_id, created_at, revoked_at "
                "FROM gtoken_broker_api_keys ORDER BY created_at, id"
            )
        return [_key(r) for r in rows]

    def revoke_key(self, key_id: str) -> bool:
        self._checked.clear()
        with self.db.transaction() as sql:
            changed = sql.run(
                "UPDATE gtoken_broker_api_keys SET revoked_at = ? "
                "WHERE id = ? AND revoked_at IS NULL",
                (self.now(), key_id),
            )
        return changed == 1

    def check_key(self, text: str) -> ApiKey:
        """The key whose secret text is ``text``; KeyRefused when there is none (or revoked)."""
        if not text.startswith(KEY_PREFIX) or text.count("_") < 2:
            raise KeyRefused("this is not a gtoken broker API key (gtk_...)")
        digest = hash_secret(text)
        cached = self._checked.get(digest)
        if cached is not None and time.monotonic() - cached[0] < self.key_cache_seconds:
            return cached[1]
        key = self._check_key(text)
        if self.key_cache_seconds > 0:
            if len(self._checked) > 10_000:
                self._checked.clear()
            self._checked[digest] = (time.monotonic(), key)
        return key

    def _check_key(self, text: str) -> ApiKey:
        key_id, _, secret = text[len(KEY_PREFIX) :].partition("_")
        with self.db.read() as sql:
            row = sql.one(
                "SELECT id, name, permissions, client_id, created_at, revoked_at, secret_hash "
                "FROM gtoken_broker_api_keys WHERE id = ?",
                (key_id,),
            )
        if row is None or not hmac.compare_digest(str(row[6]), hash_secret(secret)):
            raise KeyRefused("the API key is not known to this broker")
        key = _key(row[:6])
        if key.revoked_at is not None:
            raise KeyRefused(f"the API key {key.id} ({key.name}) was revoked")
        return key

    # -- audit ----------------------------------------------------------------------------------

    def audit(
        self, key_id: str, user_id: str, client_id: str, scopes: Iterable[str], caller: str | None
    ) -> None:
        """Write an entry; returns once it is committed (with the others written meanwhile)."""
        self._audit.write(
            (self.now(), key_id, user_id, client_id, " ".join(sorted(scopes)), caller)
        )

    def audit_log(
        self, *, user_id: str | None = None, before: int | None = None, limit: int = 100
    ) -> list[AuditEntry]:
        """Newest first; ``before``: an entry id, for the next page."""
        where: list[str] = []
        params: list[object] = []
        if user_id is not None:
            where.append("user_id = ?")
            params.append(user_id)
        if before is not None:
            where.append("id < ?")
            params.append(before)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        with self.db.read() as sql:
            rows = sql.all(
                "SELECT id, at, key_id, user_id, client_id, scopes, caller "  # noqa: S608
                f"FROM gtoken_broker_audit{clause} ORDER BY id DESC LIMIT ?",
                [*params, limit],
            )
        return [
            AuditEntry(int(i), int(at), k, u, c, tuple(str(s).split()), caller)
            for i, at, k, u, c, s, caller in rows
        ]

    def prune(self, *, audit_before: int) -> None:
        now = self.now()
        with self.db.transaction() as sql:
            sql.run("DELETE FROM gtoken_broker_audit WHERE at < ?", (audit_before,))
            sql.run("DELETE FROM gtoken_broker_consents WHERE expires_at < ?", (now,))
            sql.run("DELETE FROM gtoken_broker_sessions WHERE expires_at < ?", (now,))

    # -- clients' return origins ----------------------------------------------------------------

    def set_origins(self, client_id: str, origins: Iterable[str]) -> None:
        text = json.dumps(sorted(set(origins)))
        with self.db.transaction() as sql:
            changed = sql.run(
                "UPDATE gtoken_broker_clients SET return_origins = ?, updated_at = ? "
                "WHERE client_id = ?",
                (text, self.now(), client_id),
            )
            if not changed:
                sql.run(
                    "INSERT INTO gtoken_broker_clients (client_id, return_origins, updated_at)"
                    " VALUES (?, ?, ?)",
                    (client_id, text, self.now()),
                )

    def origins(self, client_id: str) -> frozenset[str]:
        with self.db.read() as sql:
            row = sql.one(
                "SELECT return_origins FROM gtoken_broker_clients WHERE client_id = ?",
                (client_id,),
            )
        return frozenset() if row is None else frozenset(json.loads(row[0]))

    # -- consents under way ---------------------------------------------------------------------

    def add_consent(self, state_hash: str, return_url: str | None, expires_at: int) -> None:
        with self.db.transaction() as sql:
            sql.run(
                "INSERT INTO gtoken_broker_consents (state_hash, return_url, expires_at) "
                "VALUES (?, ?, ?)",
                (state_hash, return_url, expires_at),
            )

    def take_consent(self, state_hash: str) -> tuple[bool, str | None]:
        """(whether the consent was under way, its return URL), forgetting it."""
        with self.db.transaction() as sql:
            row = sql.one(
                "SELECT return_url FROM gtoken_broker_consents WHERE state_hash = ?",
                (state_hash,),
            )
            sql.run("DELETE FROM gtoken_broker_consents WHERE state_hash = ?", (state_hash,))
        return (row is not None, None if row is None else row[0])

    # -- admin sessions -------------------------------------------------------------------------

    def new_session(self, who: str) -> tuple[str, Session]:
        """A session's cookie value (kept as its hash only) and the session."""
        cookie = secrets.token_urlsafe(32)
        session = Session(who, secrets.token_urlsafe(24), self.now() + SESSION_SECONDS)
        with self.db.transaction() as sql:
            sql.run(
                "INSERT INTO gtoken_broker_sessions (id_hash, csrf, who, created_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (hash_secret(cookie), session.csrf, who, self.now(), session.expires_at),
            )
        return cookie, session

    def session(self, cookie: str) -> Session | None:
        with self.db.read() as sql:
            row = sql.one(
                "SELECT who, csrf, expires_at FROM gtoken_broker_sessions WHERE id_hash = ?",
                (hash_secret(cookie),),
            )
        if row is None or int(row[2]) < self.now():
            return None
        return Session(str(row[0]), str(row[1]), int(row[2]))

    def end_session(self, cookie: str) -> None:
        with self.db.transaction() as sql:
            sql.run("DELETE FROM gtoken_broker_sessions WHERE id_hash = ?", (hash_secret(cookie),))


def _key(row: tuple[Any, ...]) -> ApiKey:
    key_id, name, permissions, client_id, created, revoked = row
    return ApiKey(
        str(key_id),
        str(name),
        frozenset(str(permissions).split()),
        client_id,
        int(created),
        None if revoked is None else int(revoked),
    )


class _GroupCommit:
    """Audit rows written by many threads at once, committed together: each writer waits until
    its row is committed (a token is never handed out unaudited), and one transaction carries
    the rows of every writer that arrived while the previous one ran."""

    _INSERT: Final = (
        "INSERT INTO gtoken_broker_audit (at, key_id, user_id, client_id, scopes, caller)"
        " VALUES (?, ?, ?, ?, ?, ?)"
    )

    def __init__(self, db: Database) -> None:
        self._db = db
        self._lock = threading.Lock()
        self._batch: _Batch | None = None
        self._writing = threading.Lock()
        self._conn: Any = None

    def write(self, row: tuple[Any, ...]) -> None:
        with self._lock:
            if self._batch is None:
                self._batch = _Batch()
            batch = self._batch
            batch.rows.append(row)
        # Whoever takes the writing lock commits every row gathered until then.
        with self._writing:
            if not batch.done.is_set():
                with self._lock:
                    if self._batch is batch:
                        self._batch = None
                try:
                    self._commit(batch.rows)
                except BaseException as exc:
                    batch.error = exc
                    raise
                finally:
                    batch.done.set()
        if batch.error is not None:
            raise batch.error

    def _commit(self, rows: list[tuple[Any, ...]]) -> None:
        if not isinstance(self._db, PostgresDatabase):
            with self._db.transaction() as sql:
                sql.many(self._INSERT, rows)
            return
        # One statement on a connection of its own, in autocommit with synchronous_commit off:
        # one round trip per batch, and no wait for the disk (the row is on the server when this
        # returns; only a crash of the server itself in the next moment could lose it). The
        # vault's own writes keep waiting for the disk on the pool's connections.
        import psycopg

        values = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(rows))
        statement = self._INSERT.split(" VALUES ")[0] + " VALUES " + values
        try:
            if self._conn is None or self._conn.closed:
                self._conn = psycopg.connect(self._db.url, autocommit=True, connect_timeout=10)
                self._conn.execute("SET synchronous_commit = off")
            self._conn.execute(statement, [v for row in rows for v in row])
        except psycopg.OperationalError as exc:
            if self._conn is not None:
                self._conn.close()
            self._conn = None
            raise TransientError(
                f"the audit log could not be written ({type(exc).__name__}); no token was "
                "handed out"
            ) from None

    def close(self) -> None:
        with self._writing:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


class _Batch:
    def __init__(self) -> None:
        self.rows: list[tuple[Any, ...]] = []
        self.done = threading.Event()
        self.error: BaseException | None = None
