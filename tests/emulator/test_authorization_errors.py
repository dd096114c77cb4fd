"""The authorization endpoint as a browser meets it: which mistakes Google shows on its own page,
which answers go back to the application, and how redirect URIs, refresh tokens and scopes are
decided (GOOGLE_OAUTH_FACTS.md, "Authorization request")."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from gtoken.emulator.client import Emulator
from tests.support import LOOPBACK, authorize, exchange, login, pkce_pair, redirect_params

AUTH = "https://www.googleapis.com/auth/"
GMAIL_RO = AUTH + "gmail.readonly"
DRIVE_FILE = AUTH + "drive.file"
EMAIL = AUTH + "userinfo.email"
PROFILE = AUTH + "userinfo.profile"
ADA = "ada@example.com"
WEB_URI = "https://app.example.com/oauth2/callback"
OOB_BLOCKED = "The out-of-band (OOB) flow has been blocked in order to keep users secure."


def client_id(client: dict[str, Any]) -> str:
    value: str = next(iter(client.values()))["client_id"]
    return value


def get_auth(emulator: Emulator, params: dict[str, str] | list[tuple[str, str]]) -> httpx.Response:
    """The authorization endpoint with exactly these parameters, nothing added."""
    pairs = tuple(params.items()) if isinstance(params, dict) else tuple(params)
    return httpx.get(f"{emulator.url}/o/oauth2/v2/auth", params=pairs)


def page(response: httpx.Response, status: int) -> tuple[str, str]:
    """The error code and description of one of Google's own pages, checking that it is one."""
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    assert "location" not in response.headers  # the browser stays on Google's page
    code = re.search(r"<p id=error-code><strong>Error (\d+): ([^<]*)</strong>", response.text)
    description = re.search(r"<p id=error-description>(.*?)</p>", response.text, re.S)
    assert code is not None
    assert description is not None
    assert int(code.group(1)) == status
    return html.unescape(code.group(2)), html.unescape(description.group(1))


def redirect(response: httpx.Response, target: str) -> dict[str, str]:
    """The query sent back to the application, checking it goes to ``target``."""
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.split("?", 1)[0] == target
    return dict(parse_qsl(urlsplit(location).query, keep_blank_values=True))


@pytest.fixture
def installed(emulator: Emulator) -> dict[str, Any]:
    """A Desktop client, the user Ada, and authorization answered at once as her."""
    secrets = emulator.create_client(type="installed")
    emulator.create_user(ADA)
    emulator.consent_auto(email=ADA)
    return secrets


@pytest.fixture
def web(emulator: Emulator) -> dict[str, Any]:
    """A web client registered with :data:`WEB_URI`, Ada, and auto consent as her."""
    secrets = emulator.create_client(type="web", redirect_uris=[WEB_URI])
    emulator.create_user(ADA)
    emulator.consent_auto(email=ADA)
    return secrets


def base(client: dict[str, Any], **extra: str) -> dict[str, str]:
    return {
        "client_id": client_id(client),
        "redirect_uri": LOOPBACK,
        "response_type": "code",
        "scope": "email",
        **extra,
    }


# -- shown on Google's page ---------------------------------------------------------------------


def test_unknown_client_gets_a_401_page(emulator: Emulator, installed: dict[str, Any]) -> None:
    params = base(installed, client_id="123-unknown.apps.googleusercontent.com")
    assert page(get_auth(emulator, params), 401) == (
        "invalid_client",
        "The OAuth client was not found.",
    )


def test_missing_client_id_gets_a_page(emulator: Emulator, installed: dict[str, Any]) -> None:
    params = base(installed)
    del params["client_id"]
    assert page(get_auth(emulator, params), 400) == (
        "invalid_request",
        "Missing required parameter: client_id",
    )


