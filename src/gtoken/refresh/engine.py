"""The one place a refresh token becomes an access token.

Single-flight at every level, so that one expiry costs one refresh however many ask at once:

- threads of one process share one call per account (:class:`Flights`): the first caller
  refreshes, the others wait for its result;
- processes on one machine take a per-account file lock (:class:`ProcessLocks`) and read the store
  again once they hold it, so the ones that waited find the token another process stored.

Crash-safe by construction: Google's refresh answers carry no new refresh token, so nothing is
given up before the new access token is stored in one transaction; a process killed anywhere
leaves the old refresh token in place and the lock released by the kernel.

``invalid_grant`` marks the account ``needs_consent`` with the likely cause; transient failures
(network, 5xx, 429) are raised as they are and change nothing stored.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import fcntl
import hashlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from gtoken.errors import ConsentRequired, InvalidGrant
from gtoken.oauth import grants
from gtoken.oauth.clients import ClientSecrets
from gtoken.oauth.responses import parse_token_response
from gtoken.oauth.token import Token
from gtoken.store import AccountRecord, SqliteStore

if TYPE_CHECKING:
    from gtoken.google import Endpoints
    from gtoken.transport import Transport

T = TypeVar("T")

#: An access token closer than this to its expiry is refreshed before it is handed out.
DEFAULT_MIN_TTL = 120.0


class Flights:
    """At most one call per key at a time in this process; callers that arrive meanwhile share
    its result (or its exception)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: dict[str, concurrent.futures.Future[object]] = {}

    def run(self, key: str, fn: Callable[[], T]) -> T:
        with self._lock:
            call = self._calls.get(key)
            leader = call is None
            if call is None:
                call = self._calls[key] = concurrent.futures.Future()
        if not leader:
            return call.result()  # type: ignore[return-value]
        try:
            result = fn()
        except BaseException as exc:
            call.set_exception(exc)
            raise
        else:
            call.set_result(result)
            return result
        finally:
            with self._lock:
                del self._calls[key]


#: One per process: threads share a refresh whichever Refresher they go through.
FLIGHTS = Flights()


class ProcessLocks:
    """One exclusive ``flock`` per key, in files under ``directory`` (0700, files 0600).

    The kernel releases a lock when its process dies, so a crash never leaves an account locked.
    POSIX only; on one machine (``flock`` does not cross network filesystems)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @contextlib.contextmanager
    def hold(self, key: str) -> Iterator[None]:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        name = hashlib.sha256(key.encode()).hexdigest()[:32] + ".lock"
        fd = os.open(self.directory / name, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


def token_of(record: AccountRecord) -> Token | None:
    """The stored access token of ``record`` as a :class:`Token`, or None when there is none."""
    if not record.access_token:
        return None
    return Token(
        access_token=record.access_token,
        expires_at=_datetime(record.expires_at),
        refresh_token=record.refresh_token,
        scopes=frozenset(record.scopes),
        id_token=record.id_token,
        refresh_token_expires_at=_datetime(record.refresh_token_expires_at),
    )


def _datetime(seconds: int | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


def usable(record: AccountRecord, min_ttl: float, now: float, rejected: str | None = None) -> bool:
    """Whether ``record`` holds an access token valid for at least ``min_ttl`` more seconds (and
    other than ``rejected``, one an API has refused)."""
    return (
        record.status == "active"
        and bool(record.access_token)
        and record.access_token != rejected
        and record.expires_at is not None
        and record.expires_at - now > min_ttl
    )


def label(record: AccountRecord) -> str:
    """How people see an account in messages: its email, else its id."""
    return record.email or record.id


class Refresher:
    """Hands out fresh access tokens for stored accounts, refreshing each expiry exactly once."""

    def __init__(
        self,
        store: SqliteStore,
        *,
        locks: ProcessLocks,
        endpoints: Endpoints,
        transport: Callable[[], Transport],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.locks = locks
        self.endpoints = endpoints
        self._transport_factory = transport
        self._transport: Transport | None = None
        self._transport_lock = threading.Lock()
        self.clock = clock

    def fresh(
        self,
        account_id: str,
        *,
        min_ttl: float = DEFAULT_MIN_TTL,
        rejected: str | None = None,
        known: AccountRecord | None = None,
    ) -> AccountRecord:
        """The account with an access token valid for ``min_ttl`` more seconds, refreshing it if
        needed. ``rejected`` is an access token an API refused (a 401): it is refreshed even if
        it looks valid, unless the store already holds another one. ``known`` is the account as
        the caller just read it, which spares reading it again. Raises ConsentRequired when the
        account needs consent again."""
        record = known if known is not None and known.id == account_id else self._get(account_id)
        if usable(record, min_ttl, self.clock(), rejected):
            return record
        key = f"{self.store.path}:{account_id}"
        return FLIGHTS.run(key, lambda: self._refresh_once(account_id, min_ttl, rejected))

    def _get(self, account_id: str) -> AccountRecord:
        record = self.store.get(account_id)
        if record is None:
            raise ConsentRequired(
                account_id,
                "it is not in the store (logged out?)",
                hint="Sign in with gtoken login.",
            )
        return record

    def _refresh_once(self, account_id: str, min_ttl: float, rejected: str | None) -> AccountRecord:
        with self.locks.hold(f"refresh:{self.store.path}:{account_id}"):
            # Another process may have refreshed while this one waited for the lock.
            record = self._get(account_id)
            if usable(record, min_ttl, self.clock(), rejected):
                return record
            if record.status != "active":
                raise ConsentRequired(label(record), record.status_reason or record.status)
            if not record.refresh_token:
                raise ConsentRequired(label(record), "it has no refresh token")
            return self._refresh(record)

    def _refresh(self, record: AccountRecord) -> AccountRecord:
        assert record.refresh_token is not None
        client = ClientSecrets(
            kind="installed",
            client_id=record.client_id,
            client_secret=record.client_secret or "",
            token_uri=self.endpoints.token if self.endpoints.emulator else record.token_uri,
        )
        response = self.transport().send(grants.refresh(client, record.refresh_token))
        previous = token_of(record) or Token(
            access_token="-",
            expires_at=None,
            refresh_token=record.refresh_token,
            scopes=frozenset(record.scopes),
        )
        try:
            token = parse_token_response(
                response.status,
                response.headers,
                response.body,
                grant="refresh_token",
                now=datetime.fromtimestamp(self.clock(), UTC),
                previous=previous,
            )
        except InvalidGrant as exc:
            reason = _consent_reason(exc)
            self.store.set_status(record.id, "needs_consent", reason)
            raise ConsentRequired(label(record), reason, likely_causes=exc.likely_causes) from exc
        return self.store.update_tokens(
            record.id,
            access_token=token.access_token,
            expires_at=unix_seconds(token.expires_at),
            refresh_token=token.refresh_token
            if token.refresh_token != record.refresh_token
            else None,
            id_token=token.id_token,
            scopes=sorted(token.scopes),
        )

    def transport(self) -> Transport:
        with self._transport_lock:
            if self._transport is None:
                self._transport = self._transport_factory()
            return self._transport

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()


def _consent_reason(exc: InvalidGrant) -> str:
    said = f"{exc.error}: {exc.description}" if exc.description else str(exc.error)
    listed = "; ".join(f"({n}) {cause}" for n, cause in enumerate(exc.likely_causes, 1))
    reason = f"Google refused its refresh token ({said})"
    return f"{reason}. Likely causes: {listed}" if listed else reason


def unix_seconds(moment: datetime | None) -> int | None:
    """``moment`` as the store keeps times: whole seconds since the epoch."""
    return None if moment is None else int(moment.timestamp())
