"""Every row of the token endpoint's "Errors" table in GOOGLE_OAUTH_FACTS.md, provoked over HTTP.

Each test checks what a program sees: the HTTP status and the exact JSON body. Bodies are compared
through :func:`outcome`, which blanks token values, so a failing assertion never shows a token.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from gtoken.emulator.client import Emulator
from tests.support import LOOPBACK, authorize, exchange, login, pkce_pair, redirect_params, refresh

AUTH = "https://www.googleapis.com/auth/"
GMAIL_RO = AUTH + "gmail.readonly"
DRIVE_FILE = AUTH + "drive.file"
DRIVE = AUTH + "drive"
MAIL = "https://mail.google.com/"
ADA = "ada@example.com"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
DAY = 24 * 3600
SEVEN_DAYS = 7 * DAY
SIX_MONTHS = 183 * DAY

EXPIRED_OR_REVOKED = {
    "error": "invalid_grant",
    "error_description": "Token has been expired or revoked.",
}
BAD_REQUEST_GRANT = {"error": "invalid_grant", "error_description": "Bad Request"}
JWT_TIMES = {
    "error": "invalid_grant",
    "error_description": (
        "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable "
        "timeframe. Check your iat and exp values in the JWT claim."
    ),
}
DELEGATION_REFUSED = {
    "error": "unauthorized_client",
    "error_description": (
        "Client is unauthorized to retrieve access tokens using this method, or client not "
        "authorized for any of the scopes requested."
    ),
}
_SECRET_FIELDS = frozenset({"access_token", "refresh_token", "id_token", "device_code"})


def outcome(response: httpx.Response) -> tuple[int, dict[str, Any]]:
    """Status and JSON body, with token values blanked so that no assertion can show one."""
    assert response.headers.get("content-type", "").startswith("application/json")
    body = response.json()
    assert isinstance(body, dict)
    return response.status_code, {
        k: "<token>" if k in _SECRET_FIELDS else v for k, v in body.items()
    }


def info(client: dict[str, Any]) -> dict[str, Any]:
    inner: dict[str, Any] = next(iter(client.values()))
    return inner


def token_post(emulator: Emulator, data: dict[str, str], **kwargs: Any) -> httpx.Response:
    return httpx.post(f"{emulator.url}/token", data=data, **kwargs)


@pytest.fixture
def client(emulator: Emulator) -> dict[str, Any]:
    """An installed client, the user Ada, and authorization answered at once as her."""
    secrets = emulator.create_client(type="installed")
    emulator.create_user(ADA, "Ada Lovelace")
    emulator.consent_auto(email=ADA)
    return secrets


def fresh_code(
    emulator: Emulator, client: dict[str, Any], scope: str = GMAIL_RO
) -> tuple[str, str]:
    """A new authorization code with PKCE S256, and its verifier."""
    verifier, challenge = pkce_pair()
    response = authorize(
        emulator, client, scope, code_challenge=challenge, code_challenge_method="S256"
    )
    return redirect_params(response)["code"], verifier


# -- a refresh token that stopped working -------------------------------------------------------


def test_refresh_token_revoked_at_the_revoke_endpoint(
    emulator: Emulator, client: dict[str, Any]
) -> None:
    rt = login(emulator, client, GMAIL_RO)["refresh_token"]
    assert httpx.post(f"{emulator.url}/revoke", data={"token": rt}).status_code == 200
    assert outcome(refresh(emulator, client, rt)) == (400, EXPIRED_OR_REVOKED)


def test_refresh_token_revoked_by_the_user_in_their_account(
    emulator: Emulator, client: dict[str, Any]
) -> None:
    rt = login(emulator, client, GMAIL_RO)["refresh_token"]
    assert refresh(emulator, client, rt).status_code == 200
    emulator.revoke_user(ADA)
    assert outcome(refresh(emulator, client, rt)) == (400, EXPIRED_OR_REVOKED)


def test_refresh_token_of_a_testing_app_dies_after_seven_days(emulator: Emulator) -> None:
    client = emulator.create_client(publishing_status="testing")
    emulator.create_user(ADA)
    emulator.consent_auto(email=ADA)
    tokens = login(emulator, client, GMAIL_RO)
    assert tokens["refresh_token_expires_in"] == SEVEN_DAYS - 1
    emulator.advance(SEVEN_DAYS - 60)
    assert refresh(emulator, client, tokens["refresh_token"]).status_code == 200
    emulator.advance(60)
    assert outcome(refresh(emulator, client, tokens["refresh_token"])) == (
        400,
        EXPIRED_OR_REVOKED,
    )


def test_refresh_token_of_a_testing_app_with_only_sign_in_scopes_lives_on(
    emulator: Emulator,
) -> None:
    client = emulator.create_client(publishing_status="testing")
    emulator.create_user(ADA)
    emulator.consent_auto(email=ADA)
    tokens = login(emulator, client, "openid email profile")
    assert "refresh_token_expires_in" not in tokens
    emulator.advance(SEVEN_DAYS + DAY)
    assert refresh(emulator, client, tokens["refresh_token"]).status_code == 200


def test_refresh_token_unused_for_six_months_dies(
    emulator: Emulator, client: dict[str, Any]
) -> None:
    rt = login(emulator, client, GMAIL_RO)["refresh_token"]
    emulator.advance(SIX_MONTHS - DAY)
    assert refresh(emulator, client, rt).status_code == 200  # used: the six months start again
    emulator.advance(SIX_MONTHS - DAY)
    assert refresh(emulator, client, rt).status_code == 200
    emulator.advance(SIX_MONTHS)
    assert outcome(refresh(emulator, client, rt)) == (400, EXPIRED_OR_REVOKED)


def quick_refresh_token(http: httpx.Client, client: dict[str, Any]) -> str:
    """A code flow on one kept-alive connection (no PKCE), for when a test needs a hundred."""
    app = info(client)
    location = http.get(
        "/o/oauth2/v2/auth",
        params={
            "client_id": app["client_id"],
            "redirect_uri": LOOPBACK,
            "response_type": "code",
            "scope": GMAIL_RO,
        },
    ).headers["location"]
    code = dict(parse_qsl(urlsplit(location).query))["code"]
    tokens = http.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "redirect_uri": LOOPBACK,
        },
    ).json()
    value: str = tokens["refresh_token"]
    return value


def test_the_101st_refresh_token_for_a_user_and_client_drops_the_oldest(
    emulator: Emulator, client: dict[str, Any]
) -> None:
    with httpx.Client(base_url=emulator.url) as http:
        tokens = [quick_refresh_token(http, client) for _ in range(100)]
    assert refresh(emulator, client, tokens[0]).status_code == 200
    other_client = emulator.create_client()
    login(emulator, other_client, GMAIL_RO)  # another client's tokens do not count
    tokens.append(login(emulator, client, GMAIL_RO)["refresh_token"])
    assert outcome(refresh(emulator, client, tokens[0])) == (400, EXPIRED_OR_REVOKED)
    assert refresh(emulator, client, tokens[1]).status_code == 200
    assert refresh(emulator, client, tokens[100]).status_code == 200


@pytest.mark.parametrize(
    ("scope", "survives"),
    [
        pytest.param(GMAIL_RO, False, id="gmail.readonly-dies"),
        pytest.param(f"{MAIL} openid", False, id="mail.google.com-dies"),
        pytest.param(f"{AUTH}gmail.send {DRIVE_FILE}", False, id="gmail.send-with-drive-dies"),
        pytest.param(DRIVE_FILE, True, id="drive.file-survives"),
        pytest.param("openid email profile", True, id="sign-in-only-survives"),
    ],
)
def test_password_change_kills_refresh_tokens_only_with_gmail_scopes(
    emulator: Emulator, client: dict[str, Any], scope: str, survives: bool
) -> None:
    rt = login(emulator, client, scope)["refresh_token"]
    emulator.change_password(ADA)
    response = refresh(emulator, client, rt)
    if survives:
        assert response.status_code == 200
    else:
        assert outcome(response) == (400, EXPIRED_OR_REVOKED)


# -- authorization codes ------------------------------------------------------------------------


def test_code_used_twice_is_refused_the_second_time(
    emulator: Emulator, client: dict[str, Any]
) -> None:
    code, verifier = fresh_code(emulator, client)
    assert exchange(emulator, client, code, verifier=verifier).status_code == 200
    again = exchange(emulator, client, code, verifier=verifier)
    assert outcome(again) == (400, BAD_REQUEST_GRANT)


def test_unknown_code_is_refused(emulator: Emulator, client: dict[str, Any]) -> None:
    response = exchange(emulator, client, "4/0A" + "x" * 70, verifier=None)
    assert outcome(response) == (400, BAD_REQUEST_GRANT)


def test_code_older_than_ten_minutes_is_refused(emulator: Emulator, client: dict[str, Any]) -> None:
    code, verifier = fresh_code(emulator, client)
    emulator.advance(601)
    assert outcome(exchange(emulator, client, code, verifier=verifier)) == (
        400,
        BAD_REQUEST_GRANT,
    )


def test_code_of_another_client_is_refused(emulator: Emulator, client: dict[str, Any]) -> None:
    code, verifier = fresh_code(emulator, client)
    other = emulator.create_client()
    assert outcome(exchange(emulator, other, code, verifier=verifier)) == (400, BAD_REQUEST_GRANT)


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda code: quote(code, safe=""), id="still-url-encoded"),
        pytest.param(lambda code: code.replace("/", "%2F", 1), id="slash-encoded"),
        pytest.param(lambda code: code[2:], id="without-4/-prefix"),
        pytest.param(lambda code: code + " ", id="trailing-space"),
    ],
)
def test_malformed_code_is_refused(emulator: Emulator, client: dict[str, Any], mangle: Any) -> None:
    code, verifier = fresh_code(emulator, client)
    response = exchange(emulator, client, mangle(code), verifier=verifier)
    assert outcome(response) == (
        400,
        {"error": "invalid_grant", "error_description": "Malformed auth code."},
    )


def test_pkce_verifier_missing(emulator: Emulator, client: dict[str, Any]) -> None:
    code, _ = fresh_code(emulator, client)
    assert outcome(exchange(emulator, client, code, verifier=None)) == (
        400,
        {"error": "invalid_grant", "error_description": "Missing code verifier."},
    )


def test_pkce_verifier_wrong(emulator: Emulator, client: dict[str, Any]) -> None:
    code, _ = fresh_code(emulator, client)
    other_verifier, _ = pkce_pair()
    response = exchange(emulator, client, code, verifier=other_verifier)
    assert outcome(response) == (400, BAD_REQUEST_GRANT)


def test_redirect_uri_differing_from_the_authorization_request(
    emulator: Emulator, client: dict[str, Any]
) -> None:
    code, verifier = fresh_code(emulator, client)
    response = exchange(
        emulator, client, code, verifier=verifier, redirect_uri="http://127.0.0.1:8766/"
    )
    assert outcome(response) == (
        400,
        {"error": "redirect_uri_mismatch", "error_description": "Bad Request"},
    )


@pytest.mark.parametrize("client_type", ["installed", "web"])
def test_client_secret_missing_on_code_exchange(emulator: Emulator, client_type: str) -> None:
    client = emulator.create_client(type=client_type, redirect_uris=[LOOPBACK])  # type: ignore[arg-type]
    emulator.create_user(ADA)
    emulator.consent_auto(email=ADA)
    code, verifier = fresh_code(emulator, client)
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": info(client)["client_id"],
        "redirect_uri": LOOPBACK,
        "code_verifier": verifier,
    }
    assert outcome(token_post(emulator, data)) == (
        400,
        {"error": "invalid_request", "error_description": "client_secret is missing."},
    )


# -- client authentication ----------------------------------------------------------------------


def test_wrong_client_secret_on_code_exchange(emulator: Emulator, client: dict[str, Any]) -> None:
    code, verifier = fresh_code(emulator, client)
    forged = {next(iter(client)): {**info(client), "client_secret": "GOCSPX-not-the-secret"}}
    assert outcome(exchange(emulator, forged, code, verifier=verifier)) == (
        401,
        {"error": "invalid_client", "error_description": "Unauthorized"},
    )


def test_wrong_client_secret_on_refresh_in_http_basic(
    emulator: Emulator, client: dict[str, Any]
) -> None:
    rt = login(emulator, client, GMAIL_RO)["refresh_token"]
    response = token_post(
        emulator,
        {"grant_type": "refresh_token", "refresh_token": rt},
        auth=(info(client)["client_id"], "GOCSPX-not-the-secret"),
    )
    assert outcome(response) == (
        401,
        {"error": "invalid_client", "error_description": "Unauthorized"},
    )


def test_unknown_client(emulator: Emulator, client: dict[str, Any]) -> None:
    rt = login(emulator, client, GMAIL_RO)["refresh_token"]
    response = token_post(
        emulator,
        {
            "grant_type": "refresh_token",
            "refresh_token": rt,
            "client_id": "000000000000-unknown.apps.googleusercontent.com",
            "client_secret": info(client)["client_secret"],
        },
    )
    assert outcome(response) == (
        401,
        {"error": "invalid_client", "error_description": "The OAuth client was not found."},
    )


def test_refresh_token_of_another_client(emulator: Emulator, client: dict[str, Any]) -> None:
    rt = login(emulator, client, GMAIL_RO)["refresh_token"]
    other = emulator.create_client()
    assert outcome(refresh(emulator, other, rt)) == (
        401,
        {"error": "unauthorized_client", "error_description": "Unauthorized"},
    )
    assert refresh(emulator, client, rt).status_code == 200  # still good for its own client


# -- scopes on refresh --------------------------------------------------------------------------


def test_refresh_asking_for_a_scope_never_granted(
    emulator: Emulator, client: dict[str, Any]
) -> None:
    rt = login(emulator, client, f"{GMAIL_RO} {DRIVE_FILE}")["refresh_token"]
    narrower = refresh(emulator, client, rt, scope=DRIVE_FILE)
    assert narrower.status_code == 200
    assert narrower.json()["scope"] == DRIVE_FILE
    assert outcome(refresh(emulator, client, rt, scope=f"{DRIVE_FILE} {DRIVE}")) == (
        400,
        {"error": "invalid_scope", "error_description": "Bad Request"},
    )


@pytest.mark.parametrize(
    ("scope", "invalid"),
    [
        pytest.param("gmail.readonly", "gmail.readonly", id="short-form"),
        pytest.param(f"{GMAIL_RO} bogus", "bogus", id="one-bogus-word"),
        pytest.param(
            "drive https://example.com/scope", "drive, https://example.com/scope", id="two-bad"
        ),
    ],
)
def test_refresh_with_strings_that_are_not_scopes(
    emulator: Emulator, client: dict[str, Any], scope: str, invalid: str
) -> None:
    rt = login(emulator, client, GMAIL_RO)["refresh_token"]
    assert outcome(refresh(emulator, client, rt, scope=scope)) == (
        400,
        {
            "error": "invalid_scope",
            "error_description": f"Some requested scopes were invalid. {{invalid=[{invalid}]}}",
        },
    )


# -- Workspace session control ------------------------------------------------------------------


@pytest.mark.parametrize("how", ["client", "http"])
def test_invalid_rapt_until_the_user_signs_in_again(
    emulator: Emulator, client: dict[str, Any], how: str
) -> None:
    rt = login(emulator, client, GMAIL_RO)["refresh_token"]
    if how == "client":
        emulator.require_reauth(ADA)
    else:
        control = httpx.post(f"{emulator.url}/_emulator/users/{ADA}/require-reauth")
        assert control.status_code == 200
    assert outcome(refresh(emulator, client, rt)) == (
        400,
        {
            "error": "invalid_grant",
            "error_description": "reauth related error (invalid_rapt)",
            "error_subtype": "invalid_rapt",
        },
    )
    login(emulator, client, GMAIL_RO)  # the user signs in again
    assert refresh(emulator, client, rt).status_code == 200


# -- service accounts (JWT bearer) --------------------------------------------------------------


def assertion(
    key: dict[str, Any],
    *,
    aud: str = GOOGLE_TOKEN_URI,
    iat: float | None = None,
    lifetime: float = 3600,
    scope: str = DRIVE,
    signing_key: Any = None,
    **claims: Any,
) -> str:
    """A JWT as google-auth builds it for ``key``, with any part overridable."""
    issued = time.time() if iat is None else iat
    payload = {
        "iss": key["client_email"],
        "aud": aud,
        "scope": scope,
        "iat": int(issued),
        "exp": int(issued + lifetime),
        **claims,
    }
    return jwt.encode(
        payload,
        signing_key or key["private_key"],
        algorithm="RS256",
        headers={"kid": key["private_key_id"]},
    )


def jwt_grant(emulator: Emulator, token: str) -> httpx.Response:
    return token_post(emulator, {"grant_type": JWT_BEARER, "assertion": token})


@pytest.fixture
def key(emulator: Emulator) -> dict[str, Any]:
    return emulator.create_service_account()


@pytest.mark.parametrize(
    "audience",
    [
        pytest.param(GOOGLE_TOKEN_URI, id="google-token-uri"),
        pytest.param("token_uri", id="the-key-files-token-uri"),
    ],
)
def test_jwt_audience_accepted(emulator: Emulator, key: dict[str, Any], audience: str) -> None:
    aud = key["token_uri"] if audience == "token_uri" else audience
    response = jwt_grant(emulator, assertion(key, aud=aud))
    assert outcome(response) == (
        200,
        {"access_token": "<token>", "expires_in": 3599, "token_type": "Bearer"},
    )


@pytest.mark.parametrize(
    "aud", ["https://example.com/token", "https://oauth2.googleapis.com/token/", ""]
)
def test_jwt_audience_refused(emulator: Emulator, key: dict[str, Any], aud: str) -> None:
    assert outcome(jwt_grant(emulator, assertion(key, aud=aud))) == (
        400,
        {"error": "invalid_grant", "error_description": "Invalid JWT: Failed audience check."},
    )


def test_jwt_signed_with_another_key(emulator: Emulator, key: dict[str, Any]) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = stranger.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    assert outcome(jwt_grant(emulator, assertion(key, signing_key=pem))) == (
        400,
        {"error": "invalid_grant", "error_description": "Invalid JWT Signature."},
    )


@pytest.mark.parametrize(
    ("iat_offset", "lifetime"),
    [
        pytest.param(0, 3601, id="lives-longer-than-an-hour"),
        pytest.param(0, 0, id="exp-equals-iat"),
        pytest.param(0, -60, id="exp-before-iat"),
        pytest.param(3600, 3600, id="iat-an-hour-in-the-future"),
        pytest.param(-7200, 3600, id="expired-an-hour-ago"),
    ],
)
def test_jwt_times_refused(
    emulator: Emulator, key: dict[str, Any], iat_offset: float, lifetime: float
) -> None:
    token = assertion(key, iat=time.time() + iat_offset, lifetime=lifetime)
    assert outcome(jwt_grant(emulator, token)) == (400, JWT_TIMES)


def test_jwt_lifetime_of_exactly_one_hour_is_accepted(
    emulator: Emulator, key: dict[str, Any]
) -> None:
    assert jwt_grant(emulator, assertion(key, lifetime=3600)).status_code == 200


def test_fresh_jwt_is_stale_once_the_emulator_clock_moves_two_hours(
    emulator: Emulator, key: dict[str, Any]
) -> None:
    emulator.advance(2 * 3600)
    assert outcome(jwt_grant(emulator, assertion(key))) == (400, JWT_TIMES)


def test_domain_wide_delegation_for_a_scope_not_allowed(emulator: Emulator) -> None:
    emulator.create_user(ADA)
    key = emulator.create_service_account(delegation_scopes=["gmail.readonly"])
    allowed = jwt_grant(emulator, assertion(key, scope=GMAIL_RO, sub=ADA))
    assert allowed.status_code == 200
    refused = jwt_grant(emulator, assertion(key, scope=f"{GMAIL_RO} {DRIVE}", sub=ADA))
    assert outcome(refused) == (401, DELEGATION_REFUSED)


def test_domain_wide_delegation_for_an_account_without_any(emulator: Emulator) -> None:
    emulator.create_user(ADA)
    key = emulator.create_service_account()
    refused = jwt_grant(emulator, assertion(key, scope=GMAIL_RO, sub=ADA))
    assert outcome(refused) == (401, DELEGATION_REFUSED)


def test_jwt_with_strings_that_are_not_scopes(emulator: Emulator, key: dict[str, Any]) -> None:
    assert outcome(jwt_grant(emulator, assertion(key, scope="drive"))) == (
        400,
        {
            "error": "invalid_scope",
            "error_description": "Some requested scopes were invalid. {invalid=[drive]}",
        },
    )


# -- device flow --------------------------------------------------------------------------------


def start_device(emulator: Emulator, client: dict[str, Any], scope: str) -> httpx.Response:
    return httpx.post(
        f"{emulator.url}/device/code", data={"client_id": info(client)["client_id"], "scope": scope}
    )


def poll(emulator: Emulator, client: dict[str, Any], device_code: str) -> httpx.Response:
    return token_post(
        emulator,
        {
            "grant_type": DEVICE_GRANT,
            "device_code": device_code,
            "client_id": info(client)["client_id"],
            "client_secret": info(client)["client_secret"],
        },
    )


PENDING = {"error": "authorization_pending", "error_description": "Precondition Required"}


def test_device_flow_not_yet_approved_then_polled_too_fast(
    emulator: Emulator, client: dict[str, Any]
) -> None:
    emulator.consent_interactive()
    started = start_device(emulator, client, "openid email")
    assert started.status_code == 200
    device_code = started.json()["device_code"]
    assert outcome(poll(emulator, client, device_code)) == (428, PENDING)
    assert outcome(poll(emulator, client, device_code)) == (
        403,
        {"error": "slow_down", "error_description": "Forbidden"},
    )
    emulator.advance(started.json()["interval"])
    assert outcome(poll(emulator, client, device_code)) == (428, PENDING)


def test_device_flow_user_said_no(emulator: Emulator, client: dict[str, Any]) -> None:
    emulator.consent_auto(email=ADA, grant="deny")
    device_code = start_device(emulator, client, f"email {DRIVE_FILE}").json()["device_code"]
    assert outcome(poll(emulator, client, device_code)) == (
        403,
        {"error": "access_denied", "error_description": "Forbidden"},
    )


def test_device_flow_approved_gives_tokens(emulator: Emulator, client: dict[str, Any]) -> None:
    device_code = start_device(emulator, client, f"email {DRIVE_FILE}").json()["device_code"]
    status, body = outcome(poll(emulator, client, device_code))
    assert status == 200
    assert body["refresh_token"] == "<token>"
    assert set(body["scope"].split()) == {"openid", AUTH + "userinfo.email", DRIVE_FILE}


@pytest.mark.parametrize(
    "gmail_scope", [GMAIL_RO, MAIL, AUTH + "gmail.send", AUTH + "gmail.labels"]
)
def test_device_flow_refuses_gmail_scopes(
    emulator: Emulator, client: dict[str, Any], gmail_scope: str
) -> None:
    response = start_device(emulator, client, f"email {gmail_scope}")
    assert outcome(response) == (
        400,
        {
            "error": "invalid_scope",
            "error_description": f"Invalid device flow scope: {gmail_scope}",
        },
    )


# -- overload -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error", "retry_after"),
    [
        pytest.param(500, "internal_failure", None, id="500"),
        pytest.param(503, "temporarily_unavailable", None, id="503"),
        pytest.param(503, "temporarily_unavailable", 7, id="503-retry-after"),
    ],
)
def test_overload_from_injected_faults(
    emulator: Emulator,
    client: dict[str, Any],
    status: int,
    error: str,
    retry_after: int | None,
) -> None:
    rt = login(emulator, client, GMAIL_RO)["refresh_token"]
    emulator.fault("token", status=status, count=2, retry_after=retry_after)
    for _ in range(2):
        response = refresh(emulator, client, rt)
        assert outcome(response) == (
            status,
            {"error": error, "error_description": "Injected by the gtoken emulator."},
        )
        expected = None if retry_after is None else str(retry_after)
        assert response.headers.get("retry-after") == expected
    assert refresh(emulator, client, rt).status_code == 200


# -- revoke, tokeninfo and userinfo -------------------------------------------------------------

TOKEN_EXPIRED_OR_REVOKED = {
    "error": "invalid_token",
    "error_description": "Token expired or revoked",
}


def test_revoking_a_refresh_token_twice(emulator: Emulator, client: dict[str, Any]) -> None:
    rt = login(emulator, client, GMAIL_RO)["refresh_token"]
    assert httpx.post(f"{emulator.url}/revoke", data={"token": rt}).status_code == 200
    again = httpx.post(f"{emulator.url}/revoke", data={"token": rt})
    assert outcome(again) == (400, TOKEN_EXPIRED_OR_REVOKED)


def test_revoking_an_access_token_revokes_its_refresh_token(
    emulator: Emulator, client: dict[str, Any]
) -> None:
    tokens = login(emulator, client, GMAIL_RO)
    revoked = httpx.post(f"{emulator.url}/revoke", params={"token": tokens["access_token"]})
    assert revoked.status_code == 200
    again = httpx.post(f"{emulator.url}/revoke", data={"token": tokens["refresh_token"]})
    assert outcome(again) == (400, TOKEN_EXPIRED_OR_REVOKED)
    assert outcome(refresh(emulator, client, tokens["refresh_token"])) == (
        400,
        EXPIRED_OR_REVOKED,
    )


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"access_token": "ya29.not-a-token"}, id="unknown-access-token"),
        pytest.param({"access_token": ""}, id="empty-access-token"),
        pytest.param({"id_token": "not.a.jwt"}, id="garbage-id-token"),
    ],
)
def test_tokeninfo_with_a_bad_token(emulator: Emulator, params: dict[str, str]) -> None:
    response = httpx.get(f"{emulator.url}/tokeninfo", params=params)
    assert outcome(response) == (
        400,
        {"error": "invalid_token", "error_description": "Invalid Value"},
    )


def test_tokeninfo_with_a_revoked_access_token(emulator: Emulator, client: dict[str, Any]) -> None:
    access = login(emulator, client, "email")["access_token"]
    httpx.post(f"{emulator.url}/revoke", data={"token": access})
    response = httpx.get(f"{emulator.url}/tokeninfo", params={"access_token": access})
    assert outcome(response) == (
        400,
        {"error": "invalid_token", "error_description": "Invalid Value"},
    )


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no-header"),
        pytest.param({"Authorization": "Bearer ya29.not-a-token"}, id="unknown-token"),
        pytest.param({"Authorization": "Basic dXNlcjpwYXNz"}, id="basic-scheme"),
    ],
)
def test_userinfo_refuses_without_a_live_token(emulator: Emulator, headers: dict[str, str]) -> None:
    realm = 'Bearer realm="https://accounts.google.com/"'
    oidc = httpx.get(f"{emulator.url}/v1/userinfo", headers=headers)
    assert outcome(oidc) == (
        401,
        {"error": "invalid_request", "error_description": "Invalid Credentials"},
    )
    assert oidc.headers["www-authenticate"] == realm
    v2 = httpx.get(f"{emulator.url}/oauth2/v2/userinfo", headers=headers)
    message = (
        "Request is missing required authentication credential. Expected OAuth 2 access "
        "token, login cookie or other valid authentication credential."
    )
    assert outcome(v2) == (
        401,
        {
            "error": {
                "code": 401,
                "message": message,
                "errors": [{"message": message, "domain": "global", "reason": "required"}],
                "status": "UNAUTHENTICATED",
            }
        },
    )
    assert v2.headers["www-authenticate"] == realm


def test_userinfo_refuses_an_expired_access_token(
    emulator: Emulator, client: dict[str, Any]
) -> None:
    access = login(emulator, client, "email")["access_token"]
    headers = {"Authorization": f"Bearer {access}"}
    assert httpx.get(f"{emulator.url}/v1/userinfo", headers=headers).status_code == 200
    emulator.advance(3600)
    assert httpx.get(f"{emulator.url}/v1/userinfo", headers=headers).status_code == 401
    assert httpx.get(f"{emulator.url}/oauth2/v2/userinfo", headers=headers).status_code == 401
