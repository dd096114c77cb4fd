"""Google's error bodies (GOOGLE_OAUTH_FACTS.md, "Errors") mapped onto gtoken's error tree."""

from __future__ import annotations

import json
import pickle
from datetime import timedelta
from typing import Any

import pytest

from gtoken import errors
from gtoken.errors import (
    AccessDenied,
    AuthorizationError,
    AuthorizationPending,
    ConfigError,
    ConsentRequired,
    DeviceAccessDenied,
    DeviceCodeExpired,
    DeviceFlowPending,
    GTokenError,
    InvalidClient,
    InvalidGrant,
    InvalidRequest,
    InvalidScope,
    InvalidToken,
    LoginTimeout,
    NetworkError,
    OAuthError,
    RedirectUriMismatch,
    ScopeNotGranted,
    ServerError,
    SlowDown,
    StateMismatch,
    StoreError,
    UnauthorizedClient,
    WrongKey,
)
from gtoken.oauth.causes import (
    ADMIN_POLICY,
    PASSWORD,
    REVOKED,
    SESSION_CONTROL,
    TESTING,
    TOO_MANY,
    UNUSED,
)
from gtoken.oauth.error_bodies import ERROR_CLASSES, ErrorContext, error_from_response
from tests.oauth.samples import (
    CLIENT_SECRET,
    DRIVE_FILE,
    EMAIL_URL,
    GMAIL_READONLY,
    NOW,
    REFRESH_TOKEN,
    SECRETS,
    assert_no_secret,
)

REFRESH = ErrorContext(request="refresh_token", scopes=frozenset({DRIVE_FILE}), now=NOW)
CODE = ErrorContext(request="authorization_code")
JWT = ErrorContext(request="jwt_bearer")
DEVICE = ErrorContext(request="device_code")


def body(error: str, description: str, **extra: Any) -> bytes:
    return json.dumps({"error": error, "error_description": description, **extra}).encode()


# Every row of the facts file's error table: (status, error, description, class).
GOOGLE_ERRORS = [
    (400, "invalid_grant", "Token has been expired or revoked.", InvalidGrant),
    (400, "invalid_grant", "Bad Request", InvalidGrant),
    (400, "invalid_grant", "Malformed auth code.", InvalidGrant),
    (400, "invalid_grant", "Missing code verifier.", InvalidGrant),
    (401, "invalid_client", "Unauthorized", InvalidClient),
    (401, "invalid_client", "The OAuth client was not found.", InvalidClient),
    (401, "unauthorized_client", "Unauthorized", UnauthorizedClient),
    (400, "redirect_uri_mismatch", "Bad Request", RedirectUriMismatch),
    (400, "invalid_scope", "Bad Request", InvalidScope),
    (
        400,
        "invalid_scope",
        "Some requested scopes were invalid. {invalid=[gmail.readonly]}",
        InvalidScope,
    ),
    (400, "invalid_grant", "reauth related error (invalid_rapt)", InvalidGrant),
    (400, "invalid_grant", "Invalid JWT Signature.", InvalidGrant),
    (400, "invalid_grant", "Invalid JWT: Failed audience check.", InvalidGrant),
    (428, "authorization_pending", "Precondition Required", AuthorizationPending),
    (403, "slow_down", "Forbidden", SlowDown),
    (403, "access_denied", "Forbidden", DeviceAccessDenied),
    (400, "invalid_scope", f"Invalid device flow scope: {GMAIL_READONLY}", InvalidScope),
    (400, "invalid_request", "client_secret is missing.", InvalidRequest),
    (400, "invalid_token", "Token expired or revoked", InvalidToken),
    (400, "invalid_token", "Invalid Value", InvalidToken),
    (500, "internal_failure", "Backend Error", ServerError),
    (503, "server_error", "Service unavailable", ServerError),
    (503, "temporarily_unavailable", "Try again", ServerError),
    (400, "expired_token", "Expired", DeviceCodeExpired),
]


