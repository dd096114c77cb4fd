"""The engine's smaller promises, word for word: what a grant shows and hands out, why a grant
needs consent, how a refresh answer is read, and an engine's transport. No emulator: Google's
answers come from an httpx MockTransport handed to gtoken's own Transport."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from gtoken.errors import ConsentRequired, InvalidGrant, ProtocolError
from gtoken.oauth import ClientSecrets, Token
from gtoken.refresh import Engine, FileLocks, Grant, consent_reason, refresh_answer
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
