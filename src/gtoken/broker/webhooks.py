"""Webhooks: the vault's events, signed per the Standard Webhooks convention and delivered from an
outbox table by whichever replica claims them.

- Each event becomes one outbox row per endpoint subscribed to it, written as the vault announces
  the change (right after the change is committed, in the process that made it).
- A replica claims due rows for :data:`LEASE` seconds (``FOR UPDATE SKIP LOCKED`` on PostgreSQL,
  the write lock on SQLite), POSTs each, and records the attempt. A 2xx marks the row delivered;
  anything else schedules the next attempt with exponential backoff (jittered, capped at an
  hour) until :data:`MAX_ATTEMPTS`. A replica killed mid-delivery leaves its claim to expire, and
  another delivers the row: a message is sent again only when no 2xx was recorded for it.
- Headers: ``webhook-id`` (the message id, the same on every attempt: receivers dedupe by it),
  ``webhook-timestamp`` (unix seconds), ``webhook-signature`` (``v1,`` + base64 HMAC-SHA256 of
  ``id.timestamp.body`` under the endpoint's ``whsec_`` secret).

Delivery uses httpx directly rather than gtoken's transport: the transport's retries are for
Google; here the outbox retries, across replicas and restarts.
"""

from __future__ import annotations

import base64
import concurrent.futures
import hashlib
import hmac
import json
import logging
import random
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

from gtoken.store.crypto import Keyring, open_sealed, seal, sealed_key_id
from gtoken.vault.database import Database
from gtoken.vault.events import Event

if TYPE_CHECKING:
    import httpx

__all__ = ["EVENT_TYPES", "Endpoint", "Message", "Webhooks", "sign"]

log = logging.getLogger("gtoken.broker.webhooks")

#: The vault's event kinds, as webhook event types.
EVENT_TYPES: Final = {
    "connected": "connection.created",
    "needs_consent": "connection.needs_consent",
    "revoked": "connection.revoked",
    "refresh_failed": "connection.refresh_failed",
    "recovered": "connection.recovered",
}
LEASE: Final = 60
TIMEOUT: Final = 10.0
MAX_ATTEMPTS: Final = 15
_TABLE: Final = "gtoken_broker_webhooks"


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


@dataclass(frozen=True)
class Endpoint:
    id: str
    url: str
    events: frozenset[str]
    created_at: int


@dataclass(frozen=True)
class Message:
    id: str
    endpoint_id: str
    event: str
    payload: str
    attempts: int
    created_at: int = 0
    delivered_at: int | None = None
    failed_at: int | None = None
    last_status: int | None = None
    last_error: str | None = None


def backoff(attempts: int) -> float:
    """Seconds before attempt ``attempts + 1``: 2, 4, 8... up to an hour, jittered."""
    return min(3600.0, 2.0**attempts) * random.uniform(0.8, 1.2)  # noqa: S311