@pytest.mark.parametrize(("status", "error", "description", "cls"), GOOGLE_ERRORS)
def test_google_error_bodies_map_to_their_class(status, error, description, cls):
    exc = error_from_response(status, body(error, description))
    assert type(exc) is cls
    assert (exc.status, exc.error, exc.description) == (status, error, description)
    assert error in str(exc)
    assert description.rstrip(".") in str(exc)
    assert exc.hint
    assert str(exc).endswith(exc.hint)


def test_the_table_maps_google_codes_to_classes():
    assert ERROR_CLASSES["invalid_grant"] is InvalidGrant
    assert ERROR_CLASSES["deleted_client"] is InvalidClient
    assert ERROR_CLASSES["admin_policy_enforced"] is InvalidGrant
    for code, cls in ERROR_CLASSES.items():
        assert issubclass(cls, OAuthError), code
        assert cls.summary, code
        assert cls.hint, code


def test_retryable_only_where_retrying_helps():
    assert error_from_response(503, body("server_error", "x")).retryable
    assert error_from_response(428, body("authorization_pending", "x")).retryable
    assert error_from_response(403, body("slow_down", "x")).retryable
    for status, error, description, _ in GOOGLE_ERRORS:
        exc = error_from_response(status, body(error, description))
        assert exc.retryable == isinstance(exc, ServerError | DeviceFlowPending)


def test_the_tree():
    assert issubclass(InvalidClient, ConfigError)
    assert issubclass(InvalidClient, OAuthError)
    assert issubclass(UnauthorizedClient, ConfigError)
    assert issubclass(DeviceAccessDenied, AccessDenied)
    assert issubclass(AccessDenied, AuthorizationError)
    assert issubclass(WrongKey, ConfigError)
    assert issubclass(WrongKey, StoreError)
    assert issubclass(StateMismatch, AuthorizationError)
    assert issubclass(LoginTimeout, AuthorizationError)
    assert issubclass(AuthorizationPending, DeviceFlowPending)
    assert issubclass(SlowDown, DeviceFlowPending)
    for name in errors.__all__:
        assert issubclass(getattr(errors, name), GTokenError)
        assert name in (errors.__doc__ or ""), f"{name} is not drawn in the tree"
    assert not issubclass(GTokenError, ValueError | TypeError)


# ------------------------------------------------------------------ invalid_grant's causes


def test_refresh_causes_for_a_drive_token():
    exc = error_from_response(
        400, body("invalid_grant", "Token has been expired or revoked."), context=REFRESH
    )
    assert isinstance(exc, InvalidGrant)
    assert exc.likely_causes == (REVOKED, TESTING, UNUSED, TOO_MANY)
    assert "needs consent again" in str(exc)
    for cause in exc.likely_causes:
        assert cause in str(exc)


def test_refresh_causes_with_gmail_scopes_name_the_password_change():
    context = ErrorContext(request="refresh_token", scopes=frozenset({GMAIL_READONLY}))
    exc = error_from_response(400, body("invalid_grant", "Bad Request"), context=context)
    assert isinstance(exc, InvalidGrant)
    assert PASSWORD in exc.likely_causes


def test_refresh_causes_put_the_ended_time_limit_first():
    context = ErrorContext(
        request="refresh_token",
        scopes=frozenset({DRIVE_FILE}),
        refresh_token_expires_at=NOW - timedelta(minutes=1),
        now=NOW,
    )
    exc = error_from_response(
        400, body("invalid_grant", "Token has been expired or revoked."), context=context
    )
    assert isinstance(exc, InvalidGrant)
    assert "time limit ended at 2026-05-01 11:59 UTC" in exc.likely_causes[0]
    assert "7 days" in exc.likely_causes[0]
    assert TESTING not in exc.likely_causes


def test_a_time_limit_still_ahead_is_not_a_cause():
    context = ErrorContext(
        request="refresh_token",
        scopes=frozenset({DRIVE_FILE}),
        refresh_token_expires_at=NOW + timedelta(days=3),
        now=NOW,
    )
    exc = error_from_response(400, body("invalid_grant", "Bad Request"), context=context)
    assert isinstance(exc, InvalidGrant)
    assert exc.likely_causes == (REVOKED, UNUSED, TOO_MANY)


