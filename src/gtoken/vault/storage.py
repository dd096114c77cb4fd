"""The vault's rows: clients, connections and pending consents, sealed field by field.

Every secret (access, refresh and ID tokens, client secrets, PKCE verifiers) is sealed with
AES-256-GCM by :mod:`gtoken.store.crypto`, the local store's format, with associated data
``(table, row id, column)``: a value copied to another row or column does not open. The newest key
of the keyring seals; every key in it opens.

A connection is found by ``(client_id, user_id)`` through its unique index: the hot path of a
valid token is that one indexed read and one AES-GCM open (the refresh token and ID token are
opened only when needed).
"""

from __future__ import annotations

import builtins
import json
import secrets
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Any, Final

from gtoken.oauth import scopes as _scopes
from gtoken.oauth.clients import ClientSecrets
from gtoken.oauth.token import Token
from gtoken.store.crypto import Keyring, open_sealed, seal
from gtoken.store.errors import CorruptRecord, WrongKey
from gtoken.vault.database import Database, Row, Sql
from gtoken.vault.keys import HINT
from gtoken.vault.records import SECRET_FIELDS, Status, StoredConnection

__all__ = ["CLIENTS", "CONNECTIONS", "STATES", "Storage"]

CONNECTIONS: Final = "gtoken_vault_connections"
CLIENTS: Final = "gtoken_vault_clients"
STATES: Final = "gtoken_vault_states"

_COLUMNS: Final = (
    "id",
    "client_id",
    "user_id",
    "email",
    "sub",
    "scopes",
    "status",
    "status_reason",
    "expires_at",
    "refresh_token_expires_at",
    "refreshed_at",
    "refresh_serial",
    "created_at",
    "updated_at",
    *SECRET_FIELDS,
)
# SQL is only ever built from the constant names above, never from input.
_SELECT: Final = f"SELECT {', '.join(_COLUMNS)} FROM {CONNECTIONS}"  # noqa: S608
_CLIENT_COLUMNS: Final = (
    "client_id, kind, auth_uri, token_uri, redirect_uris, project_id, client_secret"
)
_SELECT_CLIENTS: Final = f"SELECT {_CLIENT_COLUMNS} FROM {CLIENTS} ORDER BY created_at"  # noqa: S608


