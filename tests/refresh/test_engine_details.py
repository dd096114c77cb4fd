"""The engine's smaller promises, word for word: what a grant shows and hands out, why a grant
needs consent, how a refresh answer is read, and an engine's transport. No emulator: Google's
answers come from an httpx MockTransport handed to gtoken's own Transport."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from gtoken.errors import ConsentRequired, InvalidGrant, ProtocolError
from gtoken.oauth import ClientSecrets, Token
from gtoken.refresh import Engine, FileLocks, Flights, Grant, consent_reason, refresh_answer
from gtoken.transport import RetryPolicy, Transport
from tests.refresh.backends import MemoryGrants, MemoryLocks

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
CLIENT = ClientSecrets(
    kind="installed",
    client_id="client-1.apps.googleusercontent.com",
    client_secret="GOCSPX-client-secret-0123",
    token_uri="https://issuer.example/token",
)
GMAIL = "https://www.googleapis.com/auth/gmail.readonly"


def full_grant(**changes: object) -> Grant:
    values: dict[str, object] = {
        "key": "g1",
        "label": "eve@example.com",
        "access_token": "ya29.ACCESS-token-0123456789-wxyz",
        "expires_at": NOW,
        "scopes": frozenset({GMAIL}),
        "refresh_token": "1//REFRESH-token-0123456789-abcd",
        "refresh_token_expires_at": NOW + timedelta(days=7),
        "id_token": "eyJ.ID-token.sig",
        "client": CLIENT,
    }
    values.update(changes)
    return Grant(**values)  # type: ignore[arg-type]


def test_a_grant_hands_out_all_its_tokens() -> None:
    assert full_grant().token() == Token(
        access_token="ya29.ACCESS-token-0123456789-wxyz",
        expires_at=NOW,
        refresh_token="1//REFRESH-token-0123456789-abcd",
        scopes=frozenset({GMAIL}),
        id_token="eyJ.ID-token.sig",
        refresh_token_expires_at=NOW + timedelta(days=7),
    )
    with pytest.raises(ValueError, match=r"^the grant of eve@example\.com holds no access token$"):
        full_grant(access_token=None).token()


def test_a_grant_shows_fingerprints_word_for_word() -> None:
    assert repr(full_grant()) == (
        "Grant(key='g1', label='eve@example.com', status='active', access_token=…wxyz, "
        "expires_at=2026-05-01 12:00:00+00:00, refresh_token=…abcd)"
    )
    assert repr(full_grant(access_token=None, refresh_token=None)).endswith(
        "access_token=None, expires_at=2026-05-01 12:00:00+00:00, refresh_token=None)"
    )


def test_file_locks_show_their_directory() -> None:
    assert repr(FileLocks(Path("/run/gtoken/locks"))) == "FileLocks('/run/gtoken/locks')"


def refused(description: str | None, causes: tuple[str, ...]) -> InvalidGrant:
    return InvalidGrant(
        "refused",
        error="invalid_grant",
        description=description,
        status=400,
        likely_causes=causes,
    )


def test_consent_reasons_word_for_word() -> None:
    assert consent_reason(refused("Token has been expired or revoked.", ("one", "two"))) == (
        "Google refused its refresh token (invalid_grant: Token has been expired or revoked.). "
        "Likely causes: (1) one; (2) two"
    )
    assert consent_reason(refused(None, ()), "Google refused the assertion") == (
        "Google refused the assertion (invalid_grant)"
    )


def google(handler: Callable[[httpx.Request], httpx.Response]) -> Transport:
    return Transport(
        RetryPolicy(sleep=lambda s: None),
        client=httpx.Client(transport=httpx.MockTransport(handler)),
    )


def answering(status: int, body: object, content_type: str = "application/json") -> Transport:
    text = body if isinstance(body, str) else json.dumps(body)
    return google(
        lambda request: httpx.Response(status, text=text, headers={"content-type": content_type})
    )


def test_a_refresh_answer_without_scopes_keeps_the_grants() -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"access_token": "ya29.NEW", "expires_in": 3599})

    token = refresh_answer(google(handler), CLIENT, "1//REFRESH", now=NOW, scopes=[GMAIL])
    assert (token.access_token, token.scopes, token.refresh_token) == (
        "ya29.NEW",
        frozenset({GMAIL}),
        None,
    )
    assert [str(r.url) for r in sent] == ["https://issuer.example/token"]


def test_a_refused_refresh_is_read_as_a_refresh_with_its_time_limit() -> None:
    body = {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}
    with pytest.raises(InvalidGrant) as info:
        refresh_answer(
            answering(400, body),
            CLIENT,
            "1//REFRESH",
            now=NOW,
            scopes=[GMAIL],
            refresh_token_expires_at=NOW - timedelta(hours=1),
        )
    assert info.value.message.startswith(
        "Google refused the refresh token: the account needs consent again."
    )
    assert info.value.likely_causes[0].startswith(
        "the refresh token's time limit ended at 2026-05-01 11:00 UTC"
    )


def test_an_answer_that_is_not_json_names_its_content_type() -> None:
    with pytest.raises(ProtocolError) as info:
        refresh_answer(answering(200, "<html></html>", "text/html"), CLIENT, "1//R", now=NOW)
    assert "with a non-JSON body (text/html) instead of a token" in info.value.message


def test_grants_that_cannot_be_refreshed_say_why() -> None:
    grants = MemoryGrants()
    grants.put(full_grant(expires_at=NOW - timedelta(days=1), refresh_token=None))
    grants.put(full_grant(key="g2", expires_at=NOW - timedelta(days=1), client=None))
    engine = Engine(grants, lock=MemoryLocks(), transport=lambda: answering(500, {}))
    with pytest.raises(ConsentRequired) as info:
        engine.fresh("g1")
    assert (info.value.account, info.value.reason) == ("eve@example.com", "it has no refresh token")
    with pytest.raises(ConsentRequired) as info:
        engine.fresh("g2")
    assert (info.value.account, info.value.reason) == (
        "eve@example.com",
        "its store names no OAuth client to refresh with",
    )


def test_an_engine_without_a_transport_says_so_and_closes_what_it_made() -> None:
    bare = Engine(MemoryGrants(), lock=MemoryLocks())
    with pytest.raises(
        ValueError, match=r"^this engine was made without a transport to refresh with$"
    ):
        bare.transport()
    bare.close()  # nothing was made: nothing to close

    made: list[httpx.Client] = []

    def transport() -> Transport:
        client = httpx.Client()
        made.append(client)
        return Transport(client=client)

    engine = Engine(MemoryGrants(), lock=MemoryLocks(), transport=transport)
    assert engine.transport() is engine.transport()  # made once
    engine.close()
    assert len(made) == 1
    assert made[0].is_closed


# -- the engine's answers, word for word ------------------------------------------------------

FUTURE = datetime.now(UTC) + timedelta(hours=1)
PAST = datetime.now(UTC) - timedelta(hours=1)


def renewed(grant: Grant) -> Token:
    return Token(access_token="ya29.RENEWED", expires_at=FUTURE, scopes=grant.scopes)


def test_a_renewal_is_given_the_grant_as_read_under_the_lock() -> None:
    grants = MemoryGrants()
    grants.put(full_grant(expires_at=PAST))
    seen: list[Grant] = []

    def renew(grant: Grant) -> Token:
        seen.append(grant)
        return renewed(grant)

    assert (
        Engine(grants, lock=MemoryLocks()).fresh("g1", renew=renew).access_token == "ya29.RENEWED"
    )
    assert [(g.key, g.refresh_token) for g in seen] == [("g1", full_grant().refresh_token)]


def test_a_missing_grant_needs_consent_word_for_word() -> None:
    engine = Engine(MemoryGrants(), lock=MemoryLocks())
    with pytest.raises(ConsentRequired) as info:
        engine.fresh("g9", renew=renewed)
    assert (info.value.account, info.value.reason, info.value.hint) == (
        "g9",
        "it is not in the store (logged out?)",
        "Sign in with gtoken login.",
    )


def test_a_grant_that_needs_consent_is_named_by_its_label() -> None:
    grants = MemoryGrants()
    grants.put(full_grant(expires_at=PAST, status="needs_consent", status_reason="revoked"))
    with pytest.raises(ConsentRequired) as info:
        Engine(grants, lock=MemoryLocks()).fresh("g1", renew=renewed)
    assert (info.value.account, info.value.reason) == ("eve@example.com", "revoked")


class Shifting(MemoryGrants):
    """A store whose grant changes under every renewal (a sign-in that takes no lock)."""

    def swap(self, read: Grant, token: Token) -> Grant | None:
        return None


def test_a_grant_that_keeps_changing_is_a_retryable_error_word_for_word() -> None:
    from gtoken.errors import StoreError

    grants = Shifting()
    grants.put(full_grant(expires_at=PAST))
    with pytest.raises(StoreError) as info:
        Engine(grants, lock=MemoryLocks()).fresh("g1", renew=renewed)
    assert info.value.message == (
        "the grant of eve@example.com kept changing while it was being refreshed"
    )
    assert (info.value.hint, info.value.retryable) == ("Try again.", True)


def test_a_known_grant_spares_reading_the_store() -> None:
    known = full_grant(expires_at=FUTURE)
    engine = Engine(MemoryGrants(), lock=MemoryLocks())  # an empty store: reading would fail
    assert engine.fresh("g1", known=known, renew=renewed) is known
    with pytest.raises(ConsentRequired):
        engine.fresh("g2", known=known, renew=renewed)  # another grant's: the store is read


def test_a_token_valid_for_exactly_the_margin_is_renewed() -> None:
    from gtoken.refresh import usable

    grant = full_grant(expires_at=datetime(2026, 5, 1, 12, 0, tzinfo=UTC))
    at = grant.expires_at.timestamp() if grant.expires_at else 0.0
    assert usable(grant, 60, at - 61)
    assert not usable(grant, 60, at - 60)


class RecordingFlights(Flights):
    """Single flight as usual, with the name of every flight written down."""

    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []

    def run(self, key: str, fn: Callable[[], Any]) -> Any:
        self.names.append(key)
        return super().run(key, fn)


def test_each_grant_flies_alone() -> None:
    grants = MemoryGrants()
    grants.put(full_grant(expires_at=PAST))
    grants.put(full_grant(key="g2", expires_at=PAST))
    flights = RecordingFlights()
    engine = Engine(grants, lock=MemoryLocks(), flights=flights)
    engine.fresh("g1", renew=renewed)
    engine.fresh("g2", renew=renewed)
    assert flights.names == [f"{grants.name}\0'g1'", f"{grants.name}\0'g2'"]


def test_callers_that_join_a_flight_get_its_exception() -> None:
    flights = Flights()
    started, joined = threading.Event(), threading.Event()
    caught: list[BaseException] = []

    def fails() -> None:
        started.set()
        joined.wait(5)
        time.sleep(0.1)  # the follower is waiting on the flight by now
        raise RuntimeError("renewal failed")

    def follower() -> None:
        started.wait(5)
        joined.set()
        try:
            flights.run("k", lambda: None)
        except RuntimeError as exc:
            caught.append(exc)

    thread = threading.Thread(target=follower)
    thread.start()
    with pytest.raises(RuntimeError, match="renewal failed"):
        flights.run("k", fails)
    thread.join(10)
    assert [str(e) for e in caught] == ["renewal failed"]


def test_a_refused_refresh_marks_the_grant_and_names_it() -> None:
    grants = MemoryGrants()
    grants.put(full_grant(expires_at=PAST, refresh_token_expires_at=PAST))
    body = {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}
    engine = Engine(grants, lock=MemoryLocks(), transport=lambda: answering(400, body))
    with pytest.raises(ConsentRequired) as info:
        engine.fresh("g1")
    assert info.value.account == "eve@example.com"
    assert info.value.reason.startswith(
        "Google refused its refresh token (invalid_grant: Token has been expired or revoked.). "
        "Likely causes: (1) the refresh token's time limit ended at"
    )
    assert info.value.likely_causes[0].startswith("the refresh token's time limit ended at")
    assert grants.marks == 1


def test_a_refresh_answer_without_scopes_keeps_the_grants_scopes() -> None:
    grants = MemoryGrants()
    grants.put(full_grant(expires_at=PAST))
    engine = Engine(
        grants,
        lock=MemoryLocks(),
        transport=lambda: answering(200, {"access_token": "ya29.NEW", "expires_in": 3599}),
    )
    fresh = engine.fresh("g1")
    assert (fresh.access_token, fresh.scopes) == ("ya29.NEW", frozenset({GMAIL}))