def test_sign_in_scopes_alone_are_exempt_from_the_testing_limit():
    context = ErrorContext(request="refresh_token", scopes=frozenset({"openid", EMAIL_URL}))
    exc = error_from_response(400, body("invalid_grant", "Bad Request"), context=context)
    assert isinstance(exc, InvalidGrant)
    assert TESTING not in exc.likely_causes


def test_session_control_is_the_only_cause_of_invalid_rapt():
    raw = body("invalid_grant", "reauth related error (invalid_rapt)", error_subtype="invalid_rapt")
    exc = error_from_response(400, raw, context=REFRESH)
    assert isinstance(exc, InvalidGrant)
    assert exc.subtype == "invalid_rapt"
    assert exc.likely_causes == (SESSION_CONTROL,)


def test_admin_policy():
    exc = error_from_response(400, body("admin_policy_enforced", "Blocked"), context=REFRESH)
    assert isinstance(exc, InvalidGrant)
    assert exc.likely_causes == (ADMIN_POLICY,)
    assert "administrator" in exc.hint


@pytest.mark.parametrize(
    ("description", "expected"),
    [
        ("Malformed auth code.", "URL-encoded"),
        ("Missing code verifier.", "PKCE code verifier"),
        ("Bad Request", "already used"),
    ],
)
def test_code_exchange_causes(description, expected):
    exc = error_from_response(400, body("invalid_grant", description), context=CODE)
    assert isinstance(exc, InvalidGrant)
    assert any(expected in cause for cause in exc.likely_causes)
    assert "authorization code" in str(exc)
    assert "Start the login again" in exc.hint


@pytest.mark.parametrize(
    ("description", "expected"),
    [
        ("Invalid JWT Signature.", "key was deleted"),
        (
            "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable "
            "timeframe. Check your iat and exp values in the JWT claim.",
            "clock",
        ),
        ("Invalid JWT: Failed audience check.", "aud"),
        ("Invalid email or User ID", "sub"),
    ],
)
def test_service_account_causes(description, expected):
    exc = error_from_response(400, body("invalid_grant", description), context=JWT)
    assert isinstance(exc, InvalidGrant)
    assert any(expected in cause for cause in exc.likely_causes)
    assert "service account" in str(exc)


def test_device_code_invalid_grant():
    exc = error_from_response(400, body("invalid_grant", "Bad Request"), context=DEVICE)
    assert isinstance(exc, InvalidGrant)
    assert exc.likely_causes == ("the device code was already used or has expired",)


def test_delegation_not_allowed_points_at_the_admin_console():
    description = (
        "Client is unauthorized to retrieve access tokens using this method, or client not "
        "authorized for any of the scopes requested."
    )
    exc = error_from_response(401, body("unauthorized_client", description), context=JWT)
    assert isinstance(exc, UnauthorizedClient)
    assert "Domain-wide delegation" in exc.hint
    plain = error_from_response(401, body("unauthorized_client", "Unauthorized"), context=REFRESH)
    assert "client_secret.json" in plain.hint


def test_device_flow_scope_hint():
    raw = body("invalid_scope", f"Invalid device flow scope: {GMAIL_READONLY}")
    exc = error_from_response(400, raw, context=ErrorContext(request="device_authorization"))
    assert isinstance(exc, InvalidScope)
    assert "browser flow" in exc.hint


def test_revoking_a_revoked_token():
    raw = body("invalid_token", "Token expired or revoked")
    exc = error_from_response(400, raw, context=ErrorContext(request="revoke"))
    assert isinstance(exc, InvalidToken)
    assert "already revoked" in str(exc)


# ------------------------------------------------------------------ bodies that are not Google's


def test_html_502_page_is_a_retryable_server_error():
    page = b"<!DOCTYPE html><html><title>Error 502 (Server Error)!!1</title></html>"
    exc = error_from_response(502, page)
    assert type(exc) is ServerError
    assert exc.retryable
    assert exc.error is None
    assert "HTTP 502 with an HTML page" in str(exc)
    assert "DOCTYPE" not in str(exc)


