"""The refresh engine's rules, against an in-memory store of grants and against the SQLite
accounts of a gtoken home (real files, real processes for the cross-process lock)."""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import os
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gtoken.emulator.client import Emulator
from gtoken.errors import ConsentRequired, NetworkError, ServerError
from gtoken.oauth import ClientSecrets, Token
from gtoken.refresh import CrossProcessLock, Engine, Flights, Grant, keep_refresh_token
from gtoken.store import new_key
from tests.refresh.backends import (
    PLACEHOLDER_CLIENT,
    MemoryGrants,
    MemoryLocks,
    SqliteGrants,
    file_locks,
    sqlite_grants,
)
from tests.support import login, no_wait

OLD_REFRESH = "1//OLD-refresh-token-0123456789"
NEW_REFRESH = "1//NEW-refresh-token-0123456789"
ID_TOKEN = "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxMTAwIn0.c2ln"
SCOPES = frozenset({"openid", "https://www.googleapis.com/auth/gmail.readonly"})

Backend = tuple[MemoryGrants | SqliteGrants, CrossProcessLock]


@pytest.fixture(params=["memory", "sqlite"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "memory":
        yield MemoryGrants(), MemoryLocks()
        return
    grants = sqlite_grants(tmp_path, "127.0.0.1:9")
    yield grants, file_locks(tmp_path)
    grants.store.close()


def now() -> datetime:
    return datetime.now(UTC)


def stored(
    key: str = "g1",
    *,
    access_token: str | None = "ya29.OLD-access-token",
    expires_in: float = 3600,
    refresh_token: str | None = OLD_REFRESH,
    status: Any = "active",
    client: ClientSecrets = PLACEHOLDER_CLIENT,
) -> Grant:
    return Grant(
        key=key,
        label=f"{key}@example.com",
        access_token=access_token,
        expires_at=(now() + timedelta(seconds=expires_in)).replace(microsecond=0),
        scopes=SCOPES,
        refresh_token=refresh_token,
        refresh_token_expires_at=None,
        id_token=ID_TOKEN,
        client=client,
        status=status,
        status_reason=None if status == "active" else "refused earlier",
    )


class Renewals:
    """A renewal that counts its calls and answers as Google's refresh does (no refresh
    token), or with ``refresh_token``, or raises ``error``."""

    def __init__(
        self,
        *,
        refresh_token: str | None = None,
        error: Exception | None = None,
        pause: float = 0.0,
        during: Callable[[], None] | None = None,
    ) -> None:
        self.calls = 0
        self.refresh_token = refresh_token
        self.error = error
        self.pause = pause
        self.during = during
        self._lock = threading.Lock()

    def __call__(self, grant: Grant) -> Token:
        with self._lock:
            self.calls += 1
            n = self.calls
        time.sleep(self.pause)
        if self.during is not None:
            self.during()
        if self.error is not None:
            raise self.error
        return Token(
            access_token=f"ya29.RENEWED-{n}-access-token",
            expires_at=now() + timedelta(seconds=3599),
            refresh_token=self.refresh_token,
            scopes=SCOPES,
        )


def engine(backend: Backend) -> Engine:
    grants, lock = backend
    return Engine(grants, lock=lock, transport=no_wait)


def test_a_usable_token_is_handed_out_without_renewing(backend: Backend) -> None:
    grants, _ = backend
    grants.put(stored())
    renew = Renewals()
    got = engine(backend).fresh("g1", renew=renew)
    assert got.access_token == "ya29.OLD-access-token"
    assert renew.calls == 0


def test_an_expiring_token_is_renewed_once_and_keeps_the_refresh_token(backend: Backend) -> None:
    grants, _ = backend
    grants.put(stored(expires_in=60))
    renew = Renewals()
    got = engine(backend).fresh("g1", min_ttl=120, renew=renew)
    assert renew.calls == 1
    assert got.access_token == "ya29.RENEWED-1-access-token"
    assert got.refresh_token == OLD_REFRESH  # Google sent none: the stored one stays
    assert got.id_token == ID_TOKEN
    again = grants.read("g1")
    assert again is not None
    assert (again.access_token, again.refresh_token) == (got.access_token, OLD_REFRESH)
    assert engine(backend).fresh("g1", renew=renew).access_token == got.access_token
    assert renew.calls == 1


def test_a_new_refresh_token_replaces_the_stored_one(backend: Backend) -> None:
    grants, _ = backend
    grants.put(stored(expires_in=0))
    engine(backend).fresh("g1", renew=Renewals(refresh_token=NEW_REFRESH))
    after = grants.read("g1")
    assert after is not None
    assert after.refresh_token == NEW_REFRESH


def test_a_rejected_token_is_renewed_even_if_it_looks_valid(backend: Backend) -> None:
    grants, _ = backend
    grants.put(stored())
    renew = Renewals()
    got = engine(backend).fresh("g1", rejected="ya29.OLD-access-token", renew=renew)
    assert (renew.calls, got.access_token) == (1, "ya29.RENEWED-1-access-token")
    # A caller that still holds the old token finds the new one without a second renewal.
    again = engine(backend).fresh("g1", rejected="ya29.OLD-access-token", renew=renew)
    assert (renew.calls, again.access_token) == (1, got.access_token)


def test_fifty_threads_cause_one_renewal(backend: Backend) -> None:
    grants, _ = backend
    grants.put(stored(expires_in=0))
    renew = Renewals(pause=0.05)
    one = engine(backend)
    start = threading.Barrier(50)
    got: list[str | None] = []

    def ask() -> None:
        start.wait()
        got.append(one.fresh("g1", renew=renew).access_token)

    threads = [threading.Thread(target=ask) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert renew.calls == 1
    assert got == ["ya29.RENEWED-1-access-token"] * 50


def test_engines_sharing_a_store_in_one_process_renew_once(backend: Backend) -> None:
    grants, _ = backend
    grants.put(stored(expires_in=0))
    renew = Renewals(pause=0.05)
    engines = [engine(backend) for _ in range(8)]
    threads = [
        threading.Thread(target=e.fresh, args=("g1",), kwargs={"renew": renew}) for e in engines
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert renew.calls == 1


class OpenLock:
    """No lock between processes: every hold is granted at once, and counted."""

    def __init__(self) -> None:
        self.held = 0

    @contextlib.contextmanager
    def hold(self, name: str) -> Iterator[None]:
        self.held += 1
        yield


def test_threads_share_one_renewal_without_the_process_lock() -> None:
    # With the cross-process lock (and the read again under it) taken away, only the threads'
    # single flight is left to make one renewal of sixteen askers.
    grants = MemoryGrants()
    grants.put(stored(expires_in=0))
    lock = OpenLock()
    renew = Renewals(pause=0.05)
    one = Engine(grants, lock=lock, flights=Flights())
    start = threading.Barrier(16)
    got: list[str | None] = []

    def ask() -> None:
        start.wait()
        got.append(one.fresh("g1", renew=renew).access_token)

    threads = [threading.Thread(target=ask) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert (renew.calls, lock.held) == (1, 1)
    assert got == ["ya29.RENEWED-1-access-token"] * 16


@pytest.mark.parametrize(
    "error",
    [
        NetworkError("the connection was reset"),
        ServerError("Google's token service had a temporary problem.", error=None, status=503),
    ],
)
def test_a_transient_failure_changes_nothing(backend: Backend, error: Exception) -> None:
    grants, _ = backend
    grants.put(stored(expires_in=0))
    before = grants.read("g1")
    with pytest.raises(type(error)):
        engine(backend).fresh("g1", renew=Renewals(error=error))
    after = grants.read("g1")
    assert after is not None
    assert before is not None
    assert dataclasses.replace(after, row=None) == dataclasses.replace(before, row=None)
    # ... and the next caller renews as if nothing had happened.
    assert engine(backend).fresh("g1", renew=Renewals()).refresh_token == OLD_REFRESH


def test_a_grant_that_needs_consent_is_not_renewed(backend: Backend) -> None:
    grants, _ = backend
    grants.put(stored(expires_in=0, status="needs_consent"))
    renew = Renewals()
    with pytest.raises(ConsentRequired, match="refused earlier"):
        engine(backend).fresh("g1", renew=renew)
    assert renew.calls == 0


def test_a_missing_grant_needs_consent(backend: Backend) -> None:
    with pytest.raises(ConsentRequired, match="not in the store"):
        engine(backend).fresh("nobody", renew=Renewals())


def test_a_grant_without_refresh_token_needs_consent(backend: Backend) -> None:
    grants, _ = backend
    grants.put(stored(expires_in=0, refresh_token=None))
    with pytest.raises(ConsentRequired, match="no refresh token"):
        engine(backend).fresh("g1")


def test_a_grant_signed_in_again_meanwhile_is_not_overwritten(backend: Backend) -> None:
    """A sign-in writes without the engine's lock; the answer in hand is then older than what
    it stored, and is dropped."""
    grants, _ = backend
    grants.put(stored(expires_in=0))
    relogin = stored(access_token="ya29.FROM-A-NEW-SIGN-IN", refresh_token=NEW_REFRESH)
    renew = Renewals(during=lambda: grants.put(relogin))
    got = engine(backend).fresh("g1", renew=renew)
    assert renew.calls == 1
    assert (got.access_token, got.refresh_token) == ("ya29.FROM-A-NEW-SIGN-IN", NEW_REFRESH)
    after = grants.read("g1")
    assert after is not None
    assert after.refresh_token == NEW_REFRESH


# -- the refresh token sent to a token endpoint (the emulator) --------------------------------


def emulator_grant(emulator: Emulator, backend: Backend) -> tuple[Grant, ClientSecrets]:
    client = emulator.create_client()
    emulator.create_user("eve@example.com")
    emulator.consent_auto(email="eve@example.com")
    body = login(emulator, client, "openid email", access_type="offline")
    secrets = ClientSecrets.from_json(client)
    grant = stored(expires_in=0, refresh_token=body["refresh_token"], client=secrets)
    backend[0].put(grant)
    return grant, secrets


@pytest.fixture
def remote(request: pytest.FixtureRequest, tmp_path: Path, emulator: Emulator) -> Iterator[Backend]:
    if request.param == "memory":
        yield MemoryGrants(), MemoryLocks()
        return
    grants = sqlite_grants(tmp_path, emulator.host)
    yield grants, file_locks(tmp_path)
    grants.store.close()


@pytest.mark.parametrize("remote", ["memory", "sqlite"], indirect=True)
def test_the_refresh_token_is_sent_to_the_grants_token_endpoint(
    emulator: Emulator, remote: Backend
) -> None:
    grant, _ = emulator_grant(emulator, remote)
    got = engine(remote).fresh("g1")
    assert got.access_token != grant.access_token
    assert got.refresh_token == grant.refresh_token  # Google's refresh answers carry none
    assert emulator.stats()["token"]["refresh_token"] == 1


@pytest.mark.parametrize("remote", ["memory", "sqlite"], indirect=True)
def test_invalid_grant_marks_the_grant_with_the_cause_and_keeps_the_refresh_token(
    emulator: Emulator, remote: Backend
) -> None:
    grants, _ = remote
    grant, _ = emulator_grant(emulator, remote)
    emulator.revoke_user("eve@example.com")
    with pytest.raises(ConsentRequired) as caught:
        engine(remote).fresh("g1")
    assert caught.value.likely_causes
    after = grants.read("g1")
    assert after is not None
    assert after.status == "needs_consent"
    assert after.status_reason is not None
    assert "invalid_grant" in after.status_reason
    assert after.refresh_token == grant.refresh_token
    assert grant.refresh_token is not None
    assert grant.refresh_token not in str(caught.value)
    with pytest.raises(ConsentRequired):
        engine(remote).fresh("g1")
    assert emulator.stats()["token"]["refresh_token"] == 1  # a dead grant is not sent again


# -- processes -------------------------------------------------------------------------------


class RenewedMeanwhile:
    """A waiting lock that another process always holds first: ``meanwhile`` is what that
    process does before it lets go."""

    def __init__(self, meanwhile: Callable[[], None]) -> None:
        self.meanwhile = meanwhile

    @contextlib.contextmanager
    def hold(self, name: str) -> Iterator[None]:
        yield

    @contextlib.contextmanager
    def first_or_wait(self, name: str) -> Iterator[bool]:
        self.meanwhile()
        yield False


def test_a_process_that_waited_opens_only_the_renewed_tokens(tmp_path: Path) -> None:
    grants = sqlite_grants(tmp_path, "127.0.0.1:9")
    grants.put(stored(expires_in=0))
    read = grants.read("g1")
    assert read is not None

    def other_process_renews() -> None:
        fresh = Token(
            access_token="ya29.FROM-THE-OTHER-PROCESS",
            expires_at=now() + timedelta(hours=1),
            scopes=SCOPES,
        )
        assert grants.swap(read, keep_refresh_token(read, fresh)) is not None
        # The client secret is damaged after it was read: reading it again would fail.
        with sqlite3.connect(grants.store.path) as db:
            db.execute("UPDATE accounts SET client_secret = 'v1:damaged' WHERE id = 'g1'")

    renewals = Renewals()
    engine = Engine(grants, lock=RenewedMeanwhile(other_process_renews), transport=no_wait)
    try:
        got = engine.fresh("g1", known=read, renew=renewals)
    finally:
        grants.store.close()

    assert got.access_token == "ya29.FROM-THE-OTHER-PROCESS"
    assert got.refresh_token == OLD_REFRESH
    assert got.id_token == ID_TOKEN
    assert got.client == read.client
    assert renewals.calls == 0


WORKER = textwrap.dedent(
    """
    import sys, time
    from datetime import UTC, datetime, timedelta
    from pathlib import Path
    import base64
    from gtoken.oauth import Token
    from gtoken.refresh import Engine
    from tests.refresh.backends import file_locks, sqlite_grants

    directory, key, log, start = Path(sys.argv[1]), sys.argv[2], sys.argv[3], float(sys.argv[4])
    grants = sqlite_grants(directory, "127.0.0.1:9", base64.b64decode(key))
    engine = Engine(grants, lock=file_locks(directory))

    def renew(grant):
        with open(log, "a") as f:
            f.write("renewed\\n")
        time.sleep(0.2)  # long enough for every other process to be waiting on the lock
        return Token(
            access_token=f"ya29.FROM-PROCESS-{sys.argv[5]}",
            expires_at=datetime.now(UTC) + timedelta(hours=1),
        )

    time.sleep(max(0.0, start - time.time()))
    print(engine.fresh("g1", renew=renew).access_token)
    """
)


def test_processes_sharing_a_sqlite_store_renew_once(tmp_path: Path) -> None:
    key = new_key()
    grants = sqlite_grants(tmp_path, "127.0.0.1:9", key)
    grants.put(stored(expires_in=0))
    grants.store.close()
    log = tmp_path / "renewals.log"
    start = time.time() + 1.0
    root = Path(__file__).resolve().parents[2]
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                WORKER,
                str(tmp_path),
                base64.b64encode(key).decode(),
                str(log),
                str(start),
                str(n),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=root,
            env={**os.environ, "PYTHONPATH": str(root)},
        )
        for n in range(4)
    ]
    results = [p.communicate(timeout=60) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err for _, err in results]
    tokens = {out.strip() for out, _ in results}
    assert len(tokens) == 1, tokens
    assert log.read_text().count("renewed") == 1
