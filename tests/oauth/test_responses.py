"""Google's answers to token, device and revoke requests, read into values or errors."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from gtoken.oauth import (
    AuthorizationPending,
    DeviceAccessDenied,
    InvalidClient,
    InvalidGrant,
    InvalidScope,
    ProtocolError,
    ServerError,
    SlowDown,
    Token,
    parse_device_authorization,
    parse_revoke_response,
    parse_token_response,
    scopes,
)
from gtoken.oauth.causes import PASSWORD, TESTING
from gtoken.oauth.responses import DEFAULT_LIFETIME
from tests.oauth.samples import (
    ACCESS_TOKEN,
    DEVICE_CODE,
    DRIVE_FILE,
    EMAIL_URL,
    GMAIL_READONLY,
    NEW_REFRESH_TOKEN,
    NOW,
    REFRESH_TOKEN,
    SECRETS,
    assert_no_secret,
    jwt,
)

JSON = {"Content-Type": "application/json; charset=utf-8"}
ID_TOKEN = jwt({"sub": "1100", "email": "ann@example.com"})


def answer(**fields: Any) -> bytes:
    return json.dumps(fields).encode()


def code_answer(**fields: Any) -> bytes:
    base = {
        "access_token": ACCESS_TOKEN,
        "expires_in": 3599,
        "refresh_token": REFRESH_TOKEN,
        "scope": f"{GMAIL_READONLY} openid {EMAIL_URL}",
        "token_type": "Bearer",
        "id_token": ID_TOKEN,
    }
    return answer(**{**base, **fields})


def exchange(body: bytes, status: int = 200, **kw: Any) -> Token:
    kw.setdefault("requested_scopes", {"gmail.readonly", "email"})
    return parse_token_response(status, JSON, body, grant="authorization_code", now=NOW, **kw)


def test_code_exchange_answer():
    token = exchange(code_answer())
    assert token == Token(
        access_token=ACCESS_TOKEN,
        expires_at=NOW + timedelta(seconds=3599),
        refresh_token=REFRESH_TOKEN,
        scopes=frozenset({GMAIL_READONLY, "openid", EMAIL_URL}),
        id_token=ID_TOKEN,
        token_type="Bearer",
    )


def test_testing_apps_refresh_token_limit_is_kept():
    token = exchange(code_answer(refresh_token_expires_in=604799))
    assert token.refresh_token_expires_at == NOW + timedelta(seconds=604799)


def test_granted_scopes_are_what_google_says_not_what_was_asked():
    token = exchange(
        code_answer(scope="email profile openid"),
        requested_scopes={"gmail.readonly", "email", "profile"},
    )
    assert token.scopes == {"email", "profile", "openid"}  # as the server wrote them
    assert scopes.missing(token.scopes, ["gmail.readonly", "email"]) == {GMAIL_READONLY}


def test_requested_scopes_only_when_google_says_none():
    assert exchange(code_answer(scope=None)).scopes == {GMAIL_READONLY, EMAIL_URL}
    assert exchange(code_answer(scope="  ")).scopes == {GMAIL_READONLY, EMAIL_URL}


def test_expires_in_as_a_string_of_digits():
    assert exchange(code_answer(expires_in="3599")).expires_at == NOW + timedelta(seconds=3599)
    assert exchange(code_answer(expires_in=3599.0)).expires_at == NOW + timedelta(seconds=3599)


def test_an_answer_without_expires_in_lasts_the_default_lifetime():
    token = exchange(code_answer(expires_in=None))
    assert token.expires_at == NOW + timedelta(seconds=DEFAULT_LIFETIME) == NOW + timedelta(hours=1)


@pytest.mark.parametrize("token_type", ["bearer", "BEARER", None])
def test_bearer_in_any_case_or_no_token_type_is_a_bearer_token(token_type):
    assert exchange(code_answer(token_type=token_type)).token_type == "Bearer"


@pytest.mark.parametrize(
    ("token_type", "says"),
    [("DPoP", "of type 'DPoP'"), ("mac", "of type 'mac'"), (7, "of type a int"), ("", "''")],
)
def test_a_token_type_other_than_bearer_is_refused(token_type, says):
    with pytest.raises(ProtocolError, match="not Bearer") as info:
        exchange(code_answer(token_type=token_type))
    assert says in str(info.value)
    assert_no_secret(str(info.value))


@pytest.mark.parametrize("value", ["soon", -1, True, "1e3", 3.5, [], "", "-5"])
def test_unusable_expires_in_is_a_clear_error(value):
    with pytest.raises(ProtocolError, match="expires_in") as info:
        exchange(code_answer(expires_in=value))
    assert_no_secret(str(info.value))


def test_unusable_refresh_token_limit():
    with pytest.raises(ProtocolError, match="refresh_token_expires_in"):
        exchange(code_answer(refresh_token_expires_in="a week"))


def test_no_access_token():
    with pytest.raises(ProtocolError, match="no access_token"):
        exchange(code_answer(access_token=None))


def test_success_that_is_not_json():
    page = b"<html>Sign in to the Wi-Fi</html>"
    with pytest.raises(ProtocolError, match=r"non-JSON body \(text/html\)"):
        parse_token_response(
            200, {"content-type": "text/html"}, page, grant="refresh_token", now=NOW
        )
    with pytest.raises(ProtocolError, match="non-JSON body instead of a token"):
        parse_token_response(200, {}, page, grant="refresh_token", now=NOW)
    with pytest.raises(ProtocolError, match="not a token"):
        parse_token_response(200, JSON, b"[]", grant="refresh_token", now=NOW)


def test_an_error_body_with_status_200_is_still_an_error():
    with pytest.raises(InvalidGrant):
        exchange(answer(error="invalid_grant", error_description="Bad Request"))


# ---------------------------------------------------------------------------- refresh

PREVIOUS = Token(
    access_token="ya29.a0OldAccessToken0123456789abcdefXYZ",
    expires_at=NOW - timedelta(minutes=1),
    refresh_token=REFRESH_TOKEN,
    scopes=frozenset({GMAIL_READONLY, EMAIL_URL, "openid"}),
    id_token=ID_TOKEN,
)


def refreshed(body: bytes, status: int = 200, previous: Token = PREVIOUS) -> Token:
    return parse_token_response(
        status,
        JSON,
        body,
        grant="refresh_token",
        now=NOW,
        requested_scopes=previous.scopes,
        refresh_token_expires_at=previous.refresh_token_expires_at,
    )


def test_a_refresh_answer_is_returned_as_google_gave_it():
    # Keeping the stored refresh token is the refresh engine's (tests/refresh/test_rules.py).
    token = refreshed(
        answer(
            access_token=ACCESS_TOKEN, expires_in=3599, scope=GMAIL_READONLY, token_type="Bearer"
        )
    )
    assert token.refresh_token is None
    assert token.id_token is None
    assert token.access_token == ACCESS_TOKEN
    assert token.scopes == {GMAIL_READONLY}


def test_refresh_takes_a_new_refresh_token():
    token = refreshed(
        answer(access_token=ACCESS_TOKEN, expires_in=3599, refresh_token=NEW_REFRESH_TOKEN)
    )
    assert token.refresh_token == NEW_REFRESH_TOKEN


def test_refresh_without_scope_keeps_the_previous_scopes():
    token = refreshed(answer(access_token=ACCESS_TOKEN, expires_in=3599))
    assert token.scopes == PREVIOUS.scopes


def test_refresh_error_names_the_causes_that_fit_the_token():
    with pytest.raises(InvalidGrant) as info:
        refreshed(
            answer(error="invalid_grant", error_description="Token has been expired or revoked."),
            400,
        )
    assert PASSWORD in info.value.likely_causes
    assert TESTING in info.value.likely_causes


def test_refresh_error_after_the_testing_limit():
    limited = Token(
        access_token="ya29.a0Old",
        expires_at=NOW,
        refresh_token=REFRESH_TOKEN,
        scopes=frozenset({DRIVE_FILE}),
        refresh_token_expires_at=NOW - timedelta(days=1),
    )
    with pytest.raises(InvalidGrant) as info:
        refreshed(answer(error="invalid_grant", error_description="Bad Request"), 400, limited)
    assert "time limit ended" in info.value.likely_causes[0]


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        (401, answer(error="invalid_client", error_description="Unauthorized"), InvalidClient),
        (400, answer(error="invalid_scope", error_description="Bad Request"), InvalidScope),
        (503, b"<html>503</html>", ServerError),
    ],
)
def test_refresh_errors(status, body, cls):
    with pytest.raises(cls):
        refreshed(body, status)


def test_no_secret_in_any_error_from_an_answer():
    leaky = answer(error="invalid_grant", error_description=" ".join(SECRETS))
    for grant in ("authorization_code", "refresh_token", "jwt_bearer", "device_code"):
        with pytest.raises(InvalidGrant) as info:
            parse_token_response(
                400, JSON, leaky, grant=grant, now=NOW, requested_scopes=PREVIOUS.scopes
            )
        assert_no_secret(str(info.value), repr(info.value), str(info.value.description))


# ---------------------------------------------------------------------------- device flow


def test_device_authorization_answer():
    body = answer(
        device_code=DEVICE_CODE,
        user_code="GQVQ-JKEC",
        verification_url="https://www.google.com/device",
        expires_in=1800,
        interval=5,
    )
    device = parse_device_authorization(200, JSON, body, now=NOW)
    assert (device.device_code, device.user_code, device.verification_url) == (
        DEVICE_CODE,
        "GQVQ-JKEC",
        "https://www.google.com/device",
    )
    assert device.expires_at == NOW + timedelta(minutes=30)
    assert device.interval == 5
    assert_no_secret(repr(device), str(device))
    assert "GQVQ-JKEC" in repr(device)


def test_device_authorization_with_rfc_spelling_and_default_interval():
    body = answer(
        device_code=DEVICE_CODE, user_code="A-B", verification_uri="https://x/d", expires_in=60
    )
    device = parse_device_authorization(200, JSON, body, now=NOW)
    assert (device.verification_url, device.interval) == ("https://x/d", 5)


def test_device_authorization_incomplete():
    with pytest.raises(ProtocolError, match="device-code answer"):
        parse_device_authorization(200, JSON, answer(device_code=DEVICE_CODE), now=NOW)


def test_device_authorization_refused_scope():
    body = answer(
        error="invalid_scope", error_description=f"Invalid device flow scope: {GMAIL_READONLY}"
    )
    with pytest.raises(InvalidScope) as info:
        parse_device_authorization(400, JSON, body, now=NOW, requested_scopes={"gmail.readonly"})
    assert "browser flow" in info.value.hint


@pytest.mark.parametrize(
    ("status", "error", "cls"),
    [
        (428, "authorization_pending", AuthorizationPending),
        (403, "slow_down", SlowDown),
        (403, "access_denied", DeviceAccessDenied),
    ],
)
def test_device_polling_answers(status, error, cls):
    body = answer(error=error, error_description="Precondition Required")
    with pytest.raises(cls):
        parse_token_response(status, JSON, body, grant="device_code", now=NOW)


# ---------------------------------------------------------------------------- revoke


def test_revoke_answers():
    assert parse_revoke_response(200, JSON, b"{}") == "revoked"
    already = answer(error="invalid_token", error_description="Token expired or revoked")
    assert parse_revoke_response(400, JSON, already) == "already_invalid"
    with pytest.raises(ServerError):
        parse_revoke_response(503, {}, b"")
