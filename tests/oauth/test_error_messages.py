"""Every message gtoken makes of Google's error answers, word for word.

Each case is one branch of the reading of an error body (gtoken.oauth.error_bodies) and of the
likely causes of an ``invalid_grant`` (gtoken.oauth.causes): the class, whether retrying can
help, the fields kept, the message and the hint. These are what a person reads when a login or a
refresh fails, so any change to them shows here first.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from gtoken import errors
from gtoken.oauth.error_bodies import ErrorContext, error_from_response

GMAIL = "https://www.googleapis.com/auth/gmail.readonly"
DRIVE_FILE = "https://www.googleapis.com/auth/drive.file"
EMAIL = "https://www.googleapis.com/auth/userinfo.email"
T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
SECRET = "ya29.a0AfB_byC1x2Y3z4ExampleAccessTokenValue0123456789"

# A refused refresh with nothing pointing to Testing status, Gmail scopes or a passed time
# limit: only the causes every refresh token shares.
REFRESH_REFUSED_USUAL_CAUSES = (
    errors.InvalidGrant,
    False,
    ("invalid_grant", None, None),
    (
        "Google refused the refresh token: the account needs consent again. Google answered "
        "HTTP 400, invalid_grant. Likely causes: (1) the user removed this app's access "
        "(Google Account > Security > Third-party connections); (2) the refresh token was "
        "not used for 6 months; (3) more than 100 refresh tokens were issued to this client "
        "for this Google account, and Google dropped the oldest."
    ),
    "Sign in again to give consent (for example: gtoken login).",
)

# A refused device code, whatever else the body carries.
DEVICE_CODE_REFUSED = (
    errors.InvalidGrant,
    False,
    ("invalid_grant", None, None),
    (
        "Google refused the device code. Google answered HTTP 400, invalid_grant. Likely "
        "causes: (1) the device code was already used or has expired."
    ),
    "Start the device sign-in again.",
)

# A JSON error body whose "error" is no error code: it is not repeated back.
NO_ERROR_CODE = (
    errors.OAuthError,
    False,
    (None, None, None),
    (
        "Google refused the request. Google answered HTTP 400 with a JSON body without an "
        "error code."
    ),
    "Check the message above; if it persists, report it with this message.",
)

# invalid_request with no description worth showing.
MALFORMED_WITHOUT_DESCRIPTION = (
    errors.InvalidRequest,
    False,
    ("invalid_request", None, None),
    "Google refused the request as malformed. Google answered HTTP 400, invalid_request.",
    "Check the message above; if it persists, report it with this message.",
)

CASES: list[tuple[Any, ...]] = [
    (
        "refresh-revoked-gmail",
        400,
        '{"error": "invalid_grant", "error_description": "Token has been expired or revoked."}',
        {"request": "refresh_token", "scopes": frozenset({GMAIL})},
        errors.InvalidGrant,
        False,
        ("invalid_grant", None, "Token has been expired or revoked."),
        (
            "Google refused the refresh token: the account needs consent again. Google answered "
            "HTTP 400, invalid_grant: Token has been expired or revoked. Likely causes: (1) the "
            "user removed this app's access (Google Account > Security > Third-party "
            "connections); (2) the app's OAuth consent screen is in Testing status, where "
            "refresh tokens last 7 days unless the only scopes are openid, email and profile "
            "(publish the app for lasting tokens); (3) the user changed their password, which "
            "ends refresh tokens with Gmail scopes; (4) the refresh token was not used for 6 "
            "months; (5) more than 100 refresh tokens were issued to this client for this "
            "Google account, and Google dropped the oldest."
        ),
        "Sign in again to give consent (for example: gtoken login).",
    ),
    (
        "refresh-no-context",
        400,
        '{"error": "invalid_grant", "error_description": "Bad Request"}',
        {},
        errors.InvalidGrant,
        False,
        ("invalid_grant", None, "Bad Request"),
        (
            "Google refused the refresh token: the account needs consent again. Google answered "
            "HTTP 400, invalid_grant: Bad Request. Likely causes: (1) the user removed this "
            "app's access (Google Account > Security > Third-party connections); (2) the app's "
            "OAuth consent screen is in Testing status, where refresh tokens last 7 days unless "
            "the only scopes are openid, email and profile (publish the app for lasting "
            "tokens); (3) the refresh token was not used for 6 months; (4) more than 100 "
            "refresh tokens were issued to this client for this Google account, and Google "
            "dropped the oldest."
        ),
        "Sign in again to give consent (for example: gtoken login).",
    ),
    (
        "refresh-sign-in-only",
        400,
        '{"error": "invalid_grant"}',
        {"request": "refresh_token", "scopes": frozenset({EMAIL, "openid"})},
        *REFRESH_REFUSED_USUAL_CAUSES,
    ),
    (
        "refresh-time-limit-passed",
        400,
        '{"error": "invalid_grant", "error_description": "Token has been expired or revoked."}',
        {
            "request": "refresh_token",
            "scopes": frozenset({DRIVE_FILE}),
            "refresh_token_expires_at": T0,
            "now": T0,
        },
        errors.InvalidGrant,
        False,
        ("invalid_grant", None, "Token has been expired or revoked."),
        (
            "Google refused the refresh token: the account needs consent again. Google answered "
            "HTTP 400, invalid_grant: Token has been expired or revoked. Likely causes: (1) the "
            "refresh token's time limit ended at 2026-05-01 12:00 UTC: apps in Testing status "
            "get refresh tokens that last 7 days (as does access granted for a set time); (2) "
            "the user removed this app's access (Google Account > Security > Third-party "
            "connections); (3) the refresh token was not used for 6 months; (4) more than 100 "
            "refresh tokens were issued to this client for this Google account, and Google "
            "dropped the oldest."
        ),
        "Sign in again to give consent (for example: gtoken login).",
    ),
    (
        "refresh-time-limit-ahead",
        400,
        '{"error": "invalid_grant"}',
        {
            "request": "refresh_token",
            "scopes": frozenset({DRIVE_FILE}),
            "refresh_token_expires_at": T0,
            "now": T0 - timedelta(seconds=1),
        },
        *REFRESH_REFUSED_USUAL_CAUSES,
    ),
    (
        "refresh-time-limit-no-now",
        400,
        '{"error": "invalid_grant"}',
        {
            "request": "refresh_token",
            "refresh_token_expires_at": datetime(
                2026, 5, 1, 14, 30, tzinfo=timezone(timedelta(hours=2))
            ),
        },
        errors.InvalidGrant,
        False,
        ("invalid_grant", None, None),
        (
            "Google refused the refresh token: the account needs consent again. Google answered "
            "HTTP 400, invalid_grant. Likely causes: (1) the refresh token's time limit ended "
            "at 2026-05-01 12:30 UTC: apps in Testing status get refresh tokens that last 7 "
            "days (as does access granted for a set time); (2) the user removed this app's "
            "access (Google Account > Security > Third-party connections); (3) the refresh "
            "token was not used for 6 months; (4) more than 100 refresh tokens were issued to "
            "this client for this Google account, and Google dropped the oldest."
        ),
        "Sign in again to give consent (for example: gtoken login).",
    ),
    (
        "rapt-subtype",
        400,
        (
            '{"error": "invalid_grant", "error_description": "reauth related error", '
            '"error_subtype": "invalid_rapt"}'
        ),
        {"request": "refresh_token"},
        errors.InvalidGrant,
        False,
        ("invalid_grant", "invalid_rapt", "reauth related error"),
        (
            "Google refused the refresh token: the account needs consent again. Google answered "
            "HTTP 400, invalid_grant (invalid_rapt): reauth related error. Likely causes: (1) "
            "the Google Workspace session control policy requires the user to sign in again "
            "(invalid_rapt)."
        ),
        "Sign in again to give consent (for example: gtoken login).",
    ),
    (
        "rapt-description",
        400,
        '{"error": "invalid_grant", "error_description": "reauth related error (invalid_rapt)"}',
        {"request": "refresh_token"},
        errors.InvalidGrant,
        False,
        ("invalid_grant", None, "reauth related error (invalid_rapt)"),
        (
            "Google refused the refresh token: the account needs consent again. Google answered "
            "HTTP 400, invalid_grant: reauth related error (invalid_rapt). Likely causes: (1) "
            "the Google Workspace session control policy requires the user to sign in again "
            "(invalid_rapt)."
        ),
        "Sign in again to give consent (for example: gtoken login).",
    ),
    (
        "admin-policy",
        400,
        '{"error": "admin_policy_enforced", "error_description": "Access restricted by policy."}',
        {"request": "refresh_token"},
        errors.InvalidGrant,
        False,
        ("admin_policy_enforced", None, "Access restricted by policy."),
        (
            "Google refused the refresh token: the account needs consent again. Google answered "
            "HTTP 400, admin_policy_enforced: Access restricted by policy. Likely causes: (1) a "
            "Google Workspace administrator restricted this app or these scopes."
        ),
        "Ask the Google Workspace administrator to allow this app, then sign in again.",
    ),
    (
        "code-malformed",
        400,
        '{"error": "invalid_grant", "error_description": "Malformed auth code."}',
        {"request": "authorization_code"},
        errors.InvalidGrant,
        False,
        ("invalid_grant", None, "Malformed auth code."),
        (
            "Google refused the authorization code. Google answered HTTP 400, invalid_grant: "
            "Malformed auth code. Likely causes: (1) the code was mangled, often pasted still "
            "URL-encoded (4%2F... instead of 4/...)."
        ),
        "Start the login again: a code works once, within minutes, for its own login.",
    ),
    (
        "code-missing-verifier",
        400,
        '{"error": "invalid_grant", "error_description": "Missing code verifier."}',
        {"request": "authorization_code"},
        errors.InvalidGrant,
        False,
        ("invalid_grant", None, "Missing code verifier."),
        (
            "Google refused the authorization code. Google answered HTTP 400, invalid_grant: "
            "Missing code verifier. Likely causes: (1) the code was sent without the PKCE code "
            "verifier of its login."
        ),
        "Start the login again: a code works once, within minutes, for its own login.",
    ),
    (
        "code-used",
        400,
        '{"error": "invalid_grant", "error_description": "Bad Request"}',
        {"request": "authorization_code"},
        errors.InvalidGrant,
        False,
        ("invalid_grant", None, "Bad Request"),
        (
            "Google refused the authorization code. Google answered HTTP 400, invalid_grant: "
            "Bad Request. Likely causes: (1) the code was already used (a code works once); (2) "
            "the code expired (codes last a few minutes); (3) the PKCE code verifier is not the "
            "one of the login that produced the code."
        ),
        "Start the login again: a code works once, within minutes, for its own login.",
    ),
    (
        "jwt-signature",
        400,
        '{"error": "invalid_grant", "error_description": "Invalid JWT Signature."}',
        {"request": "jwt_bearer"},
        errors.InvalidGrant,
        False,
        ("invalid_grant", None, "Invalid JWT Signature."),
        (
            "Google refused the service account's signed assertion (JWT). Google answered HTTP "
            "400, invalid_grant: Invalid JWT Signature. Likely causes: (1) the service-account "
            "key was deleted or disabled, or the key file belongs to another service account."
        ),
        "Check the service account, its key file and this machine's clock, then retry.",
    ),
    (
        "jwt-clock",
        400,
        (
            '{"error": "invalid_grant", "error_description": "Invalid JWT: Token must be a '
            "short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and "
            'exp values in the JWT claim."}'
        ),
        {"request": "jwt_bearer"},
        errors.InvalidGrant,
        False,
        (
            "invalid_grant",
            None,
            (
                "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable "
                "timeframe. Check your iat and exp values in the JWT claim."
            ),
        ),
        (
            "Google refused the service account's signed assertion (JWT). Google answered HTTP "
            "400, invalid_grant: Invalid JWT: Token must be a short-lived token (60 minutes) "
            "and in a reasonable timeframe. Check your iat and exp values in the JWT claim. "
            "Likely causes: (1) this machine's clock is wrong: the JWT's iat and exp must lie "
            "within an hour of Google's time."
        ),
        "Check the service account, its key file and this machine's clock, then retry.",
    ),
    (
        "jwt-iat",
        400,
        '{"error": "invalid_grant", "error_description": "iat is in the future"}',
        {"request": "jwt_bearer"},
        errors.InvalidGrant,
        False,
        ("invalid_grant", None, "iat is in the future"),
        (
            "Google refused the service account's signed assertion (JWT). Google answered HTTP "
            "400, invalid_grant: iat is in the future. Likely causes: (1) this machine's clock "
            "is wrong: the JWT's iat and exp must lie within an hour of Google's time."
        ),
        "Check the service account, its key file and this machine's clock, then retry.",
    ),
    (
        "jwt-audience",
        400,
        '{"error": "invalid_grant", "error_description": "Invalid JWT audience."}',
        {"request": "jwt_bearer"},
        errors.InvalidGrant,
        False,
        ("invalid_grant", None, "Invalid JWT audience."),
        (
            "Google refused the service account's signed assertion (JWT). Google answered HTTP "
            "400, invalid_grant: Invalid JWT audience. Likely causes: (1) the JWT's aud claim "
            "is not the token endpoint's URL."
        ),
        "Check the service account, its key file and this machine's clock, then retry.",
    ),
    (
        "jwt-other",
        400,
        '{"error": "invalid_grant", "error_description": "Invalid grant: account not found"}',
        {"request": "jwt_bearer"},
        errors.InvalidGrant,
        False,
        ("invalid_grant", None, "Invalid grant: account not found"),
        (
            "Google refused the service account's signed assertion (JWT). Google answered HTTP "
            "400, invalid_grant: Invalid grant: account not found. Likely causes: (1) the "
            "service account was deleted or disabled; (2) the user named in sub (domain-wide "
            "delegation) does not exist."
        ),
        "Check the service account, its key file and this machine's clock, then retry.",
    ),
    (
        "device-code",
        400,
        '{"error": "invalid_grant"}',
        {"request": "device_code"},
        *DEVICE_CODE_REFUSED,
    ),
    (
        "jwt-unauthorized",
        401,
        (
            '{"error": "unauthorized_client", "error_description": "Client is unauthorized to '
            "retrieve access tokens using this method, or client not authorized for any of the "
            'scopes requested."}'
        ),
        {"request": "jwt_bearer"},
        errors.UnauthorizedClient,
        False,
        (
            "unauthorized_client",
            None,
            (
                "Client is unauthorized to retrieve access tokens using this method, or client not "
                "authorized for any of the scopes requested."
            ),
        ),
        (
            "Google says this client may not get tokens this way. Google answered HTTP 401, "
            "unauthorized_client: Client is unauthorized to retrieve access tokens using this "
            "method, or client not authorized for any of the scopes requested."
        ),
        (
            "In the Google Workspace Admin console (Security > API controls > Domain-wide "
            "delegation), allow this service account's client id for these exact scopes."
        ),
    ),
    (
        "unauthorized-other",
        401,
        '{"error": "unauthorized_client"}',
        {"request": "refresh_token"},
        errors.UnauthorizedClient,
        False,
        ("unauthorized_client", None, None),
        (
            "Google says this client may not get tokens this way. Google answered HTTP 401, "
            "unauthorized_client."
        ),
        (
            "Use the client_secret.json the refresh token was issued with, or sign in again "
            "with this client."
        ),
    ),
    (
        "scope-device",
        400,
        (
            '{"error": "invalid_scope", "error_description": "Not authorized to request the '
            'scopes: [https://mail.google.com/]"}'
        ),
        {"request": "device_authorization"},
        errors.InvalidScope,
        False,
        ("invalid_scope", None, "Not authorized to request the scopes: [https://mail.google.com/]"),
        (
            "Google refused the scopes. Google answered HTTP 400, invalid_scope: Not authorized "
            "to request the scopes: [https://mail.google.com/]."
        ),
        (
            "The device flow allows only openid, email, profile, drive.appdata, drive.file, "
            "youtube and youtube.readonly; sign in with the browser flow instead."
        ),
    ),
    (
        "scope-device-said",
        400,
        '{"error": "invalid_scope", "error_description": "Scope not allowed for the device flow"}',
        {},
        errors.InvalidScope,
        False,
        ("invalid_scope", None, "Scope not allowed for the device flow"),
        (
            "Google refused the scopes. Google answered HTTP 400, invalid_scope: Scope not "
            "allowed for the device flow."
        ),
        (
            "The device flow allows only openid, email, profile, drive.appdata, drive.file, "
            "youtube and youtube.readonly; sign in with the browser flow instead."
        ),
    ),
    (
        "scope-other",
        400,
        '{"error": "invalid_scope", "error_description": "Some requested scopes were invalid."}',
        {"request": "authorization_code"},
        errors.InvalidScope,
        False,
        ("invalid_scope", None, "Some requested scopes were invalid."),
        (
            "Google refused the scopes. Google answered HTTP 400, invalid_scope: Some requested "
            "scopes were invalid."
        ),
        (
            "Check the scope names (for example gmail.readonly); a refresh may only ask for "
            "scopes already granted."
        ),
    ),
    (
        "request-secret",
        400,
        '{"error": "invalid_request", "error_description": "client_secret is missing."}',
        {"request": "refresh_token"},
        errors.InvalidRequest,
        False,
        ("invalid_request", None, "client_secret is missing."),
        (
            "Google refused the request as malformed. Google answered HTTP 400, "
            "invalid_request: client_secret is missing."
        ),
        "Use client_secret.json as downloaded, with its client_secret.",
    ),
    (
        "request-other",
        400,
        (
            '{"error": "invalid_request", "error_description": "Missing required parameter: '
            'refresh_token"}'
        ),
        {"request": "refresh_token"},
        errors.InvalidRequest,
        False,
        ("invalid_request", None, "Missing required parameter: refresh_token"),
        (
            "Google refused the request as malformed. Google answered HTTP 400, "
            "invalid_request: Missing required parameter: refresh_token."
        ),
        "Check the message above; if it persists, report it with this message.",
    ),
    (
        "revoke-invalid-token",
        400,
        '{"error": "invalid_token", "error_description": "Token expired or revoked"}',
        {"request": "revoke"},
        errors.InvalidToken,
        False,
        ("invalid_token", None, "Token expired or revoked"),
        (
            "Google says the token is already revoked or expired. Google answered HTTP 400, "
            "invalid_token: Token expired or revoked."
        ),
        "Nothing more to revoke.",
    ),
    (
        "tokeninfo-invalid-token",
        400,
        '{"error": "invalid_token", "error_description": "Invalid Value"}',
        {"request": "tokeninfo"},
        errors.InvalidToken,
        False,
        ("invalid_token", None, "Invalid Value"),
        (
            "Google says the token is not valid (expired, revoked or unknown). Google answered "
            "HTTP 400, invalid_token: Invalid Value."
        ),
        "Get a fresh token; if the token was being revoked, it already is.",
    ),
    (
        "client-deleted",
        401,
        '{"error": "deleted_client", "error_description": "The OAuth client was deleted."}',
        {},
        errors.InvalidClient,
        False,
        ("deleted_client", None, "The OAuth client was deleted."),
        (
            "Google does not accept the OAuth client (client id or secret). Google answered "
            "HTTP 401, deleted_client: The OAuth client was deleted."
        ),
        (
            "Download client_secret.json again from Google Cloud console (APIs & Services > "
            "Credentials); the secret may have been reset or the client deleted."
        ),
    ),
    (
        "redirect-mismatch",
        400,
        '{"error": "redirect_uri_mismatch", "error_description": "Bad Request"}',
        {},
        errors.RedirectUriMismatch,
        False,
        ("redirect_uri_mismatch", None, "Bad Request"),
        (
            "Google says the redirect URI does not match. Google answered HTTP 400, "
            "redirect_uri_mismatch: Bad Request."
        ),
        (
            "Exchange the code with the redirect URI of its authorization request; for a web "
            "client that URI must also be listed on the client in Google Cloud console."
        ),
    ),
    (
        "pending",
        428,
        '{"error": "authorization_pending", "error_description": "Precondition Required"}',
        {"request": "device_code"},
        errors.AuthorizationPending,
        True,
        ("authorization_pending", None, "Precondition Required"),
        (
            "The person has not approved on the device page yet. Google answered HTTP 428, "
            "authorization_pending: Precondition Required."
        ),
        "Keep polling at the given interval.",
    ),
    (
        "slow-down",
        403,
        '{"error": "slow_down", "error_description": "Forbidden"}',
        {"request": "device_code"},
        errors.SlowDown,
        True,
        ("slow_down", None, "Forbidden"),
        "Google asks to poll more slowly. Google answered HTTP 403, slow_down: Forbidden.",
        "Add 5 seconds to the polling interval and keep polling.",
    ),
    (
        "device-denied",
        403,
        '{"error": "access_denied", "error_description": "Forbidden"}',
        {"request": "device_code"},
        errors.DeviceAccessDenied,
        False,
        ("access_denied", None, "Forbidden"),
        (
            "The person declined on the device page. Google answered HTTP 403, access_denied: "
            "Forbidden."
        ),
        "Start the device sign-in again and choose Allow.",
    ),
    (
        "device-expired",
        400,
        '{"error": "expired_token", "error_description": "Bad Request"}',
        {"request": "device_code"},
        errors.DeviceCodeExpired,
        False,
        ("expired_token", None, "Bad Request"),
        (
            "The device code expired before the person approved. Google answered HTTP 400, "
            "expired_token: Bad Request."
        ),
        "Start the device sign-in again and approve within its time limit.",
    ),
    (
        "server-error",
        503,
        '{"error": "temporarily_unavailable"}',
        {},
        errors.ServerError,
        True,
        ("temporarily_unavailable", None, None),
        (
            "Google's token service had a temporary problem. Google answered HTTP 503, "
            "temporarily_unavailable."
        ),
        "Try again in a moment.",
    ),
    (
        "internal-failure",
        500,
        '{"error": "internal_failure", "error_description": "Backend Error"}',
        {},
        errors.ServerError,
        True,
        ("internal_failure", None, "Backend Error"),
        (
            "Google's token service had a temporary problem. Google answered HTTP 500, "
            "internal_failure: Backend Error."
        ),
        "Try again in a moment.",
    ),
    (
        "api-error",
        403,
        (
            '{"error": {"code": 403, "message": "Request had insufficient authentication '
            'scopes.", "status": "PERMISSION_DENIED"}}'
        ),
        {},
        errors.OAuthError,
        False,
        ("PERMISSION_DENIED", None, "Request had insufficient authentication scopes."),
        (
            "Google refused the request. Google answered HTTP 403, PERMISSION_DENIED: Request "
            "had insufficient authentication scopes."
        ),
        "Check the message above; if it persists, report it with this message.",
    ),
    (
        "html-502",
        502,
        "<html><body>Bad Gateway</body></html>",
        {},
        errors.ServerError,
        True,
        (None, None, None),
        (
            "Google's token service had a temporary problem. Google answered HTTP 502 with an "
            "HTML page (37 bytes)."
        ),
        "Try again in a moment.",
    ),
    (
        "empty-500",
        500,
        "   ",
        {},
        errors.ServerError,
        True,
        (None, None, None),
        (
            "Google's token service had a temporary problem. Google answered HTTP 500 with an "
            "empty body."
        ),
        "Try again in a moment.",
    ),
    (
        "text-429",
        429,
        "Too many requests",
        {},
        errors.ServerError,
        True,
        (None, None, None),
        (
            "Google's token service had a temporary problem. Google answered HTTP 429 with a "
            "non-JSON body (17 bytes)."
        ),
        "Try again in a moment.",
    ),
    (
        "text-408",
        408,
        b"\xff\xfe timeout",
        {},
        errors.ServerError,
        True,
        (None, None, None),
        (
            "Google's token service had a temporary problem. Google answered HTTP 408 with a "
            "non-JSON body (10 bytes)."
        ),
        "Try again in a moment.",
    ),
    (
        "text-404",
        404,
        "Not Found",
        {},
        errors.OAuthError,
        False,
        (None, None, None),
        "Google refused the request. Google answered HTTP 404 with a non-JSON body (9 bytes).",
        "Check the message above; if it persists, report it with this message.",
    ),
    (
        "text-499",
        499,
        "client closed",
        {},
        errors.OAuthError,
        False,
        (None, None, None),
        "Google refused the request. Google answered HTTP 499 with a non-JSON body (13 bytes).",
        "Check the message above; if it persists, report it with this message.",
    ),
    (
        "json-list",
        400,
        "[1, 2]",
        {},
        errors.OAuthError,
        False,
        (None, None, None),
        (
            "Google refused the request. Google answered HTTP 400 with a JSON body that is not "
            "an object."
        ),
        "Check the message above; if it persists, report it with this message.",
    ),
    (
        "json-no-code",
        400,
        '{"error_description": "something"}',
        {},
        errors.OAuthError,
        False,
        (None, None, "something"),
        (
            "Google refused the request. Google answered HTTP 400 with a JSON body without an "
            "error code."
        ),
        "Check the message above; if it persists, report it with this message.",
    ),
    (
        "unknown-code-400",
        400,
        '{"error": "unsupported_grant_type", "error_description": "Invalid grant_type: x"}',
        {},
        errors.OAuthError,
        False,
        ("unsupported_grant_type", None, "Invalid grant_type: x"),
        (
            "Google refused the request. Google answered HTTP 400, unsupported_grant_type: "
            "Invalid grant_type: x."
        ),
        "Check the message above; if it persists, report it with this message.",
    ),
    (
        "unknown-code-500",
        500,
        '{"error": "backend_broke"}',
        {},
        errors.ServerError,
        True,
        ("backend_broke", None, None),
        "Google's token service had a temporary problem. Google answered HTTP 500, backend_broke.",
        "Try again in a moment.",
    ),
    (
        "code-not-a-code",
        400,
        '{"error": "not a code!", "error_description": "x"}',
        {},
        errors.OAuthError,
        False,
        (None, None, "x"),
        (
            "Google refused the request. Google answered HTTP 400 with a JSON body without an "
            "error code."
        ),
        "Check the message above; if it persists, report it with this message.",
    ),
    (
        "code-too-long",
        400,
        '{"error": "' + "e" * 65 + '"}',
        {},
        *NO_ERROR_CODE,
    ),
    (
        "code-secret-like",
        400,
        '{"error": "' + SECRET + '"}',
        {},
        *NO_ERROR_CODE,
    ),
    (
        "description-spaces",
        400,
        '{"error": "invalid_request", "error_description": "  two\\n  lines\\tand tabs.  "}',
        {},
        errors.InvalidRequest,
        False,
        ("invalid_request", None, "two lines and tabs."),
        (
            "Google refused the request as malformed. Google answered HTTP 400, "
            "invalid_request: two lines and tabs."
        ),
        "Check the message above; if it persists, report it with this message.",
    ),
    (
        "description-blank",
        400,
        '{"error": "invalid_request", "error_description": "   "}',
        {},
        *MALFORMED_WITHOUT_DESCRIPTION,
    ),
    (
        "description-not-text",
        400,
        '{"error": "invalid_request", "error_description": 42}',
        {},
        *MALFORMED_WITHOUT_DESCRIPTION,
    ),
    (
        "description-long",
        400,
        '{"error": "invalid_request", "error_description": "' + "word " * 80 + '"}',
        {},
        errors.InvalidRequest,
        False,
        ("invalid_request", None, "" + "word " * 59 + "word…"),
        "Google refused the request as malformed. Google answered HTTP 400, invalid_request: "
        + "word " * 59
        + "word….",
        "Check the message above; if it persists, report it with this message.",
    ),
    (
        "description-300",
        400,
        '{"error": "invalid_request", "error_description": "' + "x" * 300 + '"}',
        {},
        errors.InvalidRequest,
        False,
        ("invalid_request", None, "" + "x" * 300 + ""),
        "Google refused the request as malformed. Google answered HTTP 400, invalid_request: "
        + "x" * 300
        + ".",
        "Check the message above; if it persists, report it with this message.",
    ),
    (
        "description-secret",
        400,
        '{"error": "invalid_request", "error_description": "bad token ' + SECRET + ' here"}',
        {},
        errors.InvalidRequest,
        False,
        ("invalid_request", None, "bad token …6789 here"),
        (
            "Google refused the request as malformed. Google answered HTTP 400, "
            "invalid_request: bad token …6789 here."
        ),
        "Check the message above; if it persists, report it with this message.",
    ),
    (
        "subtype-not-code",
        400,
        '{"error": "invalid_grant", "error_subtype": "in valid"}',
        {"request": "device_code"},
        *DEVICE_CODE_REFUSED,
    ),
]


@pytest.mark.parametrize(
    ("status", "body", "context", "cls", "retryable", "fields", "message", "hint"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_each_error_answer_reads_word_for_word(
    status: int,
    body: str | bytes,
    context: dict[str, Any],
    cls: type[errors.OAuthError],
    retryable: bool,
    fields: tuple[str | None, str | None, str | None],
    message: str,
    hint: str,
) -> None:
    error = error_from_response(status, body, context=ErrorContext(**context))
    assert type(error) is cls
    assert error.retryable is retryable
    assert error.status == status
    assert (error.error, error.subtype, error.description) == fields
    assert error.message == message
    assert error.hint == hint
    assert str(error) == f"{message} {hint}"
    assert SECRET not in str(error) + repr(error)


def test_the_likely_causes_are_kept_apart_from_the_message() -> None:
    error = error_from_response(
        400,
        '{"error": "invalid_grant", "error_subtype": "invalid_rapt"}',
        context=ErrorContext(request="refresh_token"),
    )
    assert isinstance(error, errors.InvalidGrant)
    assert error.likely_causes == (
        "the Google Workspace session control policy requires the user to sign in again "
        "(invalid_rapt)",
    )


def test_an_html_page_is_recognised_after_leading_blank_lines() -> None:
    error = error_from_response(502, "\n  <!DOCTYPE html><html></html>")
    assert error.message.endswith("Google answered HTTP 502 with an HTML page (31 bytes).")