@pytest.mark.parametrize(
    "uri",
    [
        pytest.param("https://app.example.com/oauth2/callback/", id="trailing-slash"),
        pytest.param("http://app.example.com/oauth2/callback", id="http-not-https"),
        pytest.param("https://app.example.com:8443/oauth2/callback", id="other-port"),
        pytest.param("https://APP.example.com/oauth2/Callback", id="other-case"),
        pytest.param("https://evil.example/oauth2/callback", id="other-host"),
        pytest.param("http://127.0.0.1:8765/", id="loopback-not-registered"),
        pytest.param("http://localhost", id="localhost-not-registered"),
    ],
)
def test_web_client_redirect_uri_mismatch_gets_a_page(
    emulator: Emulator, web: dict[str, Any], uri: str
) -> None:
    error, description = page(get_auth(emulator, base(web, redirect_uri=uri)), 400)
    assert error == "redirect_uri_mismatch"
    assert description.endswith(f"Request details: redirect_uri={uri}")


@pytest.mark.parametrize("client_type", ["installed", "web"])
@pytest.mark.parametrize(
    "oob", ["urn:ietf:wg:oauth:2.0:oob", "urn:ietf:wg:oauth:2.0:oob:auto", "oob"]
)
def test_out_of_band_redirect_uri_gets_the_blocked_page(
    emulator: Emulator, client_type: str, oob: str
) -> None:
    # Registered or not, the OOB URIs are refused; Google shows "Error 400: invalid_request".
    client = emulator.create_client(type=client_type, redirect_uris=[oob])  # type: ignore[arg-type]
    error, description = page(get_auth(emulator, base(client, redirect_uri=oob)), 400)
    assert error == "invalid_request"
    assert description.startswith(OOB_BLOCKED)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(
            {"redirect_uri": None},
            ("invalid_request", "Missing required parameter: redirect_uri"),
            id="redirect_uri-missing",
        ),
        pytest.param(
            {"response_type": None},
            ("invalid_request", "Required parameter is missing: response_type"),
            id="response_type-missing",
        ),
        pytest.param(
            {"response_type": "token"},
            ("unsupported_response_type", "Invalid response_type: token"),
            id="response_type-token",
        ),
        pytest.param(
            {"scope": None},
            ("invalid_request", "Missing required parameter: scope"),
            id="scope-missing",
        ),
        pytest.param(
            {"scope": "   "},
            ("invalid_request", "Missing required parameter: scope"),
            id="scope-blank",
        ),
        pytest.param(
            {"scope": f"email gmail.readonly {DRIVE_FILE}"},
            ("invalid_scope", "Some requested scopes were invalid. {invalid=[gmail.readonly]}"),
            id="scope-short-form",
        ),
        pytest.param(
            {"scope": "https://www.googleapis.com/auth/nothing bogus"},
            (
                "invalid_scope",
                "Some requested scopes were invalid. "
                "{invalid=[https://www.googleapis.com/auth/nothing, bogus]}",
            ),
            id="scope-unknown",
        ),
        pytest.param(
            {"access_type": "forever"},
            ("invalid_request", "Invalid access_type: forever"),
            id="access_type-unknown",
        ),
        pytest.param(
            {"prompt": "none consent"},
            ("invalid_request", "Invalid prompt: 'none' must be used alone"),
            id="prompt-none-with-consent",
        ),
        pytest.param(
            {"prompt": "none select_account"},
            ("invalid_request", "Invalid prompt: 'none' must be used alone"),
            id="prompt-none-with-select_account",
        ),
        pytest.param(
            {"prompt": "force"},
            ("invalid_request", "Invalid prompt: force"),
            id="prompt-unknown",
        ),
        pytest.param(
            {"include_granted_scopes": "yes"},
            ("invalid_request", "Invalid include_granted_scopes: yes"),
            id="include_granted_scopes-not-boolean",
        ),
        pytest.param(
            {"code_challenge": "a" * 43, "code_challenge_method": "S512"},
            ("invalid_request", "Invalid code_challenge_method: S512"),
            id="code_challenge_method-S512",
        ),
        pytest.param(
            {"code_challenge": "a" * 43, "code_challenge_method": "s256"},
            ("invalid_request", "Invalid code_challenge_method: s256"),
            id="code_challenge_method-lower-case",
        ),
        pytest.param(
            {"code_challenge_method": "S256"},
            ("invalid_request", "Missing required parameter: code_challenge"),
            id="code_challenge_method-without-challenge",
        ),
        pytest.param(
            {"code_challenge": "a" * 42},
            ("invalid_request", "Invalid code_challenge: 43 to 128 characters of [A-Za-z0-9-._~]"),
            id="code_challenge-42-chars",
        ),
        pytest.param(
            {"code_challenge": "a" * 129},
            ("invalid_request", "Invalid code_challenge: 43 to 128 characters of [A-Za-z0-9-._~]"),
            id="code_challenge-129-chars",
        ),
        pytest.param(
            {"code_challenge": "a" * 42 + "+"},
            ("invalid_request", "Invalid code_challenge: 43 to 128 characters of [A-Za-z0-9-._~]"),
            id="code_challenge-bad-character",
        ),
    ],
)
def test_bad_authorization_request_gets_a_page(
    emulator: Emulator,
    installed: dict[str, Any],
    change: dict[str, str | None],
    expected: tuple[str, str],
) -> None:
    params = base(installed)
    for name, value in change.items():
        if value is None:
            del params[name]
        else:
            params[name] = value
    assert page(get_auth(emulator, params), 400) == expected


