"""Which refresh token a grant keeps after Google's answer: the engine's one rule for it."""

from __future__ import annotations

from datetime import timedelta

from gtoken.oauth import Token
from gtoken.refresh import Grant, keep_refresh_token
from tests.oauth.samples import (
    ACCESS_TOKEN,
    EMAIL_URL,
    GMAIL_READONLY,
    NEW_REFRESH_TOKEN,
    NOW,
    REFRESH_TOKEN,
    jwt,
)

ID_TOKEN = jwt({"iss": "https://accounts.google.com", "sub": "1100", "email": "ann@example.com"})


def held(**fields: object) -> Grant:
    values: dict[str, object] = {
        "key": "acct-1",
        "label": "ann@example.com",
        "access_token": ACCESS_TOKEN,
        "expires_at": NOW,
        "refresh_token": REFRESH_TOKEN,
        "scopes": frozenset({GMAIL_READONLY}),
        "id_token": ID_TOKEN,
    }
    return Grant(**{**values, **fields})  # type: ignore[arg-type]


def test_an_answer_without_a_refresh_token_keeps_the_stored_one():
    limit = NOW + timedelta(days=7)
    answer = Token(
        access_token="ya29.a0NewAccessToken0123456789abcdefXYZ",
        expires_at=NOW + timedelta(hours=2),
        scopes=frozenset({GMAIL_READONLY}),
    )
    merged = keep_refresh_token(held(refresh_token_expires_at=limit), answer)
    assert merged.refresh_token == REFRESH_TOKEN
    assert merged.refresh_token_expires_at == limit
    assert merged.id_token == ID_TOKEN
    assert merged.access_token == answer.access_token
    assert merged.expires_at == answer.expires_at


def test_an_answer_that_states_the_time_limit_afresh_replaces_it():
    answer = Token(
        access_token="ya29.a0NewAccessToken0123456789abcdefXYZ",
        expires_at=NOW + timedelta(hours=1),
        refresh_token_expires_at=NOW + timedelta(days=7),
    )
    merged = keep_refresh_token(held(refresh_token_expires_at=NOW), answer)
    assert merged.refresh_token == REFRESH_TOKEN
    assert merged.refresh_token_expires_at == NOW + timedelta(days=7)


def test_an_answer_with_a_new_refresh_token_takes_it():
    answer = Token(
        access_token="ya29.a0NewAccessToken0123456789abcdefXYZ",
        expires_at=NOW + timedelta(hours=1),
        refresh_token=NEW_REFRESH_TOKEN,
        scopes=frozenset({EMAIL_URL}),
        id_token="new.id.token",
    )
    merged = keep_refresh_token(held(refresh_token_expires_at=NOW), answer)
    assert merged == answer
    assert merged.refresh_token_expires_at is None


def test_granted_scopes_come_from_the_answer():
    answer = Token(access_token="ya29.a0xyz", expires_at=NOW, scopes=frozenset({EMAIL_URL}))
    assert keep_refresh_token(held(), answer).scopes == {EMAIL_URL}


def test_a_grant_without_a_refresh_token_gets_none_from_an_answer_without_one():
    answer = Token(access_token="ya29.a0xyz", expires_at=NOW)
    assert keep_refresh_token(held(refresh_token=None), answer).refresh_token is None


def test_a_grant_repr_shows_fingerprints_only():
    text = repr(held())
    assert ACCESS_TOKEN not in text
    assert REFRESH_TOKEN not in text
    assert ID_TOKEN not in text


def test_a_new_refresh_token_without_an_id_token_keeps_the_stored_id_token():
    answer = Token(
        access_token="ya29.a0NewAccessToken0123456789abcdefXYZ",
        expires_at=NOW + timedelta(hours=1),
        refresh_token=NEW_REFRESH_TOKEN,
        scopes=frozenset({EMAIL_URL}),
    )
    merged = keep_refresh_token(held(), answer)
    assert (merged.refresh_token, merged.id_token) == (NEW_REFRESH_TOKEN, ID_TOKEN)
