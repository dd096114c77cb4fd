"""Exactly-once refresh, kept refresh tokens, and consent marking, against the emulator."""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from gtoken.accounts import AccountGrants, Accounts
from gtoken.emulator.client import Emulator
from gtoken.errors import ConsentRequired, ScopeNotGranted, ServerError
from gtoken.refresh import Engine, Flights
from gtoken.store import AccountRecord
from gtoken.store.format import STORE_FILE
from gtoken.store.keys import load_keyring
from gtoken.store.sqlite import SqliteStore
from gtoken.transport import RetryPolicy, Transport
from tests.support import login, no_wait, stored_login, token_from

GMAIL_RO = "https://www.googleapis.com/auth/gmail.readonly"
SCOPE = f"openid email {GMAIL_RO}"


def signed_in(emulator: Emulator, accounts: Accounts, secrets: dict[str, Any] | None = None):
    """An account stored as a login would store it; returns (client, the login's Token)."""
    return stored_login(emulator, accounts, SCOPE, client=secrets)


def refreshes(emulator: Emulator) -> int:
    return int(emulator.stats()["token"].get("refresh_token", 0))


def test_a_valid_token_is_handed_out_without_asking_google(emulator, accounts) -> None:
    _, token = signed_in(emulator, accounts)
    got = accounts.token()
    assert got.access_token == token.access_token
    assert refreshes(emulator) == 0


class CountingStore(SqliteStore):
    """The real store, counting the accounts it reads and opens."""

    gets = 0

    def get(self, id: str) -> AccountRecord | None:
        self.gets += 1
        return super().get(id)


def test_a_token_for_a_found_account_reads_it_no_more(emulator, accounts, env, clock) -> None:
    _, token = signed_in(emulator, accounts)
    home = accounts.home
    store = CountingStore(home / STORE_FILE, load_keyring(home, env, create=False))
    with Accounts(env=env, store=store, clock=clock, transport=no_wait) as counted:
        record = counted.find()
        assert store.gets == 1

        got = counted.fresh_token(record, scopes=[GMAIL_RO])

        assert store.gets == 1
        assert got.access_token == token.access_token


def test_an_expiring_token_is_refreshed_once_and_stored(emulator, accounts, clock, env) -> None:
    _, token = signed_in(emulator, accounts)
    clock.advance(3599 - 60)
    fresh = accounts.token()
    assert fresh.access_token != token.access_token
    assert fresh.refresh_token == token.refresh_token  # Google sent none; the old one is kept
    assert refreshes(emulator) == 1
    with Accounts(env=env, clock=clock) as again:  # another process would read the same
        assert again.token().access_token == fresh.access_token
    assert refreshes(emulator) == 1