@pytest.mark.parametrize("length", [43, 128])
def test_code_challenge_of_43_and_128_characters_is_accepted(
    emulator: Emulator, installed: dict[str, Any], length: int
) -> None:
    params = base(installed, code_challenge=("A-._~z9" * 20)[:length])
    response = get_auth(emulator, params)
    assert "code" in redirect(response, LOOPBACK)


@pytest.mark.parametrize("name", ["scope", "client_id", "redirect_uri", "state", "prompt"])
def test_repeated_parameter_gets_a_page(
    emulator: Emulator, installed: dict[str, Any], name: str
) -> None:
    params = list(base(installed, state="s", prompt="consent").items())
    params.append((name, dict(params)[name]))
    assert page(get_auth(emulator, params), 400) == (
        "invalid_request",
        f"Parameter not allowed to be repeated: {name}",
    )


def test_parameter_in_both_query_and_post_body_counts_as_repeated(
    emulator: Emulator, installed: dict[str, Any]
) -> None:
    params = base(installed)
    response = httpx.post(
        f"{emulator.url}/o/oauth2/v2/auth", params=params, data={"scope": "openid"}
    )
    assert page(response, 400) == ("invalid_request", "Parameter not allowed to be repeated: scope")


def test_authorization_request_by_post_form(emulator: Emulator, installed: dict[str, Any]) -> None:
    response = httpx.post(f"{emulator.url}/o/oauth2/auth", data=base(installed, state="p"))
    assert redirect(response, LOOPBACK)["state"] == "p"


# -- answered by redirecting back to the application --------------------------------------------


def test_access_denied_goes_back_with_the_state(
    emulator: Emulator, installed: dict[str, Any]
) -> None:
    emulator.consent_auto(email=ADA, grant="deny")
    response = get_auth(emulator, base(installed, state="st-42"))
    assert redirect(response, LOOPBACK) == {"state": "st-42", "error": "access_denied"}


def test_testing_app_refuses_a_user_who_is_not_a_test_user(emulator: Emulator) -> None:
    client = emulator.create_client(publishing_status="testing", test_users=["bob@example.com"])
    emulator.create_user(ADA)
    emulator.create_user("bob@example.com")
    emulator.consent_auto(email=ADA)
    response = get_auth(emulator, base(client, state="t", scope=GMAIL_RO))
    assert redirect(response, LOOPBACK) == {"state": "t", "error": "access_denied"}
    emulator.consent_auto(email="BOB@example.com")  # test users are matched without case
    assert "code" in redirect(get_auth(emulator, base(client, scope=GMAIL_RO)), LOOPBACK)


def test_prompt_none_without_an_earlier_grant_is_consent_required(
    emulator: Emulator, installed: dict[str, Any]
) -> None:
    response = get_auth(emulator, base(installed, prompt="none", state="n1"))
    assert redirect(response, LOOPBACK) == {"state": "n1", "error": "consent_required"}


