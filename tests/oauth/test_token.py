"""Token values: expiry, fingerprints, ID token claims."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone

import pytest

from gtoken.oauth import ProtocolError, Token, id_token_claims
from tests.oauth.samples import (
    ACCESS_TOKEN,
    EMAIL_URL,
    GMAIL_READONLY,
    NOW,
    REFRESH_TOKEN,
    assert_no_secret,
    jwt,
)

ID_TOKEN = jwt({"iss": "https://accounts.google.com", "sub": "1100", "email": "ann@example.com"})


def token(**fields) -> Token:
    values = {
        "access_token": ACCESS_TOKEN,
        "expires_at": NOW + timedelta(seconds=3599),
        "refresh_token": REFRESH_TOKEN,
        "scopes": frozenset({GMAIL_READONLY}),
        "id_token": ID_TOKEN,
    }
    return Token(**{**values, **fields})


def test_expires_within():
    t = token()
    assert not t.expires_within(60, now=NOW)
    assert t.expires_within(3600, now=NOW)
    assert t.expires_within(0, now=NOW + timedelta(seconds=3599))
    assert not t.expires_within(0, now=NOW + timedelta(seconds=3598))


def test_unknown_expiry_counts_as_expired():
    assert token(expires_at=None).expires_within(0, now=NOW)


def test_times_are_aware_and_utc():
    paris = timezone(timedelta(hours=2))
    t = token(expires_at=datetime(2026, 5, 1, 14, 0, tzinfo=paris))
    assert t.expires_at == datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    assert t.expires_at is not None
    assert t.expires_at.tzinfo is UTC
    with pytest.raises(ValueError, match="timezone-aware"):
        token(expires_at=datetime(2026, 5, 1, 12, 0))
    with pytest.raises(ValueError, match="timezone-aware"):
        token().expires_within(0, now=datetime(2026, 5, 1))
    with pytest.raises(TypeError):
        token(refresh_token_expires_at="2026-05-08")


def test_scopes_are_kept_as_the_server_wrote_them():
    assert token(scopes={" email", "openid", "email"}).scopes == {"email", "openid"}
    assert token(scopes=[EMAIL_URL, "read"]).scopes == {EMAIL_URL, "read"}
    with pytest.raises(TypeError):
        token(scopes="email")
    with pytest.raises(ValueError, match="access_token"):
        token(access_token="")


def test_repr_shows_fingerprints_only():
    t = token()
    for text in (repr(t), str(t)):
        assert_no_secret(text)
        assert ID_TOKEN not in text
        assert "…6789" in text
        assert "…_xyz" in text
        assert GMAIL_READONLY in text


def test_tokens_are_frozen_values():
    with pytest.raises(dataclasses.FrozenInstanceError):
        token().access_token = "x"  # type: ignore[misc]
    assert token() == token()
    assert hash(token()) == hash(token())


def test_id_token_claims():
    assert id_token_claims(ID_TOKEN) == {
        "iss": "https://accounts.google.com",
        "sub": "1100",
        "email": "ann@example.com",
    }


@pytest.mark.parametrize(
    "garbage",
    ["", "not-a-jwt", "a.b", "a..c", "a.!!!!.c", "a.bm90IGpzb24.c", "a.WzFd.c", "a.é.c", "a.b.c.d"],
)
def test_id_token_garbage(garbage):
    with pytest.raises(ProtocolError, match="ID token"):
        id_token_claims(garbage)


def test_id_token_errors_show_no_token():
    secret = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMTAwIiwiZW1haWwiOiJ.Zm9vYmFyYmF6cXV4"
    with pytest.raises(ProtocolError) as info:
        id_token_claims(secret)
    assert secret not in str(info.value)
