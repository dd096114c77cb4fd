"""Edges of the protocol code that a changed character would cross unseen: the last character
of a code, the exact set of sign-in scopes, a status of 300, a zero lifetime, a time zone."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any

import pytest

from gtoken.oauth import (
    AuthorizationRequest,
    ClientSecrets,
    InvalidGrant,
    OAuthError,
    Pkce,
    Token,
    parse_redirect,
    parse_revoke_response,
    parse_token_response,
)
from gtoken.oauth.error_bodies import ErrorContext, error_from_response
from gtoken.oauth.scopes import expand
from tests.oauth.samples import ACCESS_TOKEN, NOW, client

JSON = {"Content-Type": "application/json"}
SIGN_IN = frozenset(
    {
        "openid",
        "https://www.googleapis.com/auth/userinfo.email",
        "https://www.googleapis.com/auth/userinfo.profile",
    }
)
TESTING_CAUSE = "the app's OAuth consent screen is in Testing status"


def token_answer(**fields: Any) -> bytes:
    return json.dumps({"access_token": ACCESS_TOKEN, "expires_in": 3599, **fields}).encode()


def test_a_bare_code_keeps_its_last_character() -> None:
    assert parse_redirect(" '4/0AbcX' ", expected_state="s", allow_bare_code=True) == "4/0AbcX"


def test_an_authorization_request_shows_fingerprints() -> None:
    pkce = Pkce("v" * 40 + "WxYz")
    request = AuthorizationRequest(
        client=client(),
        redirect_uri="http://127.0.0.1:8765/",
        scopes=frozenset({"openid"}),
        state="state-0123456789-abcd",
        pkce=pkce,
    )
    assert repr(request) == (
        f"AuthorizationRequest(client_id={client().client_id!r}, "
        "redirect_uri='http://127.0.0.1:8765/', scopes=['openid'], state=…abcd, "
        f"pkce={pkce!r}, access_type='offline', prompt=())"
    )


def test_redirect_uris_are_kept_as_a_tuple() -> None:
    made = ClientSecrets(kind="web", client_id="a", client_secret="b", redirect_uris=["x"])  # type: ignore[arg-type]
    assert made.redirect_uris == ("x",)


def causes(**context: Any) -> tuple[str, ...]:
    error = error_from_response(
        400, '{"error": "invalid_grant"}', context=ErrorContext(request="refresh_token", **context)
    )
    assert isinstance(error, InvalidGrant)
    return error.likely_causes


def test_sign_in_scopes_alone_never_suggest_the_testing_limit() -> None:
    assert not any(TESTING_CAUSE in c for c in causes(scopes=SIGN_IN))
    assert any(TESTING_CAUSE in c for c in causes(scopes=SIGN_IN | {"https://mail.google.com/"}))


@pytest.fixture
def tokyo() -> Iterator[None]:
    import os

    old = os.environ.get("TZ")
    os.environ["TZ"] = "Asia/Tokyo"
    time.tzset()
    yield
    if old is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = old
    time.tzset()


def test_the_time_limit_is_said_in_utc_whatever_the_local_time_zone(tokyo: None) -> None:
    said = causes(refresh_token_expires_at=NOW, now=NOW)[0]
    assert "ended at 2026-05-01 12:00 UTC" in said


def test_a_short_lived_complaint_blames_the_clock() -> None:
    error = error_from_response(
        400,
        '{"error": "invalid_grant", "error_description": "Token must be a short-lived token"}',
        context=ErrorContext(request="jwt_bearer"),
    )
    assert isinstance(error, InvalidGrant)
    assert error.likely_causes[0].startswith("this machine's clock is wrong")


def test_invalid_grant_for_another_request_gets_the_general_summary() -> None:
    error = error_from_response(
        400, '{"error": "invalid_grant"}', context=ErrorContext(request="revoke")
    )
    assert error.message.startswith("Google refused the grant. Google answered HTTP 400")
    with pytest.raises(InvalidGrant) as info:
        parse_revoke_response(400, JSON, b'{"error": "invalid_grant"}')
    assert info.value.message.startswith("Google refused the grant. ")


def test_googles_words_keep_their_last_letter_and_the_subtype() -> None:
    error = error_from_response(
        400,
        '{"error": "invalid_request", "error_subtype": "bad_thing", '
        '"error_description": "Unknown parameter X"}',
    )
    assert error.message.endswith("invalid_request (bad_thing): Unknown parameter X.")
    assert error.subtype == "bad_thing"


def test_an_error_in_a_200_answer_is_read_as_the_request_it_answers() -> None:
    with pytest.raises(InvalidGrant) as info:
        parse_token_response(
            200, JSON, b'{"error": "invalid_grant"}', grant="authorization_code", now=NOW
        )
    assert info.value.message.startswith(
        "Google refused the authorization code. Google answered HTTP 200, invalid_grant."
    )


@pytest.mark.parametrize("status", [199, 300])
def test_only_2xx_answers_are_tokens(status: int) -> None:
    with pytest.raises(OAuthError):
        parse_token_response(status, JSON, token_answer(), grant="refresh_token", now=NOW)


def test_fields_that_are_not_text_or_are_empty_are_left_out() -> None:
    token = parse_token_response(
        200,
        JSON,
        token_answer(id_token=5, refresh_token=""),
        grant="authorization_code",
        now=NOW,
    )
    assert (token.id_token, token.refresh_token) == (None, None)


@pytest.mark.parametrize("lifetime", [0, 0.0, "0"])
def test_a_token_that_expires_at_once_is_still_a_token(lifetime: object) -> None:
    token = parse_token_response(
        200, JSON, token_answer(expires_in=lifetime), grant="refresh_token", now=NOW
    )
    assert token.expires_at == NOW


class NoOffset(tzinfo):
    """A time zone that does not know its offset: as good as none."""

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return None

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None

    def tzname(self, dt: datetime | None) -> str | None:
        return None


def test_a_time_zone_without_an_offset_is_refused() -> None:
    with pytest.raises(ValueError, match="expires_at must be timezone-aware"):
        Token(access_token=ACCESS_TOKEN, expires_at=datetime(2026, 5, 1, tzinfo=NoOffset()))
    assert Token(access_token=ACCESS_TOKEN, expires_at=NOW).expires_at == NOW.astimezone(UTC)


def test_a_malformed_https_scope_is_refused_as_a_url() -> None:
    with pytest.raises(ValueError, match="is not a valid scope URL") as info:
        expand("https://www.googleapis.com/auth/")
    assert str(info.value) == (
        "scope 'https://www.googleapis.com/auth/' is not a valid scope URL: expected one like "
        "'https://www.googleapis.com/auth/gmail.readonly'"
    )


def test_both_expiries_are_kept_in_utc() -> None:
    tokyo = timezone(timedelta(hours=9))
    token = Token(
        access_token=ACCESS_TOKEN,
        expires_at=datetime(2026, 5, 1, 21, 0, tzinfo=tokyo),
        refresh_token_expires_at=datetime(2026, 5, 8, 21, 0, tzinfo=tokyo),
    )
    assert token.expires_at is not None
    assert token.expires_at.tzinfo is UTC
    assert token.refresh_token_expires_at == datetime(2026, 5, 8, 12, 0, tzinfo=UTC)
    assert token.refresh_token_expires_at.tzinfo is UTC