def test_threads_share_one_refresh(emulator, accounts, clock) -> None:
    signed_in(emulator, accounts)
    clock.advance(3600)
    barrier = threading.Barrier(16)
    results: list[str] = []

    def ask() -> None:
        barrier.wait()
        results.append(accounts.token().access_token)

    threads = [threading.Thread(target=ask) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 16
    distinct = len(set(results))  # counted: a failure must not print the tokens
    assert distinct == 1, f"{distinct} different access tokens handed out"
    assert refreshes(emulator) == 1


class NoProcessLock:
    """The lock between processes taken away (each ``hold`` is granted at once, and counted), so
    that only the sharing between threads of one process is left to give one refresh."""

    def __init__(self) -> None:
        self.held = 0

    @contextlib.contextmanager
    def hold(self, name: str) -> Iterator[None]:
        self.held += 1
        yield


def test_threads_share_one_refresh_without_the_process_lock(emulator, accounts, clock) -> None:
    signed_in(emulator, accounts)
    clock.advance(3600)
    account = accounts.find().id
    lock = NoProcessLock()
    engine = Engine(
        AccountGrants(accounts.store, accounts.endpoints),
        lock=lock,
        transport=no_wait,
        clock=clock,
        flights=Flights(),  # this test's own, so that no other engine shares its flights
    )
    barrier = threading.Barrier(16)
    results: list[str] = []

    def ask() -> None:
        barrier.wait()
        results.append(engine.fresh(account).access_token or "")

    threads = [threading.Thread(target=ask) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    engine.close()
    assert len(results) == 16
    distinct = len(set(results))  # counted: a failure must not print the tokens
    assert distinct == 1, f"{distinct} different access tokens handed out"
    assert refreshes(emulator) == 1
    assert lock.held == 1  # one thread went for the lock; the others shared its answer


class RecordingTransport(httpx.BaseTransport):
    """Real HTTP to loopback addresses, every request's destination written down; anything
    else is written down and refused without leaving the machine."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self._http = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(f"{request.method} {request.url.copy_with(query=None)}")
        try:
            loopback = ipaddress.ip_address(request.url.host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise httpx.ConnectError("this test lets nothing leave the machine", request=request)
        return self._http.handle_request(request)

    def close(self) -> None:
        self._http.close()


def test_a_refresh_goes_to_the_accounts_own_token_endpoint_only(emulator, tmp_path, clock) -> None:
    """DESIGN invariant 8: an account whose client_secret.json names another issuer's token
    endpoint is refreshed there, never at Google's, even though gtoken is set for Google."""
    recorder = RecordingTransport()

    def transport() -> Transport:
        return Transport(RetryPolicy(sleep=lambda s: None), client=httpx.Client(transport=recorder))

    env = {"GTOKEN_HOME": str(tmp_path / "home")}  # no GTOKEN_EMULATOR_HOST: Google's endpoints
    with Accounts(env=env, clock=clock, transport=transport) as accounts:
        assert accounts.endpoints.emulator is None
        client, token = stored_login(emulator, accounts, SCOPE)
        assert client.token_uri == f"{emulator.url}/token"  # the issuer: not Google
        signing_in = len(recorder.sent)  # what checking the login's ID token asked the issuer
        clock.advance(3600)
        fresh = accounts.token()
    assert fresh.access_token != token.access_token
    assert recorder.sent[signing_in:] == [f"POST {client.token_uri}"]
    elsewhere = [sent for sent in recorder.sent if not sent.split()[1].startswith(emulator.url)]
    assert not elsewhere
    assert refreshes(emulator) == 1


STORM = textwrap.dedent(
    """
    import sys, threading, time
    from gtoken.accounts import Accounts
    offset, start = float(sys.argv[1]), float(sys.argv[2])
    env = {"GTOKEN_HOME": sys.argv[3], "GTOKEN_EMULATOR_HOST": sys.argv[4]}
    accounts = Accounts(env=env, clock=lambda: time.time() + offset)
    out = []
    def ask():
        out.append(accounts.token().access_token)
    threads = [threading.Thread(target=ask) for _ in range(4)]
    time.sleep(max(0.0, start - time.time()))
    for t in threads: t.start()
    for t in threads: t.join()
    print("\\n".join(out))
    """
)


def test_processes_share_one_refresh(emulator, accounts, clock, env) -> None:
    import time

    signed_in(emulator, accounts)
    clock.advance(3600)
    start = time.time() + 1.5
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                STORM,
                str(clock.offset),
                str(start),
                env["GTOKEN_HOME"],
                emulator.host,
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    tokens = [line for p in procs for line in p.communicate(timeout=60)[0].split()]
    assert all(p.returncode == 0 for p in procs)
    assert len(tokens) == 16
    distinct = len(set(tokens))  # counted: a failure must not print the tokens
    assert distinct == 1, f"{distinct} different access tokens handed out"
    assert refreshes(emulator) == 1


def test_invalid_grant_marks_the_account_and_keeps_the_refresh_token(
    emulator, accounts, clock
) -> None:
    _, token = signed_in(emulator, accounts)
    emulator.revoke_user("ada@example.com")
    clock.advance(3600)
    with pytest.raises(ConsentRequired) as caught:
        accounts.token()
    message = str(caught.value)
    assert "ada@example.com" in message
    assert "revoked" in message.lower()
    assert token.refresh_token is not None
    assert token.refresh_token not in message
    record = accounts.find()
    assert record.status == "needs_consent"
    assert record.refresh_token == token.refresh_token
    before = refreshes(emulator)
    with pytest.raises(ConsentRequired):
        accounts.token()
    assert refreshes(emulator) == before  # no second trip to Google for a known-dead grant


def test_transient_failures_change_nothing(emulator, accounts, clock) -> None:
    _, token = signed_in(emulator, accounts)
    clock.advance(3600)
    emulator.fault("token", status=503, count=4)
    with pytest.raises(ServerError):
        accounts.token()
    record = accounts.find()
    assert record.status == "active"
    assert record.refresh_token == token.refresh_token
    assert accounts.token().access_token != token.access_token  # and it recovers


def test_a_re_consent_without_refresh_token_keeps_the_stored_one(emulator, accounts) -> None:
    secrets = emulator.create_client(type="web", redirect_uris=["http://127.0.0.1:8765/"])
    client, first = signed_in(emulator, accounts, secrets)
    assert first.refresh_token
    again = token_from(login(emulator, secrets, SCOPE, access_type="offline"), accounts.clock())
    assert again.refresh_token is None  # web clients get one on first consent only
    accounts.add(client, again)
    assert accounts.find().refresh_token == first.refresh_token


def test_asking_for_a_scope_not_granted_names_it(emulator, accounts) -> None:
    signed_in(emulator, accounts)
    with pytest.raises(ScopeNotGranted) as caught:
        accounts.token(scopes=["gmail.readonly", "drive.file"])
    assert caught.value.missing == {"https://www.googleapis.com/auth/drive.file"}
    assert "drive.file" in str(caught.value)


def test_gtokens_own_http_traffic_logs_no_secret(emulator, accounts, clock, caplog) -> None:
    _, token = signed_in(emulator, accounts)
    clock.advance(3600)
    for name in ("httpx", "httpcore", "gtoken"):
        caplog.set_level(logging.DEBUG, logger=name)
    fresh = accounts.token()
    assert "HTTP Request: POST" in caplog.text  # the traffic was logged, and looked at
    secrets = emulator.issued() | {fresh.access_token, token.id_token or ""}
    leaked = [s for s in secrets if len(s) >= 16 and s in caplog.text]
    assert not leaked, f"{len(leaked)} secret(s) in the HTTP client's debug log"


def _revoked(emulator, accounts, clock, secrets) -> None:
    emulator.revoke_user("ada@example.com")


def _testing_week(emulator, accounts, clock, secrets) -> None:
    clock.advance(7 * 24 * 3600)


def _unused(emulator, accounts, clock, secrets) -> None:
    clock.advance(184 * 24 * 3600)


def _password(emulator, accounts, clock, secrets) -> None:
    emulator.change_password("ada@example.com")


def _hundred_more(emulator, accounts, clock, secrets) -> None:
    for _ in range(100):
        login(emulator, secrets, SCOPE)


def _session_control(emulator, accounts, clock, secrets) -> None:
    emulator.require_reauth("ada@example.com")


@pytest.mark.parametrize(
    ("cause", "status", "expected"),
    [
        (_revoked, "production", "removed this app's access"),
        (_testing_week, "testing", "time limit ended at"),
        (_unused, "production", "not used for 6 months"),
        (_password, "production", "changed their password"),
        (_hundred_more, "production", "more than 100 refresh tokens"),
        (_session_control, "production", "session control"),
    ],
    ids=["revoked", "testing-7-days", "unused-6-months", "password", "over-100", "invalid_rapt"],
)
def test_each_invalid_grant_cause_is_named(
    emulator, accounts, clock, cause, status, expected
) -> None:
    secrets = emulator.create_client(publishing_status=status)
    signed_in(emulator, accounts, secrets)
    cause(emulator, accounts, clock, secrets)
    clock.advance(3600)
    with pytest.raises(ConsentRequired) as caught:
        accounts.token()
    assert expected in str(caught.value)
    record = accounts.find()
    assert record.status == "needs_consent"
    assert expected in (record.status_reason or "")  # doctor and `gtoken accounts` show it