@pytest.mark.parametrize(
    ("status", "raw", "cls", "shape"),
    [
        (404, b"<html>Not Found</html>", OAuthError, "an HTML page"),
        (503, b"", ServerError, "an empty body"),
        (429, b'{"message": "slow"}', ServerError, "without an error code"),
        (408, b"timeout", ServerError, "a non-JSON body"),
        (400, b"[1, 2]", OAuthError, "not an object"),
        (400, b"\xff\xfe garbage", OAuthError, "a non-JSON body"),
        (400, b'{"error": "weird_new_code"}', OAuthError, "weird_new_code"),
    ],
)
def test_other_bodies(status, raw, cls, shape):
    exc = error_from_response(status, raw)
    assert type(exc) is cls
    assert shape in str(exc)
    assert exc.retryable == (cls is ServerError)


def test_google_api_error_shape():
    raw = json.dumps(
        {
            "error": {
                "code": 401,
                "message": "Request had invalid authentication credentials.",
                "status": "UNAUTHENTICATED",
            }
        }
    )
    exc = error_from_response(401, raw)
    assert type(exc) is OAuthError
    assert exc.error == "UNAUTHENTICATED"
    assert exc.description == "Request had invalid authentication credentials."


def test_secrets_in_a_body_never_reach_the_error():
    raw = json.dumps(
        {
            "error": CLIENT_SECRET,
            "error_description": " ".join(f"bad {secret}," for secret in SECRETS),
            "error_subtype": REFRESH_TOKEN,
        }
    )
    exc = error_from_response(400, raw, context=REFRESH)
    assert exc.error is None
    assert exc.subtype is None
    assert exc.description is not None
    assert "…" in exc.description
    assert_no_secret(str(exc), repr(exc), exc.description, exc.hint, repr(exc.args))
    grant = error_from_response(400, body("invalid_grant", f"Token {REFRESH_TOKEN} was revoked"))
    assert isinstance(grant, InvalidGrant)
    assert_no_secret(str(grant), repr(grant), *grant.likely_causes)
    assert REFRESH_TOKEN[-4:] in str(grant)


def test_long_descriptions_are_cut():
    exc = error_from_response(400, body("invalid_request", "x" * 5000))
    assert exc.description is not None
    assert len(exc.description) == 300


# ------------------------------------------------------------------ errors raised by gtoken itself


def test_errors_pickle_with_their_attributes():
    exc = error_from_response(400, body("invalid_grant", "Bad Request"), context=REFRESH)
    assert isinstance(exc, InvalidGrant)
    copy = pickle.loads(pickle.dumps(exc))
    assert type(copy) is InvalidGrant
    assert copy.likely_causes == exc.likely_causes
    assert (copy.status, copy.error, str(copy)) == (400, "invalid_grant", str(exc))
    consent = pickle.loads(pickle.dumps(ConsentRequired("ann@example.com", "revoked")))
    assert consent.account == "ann@example.com"


def test_consent_required():
    exc = ConsentRequired(
        "ann@example.com", "Google refused the refresh token", likely_causes=[REVOKED]
    )
    assert exc.account == "ann@example.com"
    assert exc.reason == "Google refused the refresh token"
    assert exc.likely_causes == (REVOKED,)
    assert str(exc).startswith("ann@example.com needs consent again: Google refused")
    assert "gtoken login" in str(exc)
    assert not exc.retryable


def test_scope_not_granted_names_the_missing_scopes():
    exc = ScopeNotGranted({GMAIL_READONLY}, account="ann@example.com", granted={EMAIL_URL})
    assert exc.missing == frozenset({GMAIL_READONLY})
    assert exc.granted == frozenset({EMAIL_URL})
    assert GMAIL_READONLY in str(exc)
    assert "ann@example.com" in str(exc)
    assert "ticked" in exc.hint


def test_plain_errors_carry_hint_and_retryable():
    assert NetworkError("connection refused").retryable
    assert not StoreError("row 3 is damaged").retryable
    assert "GTOKEN_KEY" in WrongKey("the key does not decrypt the store").hint
    custom = ConfigError("bad", hint="Do this.", retryable=True)
    assert (str(custom), custom.retryable, custom.message) == ("bad. Do this.", True, "bad")
    assert str(GTokenError("plain")) == "plain"
    assert str(NetworkError("no route", hint="Check it.")) == "no route. Check it."