class Storage:
    """Reads and writes of the vault's tables, sealing and opening as it goes."""

    def __init__(
        self, db: Database, keyring: Keyring, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.db = db
        self.keyring = keyring
        self.clock = clock

    def now(self) -> int:
        return int(self.clock())

    # -- sealing --------------------------------------------------------------------------------

    def seal_value(self, table: str, row: str, field: str, value: str | None) -> str | None:
        if value is None:
            return None
        return seal(self.keyring, value, table=table, row=row, field=field)

    def open_value(self, table: str, row: str, field: str, value: object, who: str) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            raise CorruptRecord(
                f"{who}: column {field} holds a {type(value).__name__}, not sealed text",
                table=table,
                row=row,
                field=field,
            )
        try:
            return open_sealed(self.keyring, value, table=table, row=row, field=field)
        except WrongKey as exc:
            exc.hint = HINT
            raise
        except CorruptRecord as exc:
            raise CorruptRecord(
                f"{who}: {exc.message}. Nothing was changed; forget this connection "
                "(vault.forget) and have the user connect again",
                table=table,
                row=row,
                field=field,
            ) from None

    # -- clients --------------------------------------------------------------------------------

    def put_client(self, client: ClientSecrets) -> None:
        """Record ``client`` (its secret sealed), or bring its stored copy up to date."""
        now = self.now()
        secret = self.seal_value(CLIENTS, client.client_id, "client_secret", client.client_secret)
        values = (
            client.kind,
            client.auth_uri,
            client.token_uri,
            json.dumps(list(client.redirect_uris)),
            client.project_id,
            secret,
        )
        with self.db.transaction() as sql:
            # One statement, so that vaults opening at once with the same client do not race.
            sql.run(
                f"INSERT INTO {CLIENTS} (client_id, kind, auth_uri, token_uri, "  # noqa: S608
                "redirect_uris, project_id, client_secret, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (client_id) DO UPDATE SET "
                "kind = excluded.kind, auth_uri = excluded.auth_uri, "
                "token_uri = excluded.token_uri, redirect_uris = excluded.redirect_uris, "
                "project_id = excluded.project_id, client_secret = excluded.client_secret, "
                "updated_at = excluded.updated_at",
                (client.client_id, *values, now, now),
            )

    def clients(self) -> dict[str, ClientSecrets]:
        """Every client the vault knows, by client id."""
        with self.db.read() as sql:
            rows = sql.all(_SELECT_CLIENTS)
        found = {}
        for client_id, kind, auth_uri, token_uri, uris, project_id, sealed in rows:
            secret = self.open_value(
                CLIENTS, client_id, "client_secret", sealed, f"client {client_id}"
            )
            found[client_id] = ClientSecrets(
                kind=kind,
                client_id=client_id,
                client_secret=secret or "",
                auth_uri=auth_uri,
                token_uri=token_uri,
                redirect_uris=tuple(json.loads(uris)),
                project_id=project_id,
            )
        return found

    # -- connections ----------------------------------------------------------------------------

    def _decode(
        self, row: Row, *, secrets_wanted: Sequence[str] = SECRET_FIELDS
    ) -> StoredConnection:
        raw = dict(zip(_COLUMNS, row, strict=True))
        conn_id = raw["id"]
        who = f"the connection of user {raw['user_id']!r} (client {raw['client_id']})"
        values: dict[str, Any] = {k: raw[k] for k in _COLUMNS if k not in SECRET_FIELDS}
        values["scopes"] = _scopes.normalize(str(raw["scopes"] or "").split())
        for name in ("expires_at", "refresh_token_expires_at", "refreshed_at"):
            values[name] = None if raw[name] is None else int(raw[name])
        for name in ("refresh_serial", "created_at", "updated_at"):
            values[name] = int(raw[name])
        for name in SECRET_FIELDS:
            wanted = name in secrets_wanted
            values[name] = (
                self.open_value(CONNECTIONS, conn_id, name, raw[name], who) if wanted else None
            )
        if values["status"] not in ("active", "needs_consent", "revoked"):
            raise CorruptRecord(
                f"{who} has the unknown status {values['status']!r}",
                table=CONNECTIONS,
                row=conn_id,
                field="status",
            )
        return StoredConnection(**values)

    def get(
        self, client_id: str, user_id: str, *, secrets_wanted: Sequence[str] = SECRET_FIELDS
    ) -> StoredConnection | None:
        with self.db.read() as sql:
            row = sql.one(f"{_SELECT} WHERE client_id = ? AND user_id = ?", (client_id, user_id))
        return None if row is None else self._decode(row, secrets_wanted=secrets_wanted)

    def of_user(self, user_id: str) -> builtins.list[StoredConnection]:
        """The user's connections, whatever the client."""
        with self.db.read() as sql:
            rows = sql.all(f"{_SELECT} WHERE user_id = ? ORDER BY client_id", (user_id,))
        return [self._decode(r, secrets_wanted=()) for r in rows]

    def save_consent(
        self,
        *,
        client_id: str,
        user_id: str,
        sub: str | None,
        email: str | None,
        answer: Token,
        merge: Callable[[StoredConnection | None, Token], Token],
        no_refresh_token: str,
    ) -> tuple[StoredConnection, StoredConnection | None]:
        """Store what a finished consent brought: ``merge(stored, answer)`` gives the tokens to
        keep (the stored refresh token when Google sent none). Returns the connection as stored,
        and as it was before (None when new). With no refresh token at all, the connection is
        ``needs_consent`` with the reason ``no_refresh_token``."""
        now = self.now()
        with self.db.transaction() as sql:
            lock = " FOR UPDATE" if sql.dialect == "postgresql" else ""
            row = sql.one(
                f"{_SELECT} WHERE client_id = ? AND user_id = ?{lock}", (client_id, user_id)
            )
            before = None if row is None else self._decode(row)
            same_account = before is not None and (before.sub in (None, sub))
            # Another Google account's refresh token is no use to this one, and one Google has
            # refused (a connection that needs consent) is no use at all.
            usable = same_account and before is not None and before.status == "active"
            token = merge(before if usable else None, answer)
            status: Status = "active" if token.refresh_token else "needs_consent"
            conn = StoredConnection(
                id=before.id if before is not None else secrets.token_hex(12),
                client_id=client_id,
                user_id=user_id,
                email=email or (before.email if same_account and before else None),
                sub=sub,
                scopes=frozenset(token.scopes),
                status=status,
                status_reason=None if status == "active" else no_refresh_token,
                expires_at=_seconds(token),
                refresh_token_expires_at=_seconds_of(token.refresh_token_expires_at),
                refreshed_at=now,
                refresh_serial=_serial(before, token.refresh_token),
                created_at=before.created_at if before is not None else now,
                updated_at=now,
                access_token=token.access_token,
                refresh_token=token.refresh_token,
                id_token=token.id_token,
            )
            if before is None:
                self._insert(sql, conn)
            else:
                self._update_all(sql, conn)
        return conn, before

    def _values(self, conn: StoredConnection) -> dict[str, Any]:
        values: dict[str, Any] = {c: getattr(conn, c) for c in _COLUMNS}
        values["scopes"] = " ".join(sorted(conn.scopes))
        for name in SECRET_FIELDS:
            values[name] = self.seal_value(CONNECTIONS, conn.id, name, values[name])
        return values

    def _insert(self, sql: Sql, conn: StoredConnection) -> None:
        values = self._values(conn)
        sql.run(
            f"INSERT INTO {CONNECTIONS} ({', '.join(_COLUMNS)}) "  # noqa: S608
            f"VALUES ({', '.join('?' * len(_COLUMNS))})",
            [values[c] for c in _COLUMNS],
        )

    def _update_all(self, sql: Sql, conn: StoredConnection) -> None:
        values = self._values(conn)
        columns = [c for c in _COLUMNS if c != "id"]
        sql.run(
            f"UPDATE {CONNECTIONS} SET {', '.join(f'{c} = ?' for c in columns)}, "  # noqa: S608
            "claimed_until = NULL WHERE id = ?",
            [*(values[c] for c in columns), conn.id],
        )

    def swap(self, read: StoredConnection, token: Token) -> StoredConnection | None:
        """Store a refresh's ``token`` (already merged) if the connection's refresh token is still
        the one ``read`` holds; the connection as stored, or None when it changed meanwhile."""
        now = self.now()
        conn = replace(
            read,
            scopes=frozenset(token.scopes) or read.scopes,
            expires_at=_seconds(token),
            refresh_token_expires_at=_seconds_of(token.refresh_token_expires_at),
            refreshed_at=now,
            refresh_serial=_serial(read, token.refresh_token),
            updated_at=now,
            access_token=token.access_token,
            refresh_token=token.refresh_token,
            id_token=token.id_token,
        )
        values = self._values(conn)
        columns = [
            "scopes",
            "expires_at",
            "refresh_token_expires_at",
            "refreshed_at",
            "refresh_serial",
            "updated_at",
            *SECRET_FIELDS,
        ]
        with self.db.transaction() as sql:
            changed = sql.run(
                f"UPDATE {CONNECTIONS} SET {', '.join(f'{c} = ?' for c in columns)} "  # noqa: S608
                "WHERE id = ? AND refresh_serial = ?",
                [*(values[c] for c in columns), read.id, read.refresh_serial],
            )
        return conn if changed == 1 else None

    def mark(self, read: StoredConnection, status: Status, reason: str | None) -> bool:
        """Set the status of the connection ``read`` if its refresh token is still the one read
        (a consent that brought a new one meanwhile wins). Tokens are left as they are."""
        with self.db.transaction() as sql:
            changed = sql.run(
                f"UPDATE {CONNECTIONS} SET status = ?, status_reason = ?, updated_at = ? "  # noqa: S608
                "WHERE id = ? AND refresh_serial = ?",
                (status, reason, self.now(), read.id, read.refresh_serial),
            )
        return changed == 1

    def delete(self, client_id: str, user_id: str) -> bool:
        with self.db.transaction() as sql:
            changed = sql.run(
                f"DELETE FROM {CONNECTIONS} WHERE client_id = ? AND user_id = ?",  # noqa: S608
                (client_id, user_id),
            )
        return changed > 0

    def page(
        self,
        *,
        client_id: str | None,
        status: Status | None,
        after: tuple[str, str] | None,
        limit: int,
    ) -> builtins.list[StoredConnection]:
        """Connections by user id (then client id), after ``(user_id, client_id)``."""
        where: list[str] = []
        params: list[Any] = []
        if client_id is not None:
            where.append("client_id = ?")
            params.append(client_id)
        if status is not None:
            where.append("status = ?")
            params.append(status)
        if after is not None:
            where.append("(user_id > ? OR (user_id = ? AND client_id > ?))")
            params += [after[0], after[0], after[1]]
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        with self.db.read() as sql:
            rows = sql.all(
                f"{_SELECT}{clause} ORDER BY user_id, client_id LIMIT ?", [*params, limit]
            )
        return [self._decode(r, secrets_wanted=()) for r in rows]

    def claim_due(
        self, *, expiring_before: int, refreshed_before: int, limit: int, lease: int
    ) -> builtins.list[tuple[str, str]]:
        """Claim up to ``limit`` active connections whose access token expires before
        ``expiring_before`` or whose refresh token was last used before ``refreshed_before``,
        for ``lease`` seconds; each is claimed by one caller whoever else asks at once
        (PostgreSQL: ``FOR UPDATE SKIP LOCKED``; SQLite: one writer at a time)."""
        now = self.now()
        with self.db.transaction() as sql:
            skip = " FOR UPDATE SKIP LOCKED" if sql.dialect == "postgresql" else ""
            rows = sql.all(
                f"UPDATE {CONNECTIONS} SET claimed_until = ? WHERE id IN ("  # noqa: S608
                f" SELECT id FROM {CONNECTIONS}"
                " WHERE status = 'active' AND refresh_token IS NOT NULL"
                " AND (expires_at IS NULL OR expires_at < ?"
                "      OR refreshed_at IS NULL OR refreshed_at < ?)"
                " AND (claimed_until IS NULL OR claimed_until < ?)"
                f" ORDER BY expires_at NULLS FIRST LIMIT ?{skip})"
                " RETURNING client_id, user_id",
                (now + lease, expiring_before, refreshed_before, now, limit),
            )
        return [(str(c), str(u)) for c, u in rows]

    def release(self, client_id: str, user_id: str) -> None:
        with self.db.transaction() as sql:
            sql.run(
                f"UPDATE {CONNECTIONS} SET claimed_until = NULL "  # noqa: S608
                "WHERE client_id = ? AND user_id = ?",
                (client_id, user_id),
            )

    def import_refresh_tokens(
        self, client_id: str, rows: Iterable[tuple[str, str, frozenset[str]]]
    ) -> tuple[int, int]:
        """Add connections from ``(user_id, refresh_token, scopes)``: each is refreshed (and
        its access token, email and granted scopes learnt) on first use. Users already connected
        are left as they are. Returns (added, skipped)."""
        added = skipped = 0
        now = self.now()
        with self.db.transaction() as sql:
            for user_id, refresh_token, scopes in rows:
                found = sql.one(
                    f"SELECT 1 FROM {CONNECTIONS} WHERE client_id = ? AND user_id = ?",  # noqa: S608
                    (client_id, user_id),
                )
                if found is not None:
                    skipped += 1
                    continue
                self._insert(
                    sql,
                    StoredConnection(
                        id=secrets.token_hex(12),
                        client_id=client_id,
                        user_id=user_id,
                        email=None,
                        sub=None,
                        scopes=scopes,
                        status="active",
                        status_reason=None,
                        expires_at=None,
                        refresh_token_expires_at=None,
                        refreshed_at=None,
                        refresh_serial=1,
                        created_at=now,
                        updated_at=now,
                        access_token=None,
                        refresh_token=refresh_token,
                        id_token=None,
                    ),
                )
                added += 1
        return added, skipped


def _seconds_of(moment: Any) -> int | None:
    return None if moment is None else int(moment.timestamp())


def _seconds(token: Token) -> int | None:
    return _seconds_of(token.expires_at)


def _serial(before: StoredConnection | None, refresh_token: str | None) -> int:
    """The refresh serial counts the refresh tokens a connection has held."""
    if before is None:
        return 1
    return before.refresh_serial + (refresh_token != before.refresh_token)