def test_prompt_none_after_a_grant_answers_without_a_page(
    emulator: Emulator, installed: dict[str, Any]
) -> None:
    login(emulator, installed, f"email {GMAIL_RO}")
    emulator.consent_interactive()  # a page would be shown now, but prompt=none never shows one
    params = redirect(get_auth(emulator, base(installed, prompt="none", scope=GMAIL_RO)), LOOPBACK)
    assert params["prompt"] == "none"
    assert "code" in params
    more = get_auth(emulator, base(installed, prompt="none", scope=DRIVE_FILE, state="m"))
    assert redirect(more, LOOPBACK) == {"state": "m", "error": "consent_required"}


def test_prompt_none_with_no_account_is_login_required(emulator: Emulator) -> None:
    client = emulator.create_client()
    response = get_auth(emulator, base(client, prompt="none", state="l"))
    assert redirect(response, LOOPBACK) == {"state": "l", "error": "login_required"}


# -- redirect URIs ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "uri",
    [
        "http://127.0.0.1:1/",
        "http://127.0.0.1:65535/callback",
        "http://127.0.0.1/",
        "http://[::1]:8080/",
        "http://[::1]/cb",
        "http://localhost:5000/oauth2callback",
        "http://localhost",
    ],
)
def test_installed_client_accepts_any_loopback_port(
    emulator: Emulator, installed: dict[str, Any], uri: str
) -> None:
    params = redirect(get_auth(emulator, base(installed, redirect_uri=uri, state="x")), uri)
    assert params["state"] == "x"
    assert params["code"].startswith("4/0A")


@pytest.mark.parametrize(
    "uri",
    [
        "https://127.0.0.1:8080/",
        "http://localhost.example.com/",
        "http://127.0.0.1:99999/",
        "http://[::1:8080/",
        "http://example.com/",
        "ftp://127.0.0.1/",
    ],
)
def test_installed_client_refuses_what_is_not_loopback(
    emulator: Emulator, installed: dict[str, Any], uri: str
) -> None:
    error, _ = page(get_auth(emulator, base(installed, redirect_uri=uri)), 400)
    assert error == "redirect_uri_mismatch"


def test_web_client_needs_the_exact_registered_uri(emulator: Emulator) -> None:
    client = emulator.create_client(type="web", redirect_uris=["http://localhost:8080/cb", WEB_URI])
    emulator.create_user(ADA)
    emulator.consent_auto(email=ADA)
    for uri in ("http://localhost:8080/cb", WEB_URI):
        assert "code" in redirect(get_auth(emulator, base(client, redirect_uri=uri)), uri)
    error, _ = page(get_auth(emulator, base(client, redirect_uri="http://localhost:9090/cb")), 400)
    assert error == "redirect_uri_mismatch"


def test_redirect_uri_with_a_query_keeps_it(emulator: Emulator) -> None:
    uri = "https://app.example.com/cb?tenant=7"
    client = emulator.create_client(type="web", redirect_uris=[uri])
    emulator.create_user(ADA)
    emulator.consent_auto(email=ADA)
    location = get_auth(emulator, base(client, redirect_uri=uri, state="q")).headers["location"]
    assert location.startswith(uri + "&")
    query = dict(parse_qsl(urlsplit(location).query))
    assert query["tenant"] == "7"
    assert query["state"] == "q"


# -- refresh tokens for web clients -------------------------------------------------------------


def web_login(emulator: Emulator, client: dict[str, Any], **extra: str) -> dict[str, Any]:
    return login(emulator, client, f"email {GMAIL_RO}", redirect_uri=WEB_URI, **extra)


def test_web_client_gets_a_refresh_token_on_first_offline_consent_only(
    emulator: Emulator, web: dict[str, Any]
) -> None:
    assert "refresh_token" in web_login(emulator, web, access_type="offline")
    assert "refresh_token" not in web_login(emulator, web, access_type="offline")
    assert "refresh_token" in web_login(emulator, web, access_type="offline", prompt="consent")
    assert "refresh_token" not in web_login(emulator, web, access_type="offline")


def test_web_client_never_gets_a_refresh_token_online(
    emulator: Emulator, web: dict[str, Any]
) -> None:
    assert "refresh_token" not in web_login(emulator, web)  # online is the default
    assert "refresh_token" not in web_login(emulator, web, access_type="online", prompt="consent")