class Webhooks:
    def __init__(
        self, db: Database, keyring: Keyring, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.db = db
        self.keyring = keyring
        self.clock = clock

    def now(self) -> int:
        return int(self.clock())

    # -- endpoints ------------------------------------------------------------------------------

    def add_endpoint(self, url: str, events: Iterable[str]) -> tuple[Endpoint, str]:
        """A new endpoint and its signing secret (shown once; kept sealed)."""
        wanted = frozenset(events) or frozenset(EVENT_TYPES.values())
        unknown = wanted - set(EVENT_TYPES.values())
        if unknown:
            raise ValueError(
                f"unknown events {sorted(unknown)}; the events are {list(EVENT_TYPES.values())}"
            )
        endpoint = Endpoint("ep_" + secrets.token_hex(8), url, wanted, self.now())
        secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
        sealed = seal(self.keyring, secret, table=_TABLE, row=endpoint.id, field="secret")
        with self.db.transaction() as sql:
            sql.run(
                f"INSERT INTO {_TABLE} (id, url, events, secret, created_at) "  # noqa: S608
                "VALUES (?, ?, ?, ?, ?)",
                (endpoint.id, url, " ".join(sorted(wanted)), sealed, endpoint.created_at),
            )
        return endpoint, secret

    def endpoints(self) -> list[Endpoint]:
        with self.db.read() as sql:
            rows = sql.all(
                f"SELECT id, url, events, created_at FROM {_TABLE} ORDER BY created_at"  # noqa: S608
            )
        return [Endpoint(i, u, frozenset(str(e).split()), int(c)) for i, u, e, c in rows]

    def remove_endpoint(self, endpoint_id: str) -> bool:
        with self.db.transaction() as sql:
            gone = sql.run(f"DELETE FROM {_TABLE} WHERE id = ?", (endpoint_id,))  # noqa: S608
            sql.run(
                "UPDATE gtoken_broker_outbox SET failed_at = ?, last_error = ? "
                "WHERE endpoint_id = ? AND delivered_at IS NULL AND failed_at IS NULL",
                (self.now(), "the endpoint was removed", endpoint_id),
            )
        return gone == 1

    def _secret(self, endpoint_id: str) -> str | None:
        with self.db.read() as sql:
            row = sql.one(f"SELECT secret FROM {_TABLE} WHERE id = ?", (endpoint_id,))  # noqa: S608
        if row is None:
            return None
        return open_sealed(self.keyring, row[0], table=_TABLE, row=endpoint_id, field="secret")

    def rekey(self) -> int:
        """Re-seal with the keyring's current key the endpoint secrets sealed with another;
        the number re-sealed."""
        count = 0
        with self.db.read() as sql:
            rows = sql.all(f"SELECT id, secret FROM {_TABLE}")  # noqa: S608
        for endpoint_id, sealed in rows:
            if sealed_key_id(sealed) == self.keyring.current:
                continue
            secret = open_sealed(
                self.keyring, sealed, table=_TABLE, row=endpoint_id, field="secret"
            )
            fresh = seal(self.keyring, secret, table=_TABLE, row=endpoint_id, field="secret")
            with self.db.transaction() as sql:
                count += sql.run(
                    f"UPDATE {_TABLE} SET secret = ? WHERE id = ? AND secret = ?",  # noqa: S608
                    (fresh, endpoint_id, sealed),
                )
        return count

    # -- the outbox -----------------------------------------------------------------------------

    def on_event(self, event: Event) -> None:
        """Queue ``event`` for every endpoint subscribed to it (a vault hook)."""
        kind = EVENT_TYPES[event.kind]
        now = self.now()
        data = {"user_id": event.user_id, "client_id": event.client_id}
        if event.reason:
            data["reason"] = event.reason
        payload = json.dumps(
            {
                "type": kind,
                "timestamp": datetime.fromtimestamp(now, UTC).isoformat(),
                "data": data,
            },
            separators=(",", ":"),
        )
        targets = [e.id for e in self.endpoints() if kind in e.events]
        if not targets:
            return
        with self.db.transaction() as sql:
            sql.many(
                "INSERT INTO gtoken_broker_outbox (id, endpoint_id, event, payload, created_at,"
                " next_attempt_at) VALUES (?, ?, ?, ?, ?, ?)",
                [("msg_" + secrets.token_hex(12), t, kind, payload, now, now) for t in targets],
            )

    def claim(self, limit: int) -> list[Message]:
        now = self.now()
        with self.db.transaction() as sql:
            skip = " FOR UPDATE SKIP LOCKED" if sql.dialect == "postgresql" else ""
            rows = sql.all(
                "UPDATE gtoken_broker_outbox SET claimed_until = ? WHERE id IN ("  # noqa: S608
                " SELECT id FROM gtoken_broker_outbox"
                " WHERE delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at <= ?"
                " AND (claimed_until IS NULL OR claimed_until < ?)"
                f" ORDER BY next_attempt_at LIMIT ?{skip})"
                " RETURNING id, endpoint_id, event, payload, attempts",
                (now + LEASE, now, now, limit),
            )
        return [Message(str(i), str(e), str(k), str(p), int(a)) for i, e, k, p, a in rows]

    def deliver(self, message: Message, http: httpx.Client) -> bool:
        """One attempt at ``message``; True when the receiver answered 2xx."""
        import httpx

        endpoint = next((e for e in self.endpoints() if e.id == message.endpoint_id), None)
        secret = self._secret(message.endpoint_id)
        if endpoint is None or secret is None:
            self._record(message, None, "the endpoint was removed", final=True)
            return False
        timestamp = self.now()
        body = message.payload.encode()
        headers = {
            "content-type": "application/json",
            "webhook-id": message.id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(secret, message.id, timestamp, body),
            "user-agent": "gtoken-broker",
        }
        status: int | None = None
        error: str | None = None
        try:
            reply = http.post(endpoint.url, content=body, headers=headers, timeout=TIMEOUT)
            status = reply.status_code
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {str(exc)[:200]}"
        ok = status is not None and 200 <= status < 300
        if not ok and error is None:
            error = f"the receiver answered {status}"
        self._record(message, status, None if ok else error, delivered=ok)
        return ok

    def _record(
        self,
        message: Message,
        status: int | None,
        error: str | None,
        *,
        delivered: bool = False,
        final: bool = False,
    ) -> None:
        now = self.now()
        attempts = message.attempts + 1
        final = final or (not delivered and attempts >= MAX_ATTEMPTS)
        with self.db.transaction() as sql:
            sql.run(
                "INSERT INTO gtoken_broker_attempts (message_id, at, status, error) "
                "VALUES (?, ?, ?, ?)",
                (message.id, now, status, error),
            )
            sql.run(
                "UPDATE gtoken_broker_outbox SET attempts = ?, claimed_until = NULL,"
                " last_status = ?, last_error = ?, next_attempt_at = ?,"
                " delivered_at = ?, failed_at = ? WHERE id = ?",
                (
                    attempts,
                    status,
                    error,
                    now + int(backoff(attempts)),
                    now if delivered else None,
                    now if final else None,
                    message.id,
                ),
            )

    def deliver_batch(
        self, http: httpx.Client, *, limit: int = 100, concurrency: int = 4
    ) -> tuple[int, int]:
        """Claim and deliver due messages: (delivered, attempted)."""
        claimed = self.claim(limit)
        if not claimed:
            return 0, 0
        with concurrent.futures.ThreadPoolExecutor(concurrency, "gtoken-webhooks") as pool:
            return sum(pool.map(lambda m: self.deliver(m, http), claimed)), len(claimed)

    def backlog(self) -> int:
        with self.db.read() as sql:
            row = sql.one(
                "SELECT count(*) FROM gtoken_broker_outbox "
                "WHERE delivered_at IS NULL AND failed_at IS NULL"
            )
        return int(row[0]) if row else 0

    def messages(self, *, endpoint_id: str | None = None, limit: int = 100) -> list[Message]:
        where, params = "", []
        if endpoint_id is not None:
            where, params = " WHERE endpoint_id = ?", [endpoint_id]
        with self.db.read() as sql:
            rows = sql.all(
                "SELECT id, endpoint_id, event, payload, attempts, created_at, delivered_at,"  # noqa: S608
                f" failed_at, last_status, last_error FROM gtoken_broker_outbox{where}"
                " ORDER BY created_at DESC, id LIMIT ?",
                [*params, limit],
            )
        return [
            Message(str(i), str(e), str(k), str(p), int(a), int(c), d, f, s, err)
            for i, e, k, p, a, c, d, f, s, err in rows
        ]