def test_installed_client_gets_a_refresh_token_every_time(
    emulator: Emulator, installed: dict[str, Any]
) -> None:
    for _ in range(2):
        assert "refresh_token" in login(emulator, installed, GMAIL_RO, access_type="online")


# -- which scopes come back ---------------------------------------------------------------------


def test_granular_consent_returns_only_the_chosen_scopes_plus_sign_in(
    emulator: Emulator, installed: dict[str, Any]
) -> None:
    emulator.consent_auto(email=ADA, grant=["drive.file"])
    asked = f"openid email profile {GMAIL_RO} {DRIVE_FILE}"
    verifier, challenge = pkce_pair()
    response = authorize(
        emulator, installed, asked, code_challenge=challenge, code_challenge_method="S256"
    )
    params = redirect(response, LOOPBACK)
    assert GMAIL_RO not in params["scope"].split()
    tokens = exchange(emulator, installed, params["code"], verifier=verifier).json()
    assert set(tokens["scope"].split()) == {"openid", EMAIL, PROFILE, DRIVE_FILE}


def test_granular_consent_of_nothing_asked_is_access_denied(
    emulator: Emulator, installed: dict[str, Any]
) -> None:
    emulator.consent_auto(email=ADA, grant=["drive.file"])
    response = get_auth(emulator, base(installed, scope=GMAIL_RO, state="g"))
    assert redirect(response, LOOPBACK) == {"state": "g", "error": "access_denied"}


@pytest.mark.parametrize(
    ("include", "expected"),
    [
        pytest.param("true", {GMAIL_RO, DRIVE_FILE}, id="true-adds-earlier-grants"),
        pytest.param("false", {DRIVE_FILE}, id="false-only-this-request"),
    ],
)
def test_include_granted_scopes(
    emulator: Emulator, installed: dict[str, Any], include: str, expected: set[str]
) -> None:
    login(emulator, installed, GMAIL_RO)
    tokens = login(emulator, installed, DRIVE_FILE, include_granted_scopes=include)
    assert set(tokens["scope"].split()) == expected


# -- state and PKCE -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "state",
    [
        "a b+c&d=e;f/g?h#i",
        "%41%zz%",
        "caf\u00e9 \u2603 \U0001f511",
        "\"'<script>&amp;",
        "tab\there\nnewline",
        "x" * 2000,
    ],
    ids=["delimiters", "percent-signs", "unicode", "quotes-and-html", "control-chars", "long"],
)
def test_state_round_trips_exactly(
    emulator: Emulator, installed: dict[str, Any], state: str
) -> None:
    params = redirect(get_auth(emulator, base(installed, state=state)), LOOPBACK)
    assert params["state"] == state
    emulator.consent_auto(email=ADA, grant="deny")
    denied = redirect(get_auth(emulator, base(installed, state=state)), LOOPBACK)
    assert denied["state"] == state


@pytest.mark.parametrize("method", ["plain", None])
def test_plain_pkce(emulator: Emulator, installed: dict[str, Any], method: str | None) -> None:
    verifier = "plain-Verifier_with.all~allowed-characters-0123456789"
    extra = {"code_challenge": verifier}
    if method is not None:
        extra["code_challenge_method"] = method
    codes = [redirect(get_auth(emulator, base(installed, **extra)), LOOPBACK)["code"] for _ in "ab"]
    wrong = exchange(emulator, installed, codes[0], verifier=verifier.upper())
    assert wrong.status_code == 400
    assert wrong.json() == {"error": "invalid_grant", "error_description": "Bad Request"}
    right = exchange(emulator, installed, codes[1], verifier=verifier)
    assert right.status_code == 200
    assert right.json()["token_type"] == "Bearer"


def test_s256_challenge_does_not_accept_the_challenge_as_verifier(
    emulator: Emulator, installed: dict[str, Any]
) -> None:
    verifier, challenge = pkce_pair()
    params = base(installed, code_challenge=challenge, code_challenge_method="S256")
    first, second = (redirect_params(get_auth(emulator, params))["code"] for _ in "ab")
    assert exchange(emulator, installed, first, verifier=challenge).status_code == 400
    assert exchange(emulator, installed, second, verifier=verifier).status_code == 200
