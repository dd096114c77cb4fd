"""Bad input at every emulator endpoint: each gets a 4xx that names what is wrong (a JSON error
body, or an HTML page where a browser is talking), never a 5xx, and the emulator keeps working.

After every test here, a fixture checks that the emulator still answers a whole code flow.
"""

from __future__ import annotations

import base64
import json
import re
import socket
import time
from collections.abc import Iterator
from html import unescape
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import LOOPBACK

ADA = "ada@example.com"
GMAIL_RO = "https://www.googleapis.com/auth/gmail.readonly"
DRIVE_FILE = "https://www.googleapis.com/auth/drive.file"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
LIMIT = 64 * 1024
TOO_LARGE = f"Request body larger than {LIMIT} bytes."
FORM = {"content-type": "application/x-www-form-urlencoded"}
JSON = {"content-type": "application/json"}
NOT_FORM = "Invalid request: the parameters are not valid form encoding."
NOT_JSON_FORM = "Invalid JSON payload received."
NOT_OBJECT_OF_STRINGS = "Invalid JSON payload received: expected an object of strings."
NOT_JSON = "The body is not valid JSON."
NOT_OBJECT = "The body must be a JSON object."
DEEP = b"[" * 30_000 + b"]" * 30_000  # far deeper than a recursive parser goes, under 64 KiB
MANY_FIELDS = "&".join(f"f{i}=x" for i in range(201)).encode()

# Placeholders in the cases below, filled in from the world the `world` fixture sets up.
CID, SECRET, WEB_CID = "<client_id>", "<client_secret>", "<web_client_id>"

JSON_ENDPOINTS = ["/token", "/device/code", "/revoke", "/tokeninfo", "/oauth2/v3/tokeninfo"]
PAGE_ENDPOINTS = [
    "/o/oauth2/v2/auth",
    "/o/oauth2/auth",
    "/o/oauth2/consent",
    "/device",
    "/device/consent",
]
CONTROL_ENDPOINTS = [
    "/_emulator/clients",
    "/_emulator/users",
    "/_emulator/service-accounts",
    "/_emulator/consent",
    "/_emulator/config",
    "/_emulator/clock",
    "/_emulator/faults",
]


@pytest.fixture(scope="module")
def http(emulator_process: str) -> Iterator[httpx.Client]:
    """One kept-alive client for the whole module (no redirects followed)."""
    with httpx.Client(base_url=emulator_process, timeout=30) as client:
        yield client


class Secrets(dict[str, str]):
    """Real ids, secrets and tokens by placeholder; shown without them if a test fails."""

    def __repr__(self) -> str:
        return f"Secrets({sorted(self)})"


@pytest.fixture
def world(http: httpx.Client) -> Iterator[dict[str, str]]:
    """An emptied emulator with an installed and a web client, the user Ada and auto consent;
    afterwards, the emulator must still work."""
    assert http.post("/_emulator/reset").status_code == 200
    installed = http.post("/_emulator/clients", json={}).json()["installed"]
    web_uris = {"type": "web", "redirect_uris": ["https://app.example.com/cb"]}
    web = http.post("/_emulator/clients", json=web_uris).json()["web"]
    assert http.post("/_emulator/users", json={"email": ADA}).status_code == 201
    assert http.post("/_emulator/consent", json={"mode": "auto", "email": ADA}).status_code == 200
    yield Secrets(
        {CID: installed["client_id"], SECRET: installed["client_secret"], WEB_CID: web["client_id"]}
    )
    assert_still_works(http)


def assert_still_works(http: httpx.Client) -> None:
    """Health, and a whole code flow with a refresh, from a clean state."""
    assert http.get("/_emulator/health").json() == {"status": "ok"}
    assert http.post("/_emulator/reset").status_code == 200
    app = http.post("/_emulator/clients", json={}).json()["installed"]
    assert http.post("/_emulator/users", json={"email": "after@example.com"}).status_code == 201
    assert http.post("/_emulator/consent", json={"mode": "auto"}).status_code == 200
    query = {
        "client_id": app["client_id"],
        "redirect_uri": LOOPBACK,
        "response_type": "code",
        "scope": "email",
    }
    location = http.get("/o/oauth2/v2/auth", params=query).headers["location"]
    code = dict(parse_qsl(urlsplit(location).query))["code"]
    secret = {"client_id": app["client_id"], "client_secret": app["client_secret"]}
    tokens = http.post(
        "/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": LOOPBACK, **secret},
    )
    assert tokens.status_code == 200
    again = http.post(
        "/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": tokens.json()["refresh_token"],
            **secret,
        },
    )
    assert again.status_code == 200


def fill(value: Any, names: dict[str, str]) -> Any:
    """``value`` with the placeholders replaced by the real ids and secrets."""
    if isinstance(value, str):
        for placeholder, real in names.items():
            value = value.replace(placeholder, real)
        return value
    if isinstance(value, bytes):
        return fill(value.decode("latin-1"), names).encode("latin-1")
    if isinstance(value, dict):
        return {fill(k, names): fill(v, names) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(fill(v, names) for v in value)
    return value


def description(response: httpx.Response) -> str:
    """What the answer says is wrong: the JSON error description, or the page's."""
    kind = response.headers.get("content-type", "")
    if kind.startswith("application/json"):
        body = response.json()
        assert isinstance(body, dict)
        if isinstance(body.get("error"), dict):  # the shape of Google's JSON APIs
            text: str = body["error"]["message"]
            return text
        assert isinstance(body.get("error"), str)
        assert body["error"]
        text = body["error_description"]
        assert isinstance(text, str)
        return text
    assert kind.startswith("text/html"), kind
    found = re.search(r"<p id=error-description>(.*?)</p>", response.text, re.S)
    assert found is not None
    return unescape(found.group(1))


def refused(response: httpx.Response, status: int, says: str, *, page: bool = False) -> None:
    """A 4xx with ``status`` whose description contains ``says``, as JSON or as a page."""
    assert response.status_code == status
    kind = response.headers.get("content-type", "")
    assert kind.startswith("text/html" if page else "application/json")
    assert says in description(response)


def send(http: httpx.Client, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """``query``, if given, goes into the URL as is: httpx would re-encode ``params``."""
    query = kwargs.pop("query", None)
    return http.request(method, path if query is None else f"{path}?{query}", **kwargs)


# -- the token endpoint -------------------------------------------------------------------------

REFRESH = {"grant_type": "refresh_token", "client_id": CID, "client_secret": SECRET}
TOKEN_CASES: list[Any] = [
    pytest.param({"data": {}}, 400, "Required parameter is missing: grant_type", id="nothing"),
    pytest.param(
        {"data": {"grant_type": ""}},
        400,
        "Required parameter is missing: grant_type",
        id="empty-grant_type",
    ),
    pytest.param(
        {"data": {"grant_type": "password"}}, 400, "Invalid grant_type: password", id="password"
    ),
    pytest.param(
        {"content": b"grant_type=refresh_token&grant_type=refresh_token", "headers": FORM},
        400,
        "Parameter not allowed to be repeated: grant_type",
        id="repeated-grant_type",
    ),
    pytest.param(
        {"content": f"grant_type=refresh_token&client_id={CID}&client_id={CID}".encode()},
        400,
        "Parameter not allowed to be repeated: client_id",
        id="repeated-client_id",
    ),
    pytest.param(
        {"data": {"grant_type": "refresh_token", "refresh_token": "1//0x"}},
        400,
        "Could not determine client ID from request.",
        id="no-client_id",
    ),
    pytest.param(
        {"data": {**REFRESH, "grant_type": "authorization_code"}},
        400,
        "Missing required parameter: code",
        id="no-code",
    ),
    pytest.param({"data": REFRESH}, 400, "Missing required parameter: refresh_token", id="no-rt"),
    pytest.param(
        {"data": {"grant_type": JWT_BEARER}},
        400,
        "Missing required parameter: assertion",
        id="no-assertion",
    ),
    pytest.param(
        {"data": {**REFRESH, "grant_type": DEVICE_GRANT}},
        400,
        "Missing required parameter: device_code",
        id="no-device_code",
    ),
    pytest.param(
        {"data": {**REFRESH, "grant_type": DEVICE_GRANT, "device_code": "AH-1Ng" + "x" * 100}},
        400,
        "Bad Request",
        id="unknown-device_code",
    ),
    pytest.param(
        {"content": b"grant_type=\xff\xfe\x00", "headers": FORM},
        400,
        NOT_FORM,
        id="non-utf8-bytes",
    ),
    pytest.param(
        {"content": b"grant_type=%FF%FE", "headers": FORM}, 400, NOT_FORM, id="non-utf8-escapes"
    ),
    pytest.param({"content": MANY_FIELDS, "headers": FORM}, 400, NOT_FORM, id="201-fields"),
    pytest.param({"content": b"{grant_type", "headers": JSON}, 400, NOT_JSON_FORM, id="bad-json"),
    pytest.param({"content": b"\xff{}", "headers": JSON}, 400, NOT_JSON_FORM, id="non-utf8-json"),
    pytest.param({"content": DEEP, "headers": JSON}, 400, NOT_JSON_FORM, id="deeply-nested-json"),
    pytest.param(
        {"content": b'{"grant_type": NaN}', "headers": JSON}, 400, NOT_JSON_FORM, id="json-NaN"
    ),
    *[
        pytest.param({"json": body}, 400, NOT_OBJECT_OF_STRINGS, id=f"json-{name}")
        for name, body in [
            ("list", [["grant_type", "refresh_token"]]),
            ("number", 42),
            ("string", "grant_type=refresh_token"),
            ("nested-object", {"grant_type": {"value": "refresh_token"}}),
            ("list-value", {"grant_type": ["refresh_token"]}),
            ("boolean-value", {**REFRESH, "refresh_token": True}),
            ("float-value", {**REFRESH, "refresh_token": 1.5}),
            ("null-value", {**REFRESH, "refresh_token": None}),
        ]
    ],
    pytest.param({"content": b"null", "headers": JSON}, 400, NOT_OBJECT_OF_STRINGS, id="json-null"),
    pytest.param(
        {"json": {**REFRESH, "refresh_token": -1}},
        400,
        "Token has been expired or revoked.",
        id="json-negative-number-refresh_token",
    ),
    pytest.param(
        {"data": REFRESH | {"refresh_token": "x"}, "headers": {"Authorization": "Basic !!!"}},
        400,
        "Malformed HTTP Basic credentials.",
        id="basic-not-base64",
    ),
    pytest.param(
        {
            "data": {"grant_type": "refresh_token", "refresh_token": "x"},
            "headers": {"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()},
        },
        400,
        "Malformed HTTP Basic credentials.",
        id="basic-without-colon",
    ),
    pytest.param(
        {
            "data": REFRESH | {"refresh_token": "x"},
            "headers": {"Authorization": "Basic " + base64.b64encode(b"other:secret").decode()},
        },
        400,
        "Client credentials were given twice and differ.",
        id="basic-and-form-differ",
    ),
    pytest.param(
        {"data": REFRESH | {"client_id": "9" * 60_000, "refresh_token": "x"}},
        401,
        "The OAuth client was not found.",
        id="very-long-client_id",
    ),
    pytest.param(
        {"data": REFRESH | {"refresh_token": "1//0" + "x" * 60_000}},
        400,
        "Token has been expired or revoked.",
        id="very-long-refresh_token",
    ),
    pytest.param(
        {
            "data": REFRESH
            | {"grant_type": "authorization_code", "code": "x" * 60_000, "redirect_uri": LOOPBACK}
        },
        400,
        "Malformed auth code.",
        id="very-long-code",
    ),
    pytest.param(
        {"data": {"grant_type": JWT_BEARER, "assertion": "e30." * 15_000}},
        400,
        "Invalid JWT Signature.",
        id="very-long-garbage-assertion",
    ),
    pytest.param(
        {
            "content": b'--b\r\nContent-Disposition: form-data; name="grant_type"\r\n\r\n'
            b"refresh_token\r\n--b--\r\n",
            "headers": {"content-type": "multipart/form-data; boundary=b"},
        },
        400,
        "Required parameter is missing: grant_type",
        id="multipart-is-not-read",
    ),
    pytest.param(
        {"content": json.dumps(REFRESH).encode(), "headers": {"content-type": "text/plain"}},
        400,
        "Required parameter is missing: grant_type",
        id="json-sent-as-text",
    ),
]


@pytest.mark.parametrize(("request_kwargs", "status", "says"), TOKEN_CASES)
def test_token_endpoint_refuses(
    http: httpx.Client,
    world: dict[str, str],
    request_kwargs: dict[str, Any],
    status: int,
    says: str,
) -> None:
    response = send(http, "POST", "/token", **fill(request_kwargs, world))
    refused(response, status, says)
    assert response.headers["cache-control"].startswith("no-cache, no-store")


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def signed(key: dict[str, Any], **claims: Any) -> str:
    """An RS256 JWT signed with ``key`` over exactly these claims, NaN and all (PyJWT's encoder
    would refuse some of them)."""
    now = int(time.time())
    payload = {
        "iss": key["client_email"],
        "aud": "https://oauth2.googleapis.com/token",
        "scope": DRIVE_FILE,
        "iat": now,
        "exp": now + 3600,
        **claims,
    }
    header = {"alg": "RS256", "typ": "JWT", "kid": key["private_key_id"]}
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"
    private = serialization.load_pem_private_key(key["private_key"].encode(), password=None)
    assert isinstance(private, rsa.RSAPrivateKey)
    signature = private.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64(signature)}"


JWT_TIMES = "Invalid JWT: Token must be a short-lived token (60 minutes)"


@pytest.mark.parametrize(
    ("claims", "status", "says"),
    [
        pytest.param(
            {"aud": ["https://oauth2.googleapis.com/token"]}, 400, "audience", id="aud-list"
        ),
        pytest.param({"aud": {"a": 1}}, 400, "Failed audience check.", id="aud-object"),
        pytest.param({"aud": None}, 400, "Failed audience check.", id="aud-null"),
        pytest.param({"iat": "now"}, 400, JWT_TIMES, id="iat-string"),
        pytest.param({"iat": True, "exp": 3000}, 400, JWT_TIMES, id="iat-boolean"),
        pytest.param({"iat": float("nan"), "exp": float("nan")}, 400, JWT_TIMES, id="times-NaN"),
        pytest.param({"exp": float("inf")}, 400, JWT_TIMES, id="exp-infinite"),
        pytest.param({"iat": -(10**30), "exp": 10**30}, 400, JWT_TIMES, id="times-huge"),
        pytest.param({"iat": None}, 400, JWT_TIMES, id="iat-null"),
        pytest.param({"scope": ["x"]}, 400, "Invalid oauth scope", id="scope-list"),
        pytest.param({"scope": ""}, 400, "Invalid oauth scope", id="scope-empty"),
        pytest.param({"sub": ["a"]}, 400, "Invalid email or User ID", id="sub-list"),
        pytest.param(
            {"sub": "nobody@example.com"}, 400, "Invalid email or User ID", id="sub-unknown"
        ),
        pytest.param({"iss": ["robot"]}, 400, "account not found", id="iss-list"),
        pytest.param({"iss": None}, 400, "account not found", id="iss-null"),
        pytest.param(
            {"jti": 5, "sub": 7}, 400, "Invalid email or User ID", id="jti-and-sub-numbers"
        ),
    ],
)
def test_jwt_with_absurd_claims(
    http: httpx.Client, world: dict[str, str], claims: dict[str, Any], status: int, says: str
) -> None:
    key = http.post("/_emulator/service-accounts", json={}).json()
    response = http.post(
        "/token", data={"grant_type": JWT_BEARER, "assertion": signed(key, **claims)}
    )
    refused(response, status, says)


# -- device authorization -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_kwargs", "status", "says"),
    [
        pytest.param({"data": {}}, 400, "Could not determine client ID", id="nothing"),
        pytest.param(
            {"data": {"client_id": "nope", "scope": "email"}},
            401,
            "The OAuth client was not found.",
            id="unknown-client",
        ),
        pytest.param(
            {"data": {"client_id": WEB_CID, "scope": "email"}},
            401,
            "Invalid client type.",
            id="web-client",
        ),
        pytest.param(
            {"data": {"client_id": CID}}, 400, "Missing required parameter: scope", id="no-scope"
        ),
        pytest.param(
            {"data": {"client_id": CID, "scope": " \t "}},
            400,
            "Missing required parameter: scope",
            id="blank-scope",
        ),
        pytest.param(
            {"data": {"client_id": CID, "scope": "email drive.file"}},
            400,
            "Some requested scopes were invalid. {invalid=[drive.file]}",
            id="short-form-scope",
        ),
        pytest.param(
            {"content": f"client_id={CID}&scope=email&scope=openid".encode(), "headers": FORM},
            400,
            "Parameter not allowed to be repeated: scope",
            id="repeated-scope",
        ),
        pytest.param(
            {"content": b"client_id=\xc3\x28", "headers": FORM}, 400, NOT_FORM, id="non-utf8"
        ),
        pytest.param({"json": [CID, "email"]}, 400, NOT_OBJECT_OF_STRINGS, id="json-list"),
        pytest.param(
            {"json": {"client_id": CID, "scope": ["email"]}},
            400,
            NOT_OBJECT_OF_STRINGS,
            id="json-scope-list",
        ),
    ],
)
def test_device_code_refuses(
    http: httpx.Client,
    world: dict[str, str],
    request_kwargs: dict[str, Any],
    status: int,
    says: str,
) -> None:
    refused(send(http, "POST", "/device/code", **fill(request_kwargs, world)), status, says)


@pytest.mark.parametrize(
    ("content", "says"),
    [
        pytest.param(b"", "That code is not valid or has expired.", id="no-code"),
        pytest.param(b"user_code=ZZZ-ZZZ-ZZZ", "That code is not valid", id="unknown-code"),
        pytest.param(b"user_code=" + b"A" * 60_000, "That code is not valid", id="very-long"),
        pytest.param(
            b"user_code=A&user_code=B", "Parameter not allowed to be repeated: user_code", id="rep"
        ),
        pytest.param(b"user_code=%FF", NOT_FORM, id="non-utf8"),
        pytest.param(b'{"user_code": 5}', "That code is not valid", id="json"),
    ],
)
def test_device_page_refuses(
    http: httpx.Client, world: dict[str, str], content: bytes, says: str
) -> None:
    refused(http.post("/device", content=content, headers=FORM), 400, says, page=True)


def test_device_page_ignores_its_query(http: httpx.Client, world: dict[str, str]) -> None:
    response = http.get("/device", params={"user_code": "%FF" * 10, "x": "\x00"})
    assert response.status_code == 200
    assert "Enter the code displayed on your device" in response.text


# -- the consent forms --------------------------------------------------------------------------

EXPIRED_SESSION = "This sign-in session has expired or was used; start again from the app."


@pytest.mark.parametrize("path", ["/o/oauth2/consent", "/device/consent"])
@pytest.mark.parametrize(
    ("content", "says"),
    [
        pytest.param(b"", EXPIRED_SESSION, id="nothing"),
        pytest.param(b"consent_id=made-up&action=allow", EXPIRED_SESSION, id="unknown-session"),
        pytest.param(
            b"consent_id=a&consent_id=b",
            "Parameter not allowed to be repeated: consent_id",
            id="repeated-session",
        ),
        pytest.param(b"consent_id=a&action=allow&action=cancel", "repeated: action", id="rep-act"),
        pytest.param(b"consent_id=\xff", NOT_FORM, id="non-utf8"),
        pytest.param(b"consent_id=" + b"x" * 60_000, EXPIRED_SESSION, id="very-long"),
    ],
)
def test_consent_form_refuses(
    http: httpx.Client, world: dict[str, str], path: str, content: bytes, says: str
) -> None:
    refused(http.post(path, content=content, headers=FORM), 400, says, page=True)


def consent_session(http: httpx.Client, world: dict[str, str]) -> str:
    """Open the interactive consent page and return the session id its form carries."""
    http.post("/_emulator/consent", json={"mode": "interactive"})
    page = http.get(
        "/o/oauth2/v2/auth",
        params={
            "client_id": world[CID],
            "redirect_uri": LOOPBACK,
            "response_type": "code",
            "scope": f"email {GMAIL_RO}",
        },
    )
    found = re.search(r"name=consent_id value='([^']+)'", page.text)
    assert found is not None
    return found.group(1)


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        pytest.param({}, "Choose an account to continue.", id="no-account"),
        pytest.param({"account": "nobody@example.com"}, "Choose an account", id="unknown-account"),
        pytest.param({"new_account": "not-an-email"}, "Enter an email address", id="not-email"),
        pytest.param({"new_account": "a b@example.com"}, "Enter an email address", id="space"),
        pytest.param(
            {"new_account": "x" * 300 + "@example.com"}, "Enter an email address", id="too-long"
        ),
    ],
)
def test_consent_form_with_a_bad_account(
    http: httpx.Client, world: dict[str, str], fields: dict[str, str], says: str
) -> None:
    session = consent_session(http, world)
    response = http.post(
        "/o/oauth2/consent", data={"consent_id": session, "action": "allow", **fields}
    )
    refused(response, 400, says, page=True)
    users = http.get("/_emulator/users").json()["users"]
    assert [u["email"] for u in users] == [ADA]  # nobody was created


# -- the authorization endpoint -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "request_kwargs", "status", "says"),
    [
        pytest.param("GET", {}, 400, "Missing required parameter: client_id", id="nothing"),
        pytest.param("GET", {"params": {"client_id": ""}}, 400, "client_id", id="empty-client"),
        pytest.param(
            "GET",
            {"params": {"client_id": "9" * 30_000}},
            401,
            "The OAuth client was not found.",
            id="very-long-client_id",
        ),
        pytest.param("GET", {"query": "client_id=%FF%FE"}, 400, NOT_FORM, id="non-utf8-escapes"),
        pytest.param("GET", {"query": MANY_FIELDS.decode()}, 400, NOT_FORM, id="201-fields"),
        pytest.param(
            "GET",
            {"query": f"client_id={CID}&client_id={CID}"},
            400,
            "Parameter not allowed to be repeated: client_id",
            id="repeated",
        ),
        pytest.param(
            "POST",
            {"content": b"client_id=\xff", "headers": FORM},
            400,
            NOT_FORM,
            id="post-non-utf8",
        ),
        pytest.param(
            "POST",
            {"json": {"client_id": CID, "redirect_uri": LOOPBACK}},
            400,
            "Missing required parameter: client_id",
            id="post-json",
        ),
        pytest.param(
            "POST",
            {"content": DEEP, "headers": JSON},
            400,
            "Missing required parameter: client_id",
            id="post-deep-json",
        ),
    ],
)
def test_authorization_endpoint_refuses_with_a_page(
    http: httpx.Client,
    world: dict[str, str],
    method: str,
    request_kwargs: dict[str, Any],
    status: int,
    says: str,
) -> None:
    response = send(http, method, "/o/oauth2/v2/auth", **fill(request_kwargs, world))
    refused(response, status, says, page=True)
    assert "location" not in response.headers


# -- revoke, tokeninfo, userinfo ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "request_kwargs", "says"),
    [
        pytest.param("POST", "/revoke", {}, "Missing required parameter: token", id="revoke"),
        pytest.param("GET", "/revoke", {}, "Missing required parameter: token", id="revoke-GET"),
        pytest.param(
            "POST", "/revoke", {"data": {"token": ""}}, "Missing required parameter: token", id="e"
        ),
        pytest.param(
            "POST",
            "/revoke",
            {"content": b"token=a&token=b", "headers": FORM},
            "Parameter not allowed to be repeated: token",
            id="revoke-repeated",
        ),
        pytest.param(
            "POST", "/revoke", {"content": b"token=\xff", "headers": FORM}, NOT_FORM, id="r-utf8"
        ),
        pytest.param("POST", "/revoke", {"json": ["token"]}, NOT_OBJECT_OF_STRINGS, id="r-list"),
        pytest.param(
            "POST",
            "/revoke",
            {"data": {"token": "ya29." + "x" * 60_000}},
            "Token expired or revoked",
            id="revoke-very-long-unknown",
        ),
        pytest.param(
            "GET",
            "/tokeninfo",
            {},
            "Missing required parameter: access_token or id_token",
            id="tokeninfo",
        ),
        pytest.param(
            "GET",
            "/oauth2/v3/tokeninfo",
            {"query": "access_token=a&access_token=b"},
            "Parameter not allowed to be repeated: access_token",
            id="tokeninfo-repeated",
        ),
        pytest.param(
            "GET", "/tokeninfo", {"query": "access_token=%C3%28"}, NOT_FORM, id="tokeninfo-utf8"
        ),
        pytest.param(
            "POST", "/tokeninfo", {"json": {"id_token": {}}}, NOT_OBJECT_OF_STRINGS, id="ti-json"
        ),
        pytest.param(
            "POST",
            "/tokeninfo",
            {"data": {"id_token": "e30.e30.e30"}},
            "Invalid Value",
            id="tokeninfo-garbage-id_token",
        ),
        pytest.param(
            "GET",
            "/tokeninfo",
            {"params": {"access_token": "ya29." + "x" * 30_000}},
            "Invalid Value",
            id="tokeninfo-very-long",
        ),
    ],
)
def test_revoke_and_tokeninfo_refuse(
    http: httpx.Client,
    world: dict[str, str],
    method: str,
    path: str,
    request_kwargs: dict[str, Any],
    says: str,
) -> None:
    refused(send(http, method, path, **request_kwargs), 400, says)


@pytest.mark.parametrize("path", ["/v1/userinfo", "/oauth2/v3/userinfo", "/oauth2/v2/userinfo"])
@pytest.mark.parametrize(
    "request_kwargs",
    [
        pytest.param({"headers": {"Authorization": "Bearer"}}, id="bearer-alone"),
        pytest.param({"headers": {"Authorization": "Bearer  a b\tc"}}, id="bearer-spaces"),
        pytest.param({"headers": {"Authorization": "Bearer " + "x" * 30_000}}, id="very-long"),
        pytest.param({"headers": {"Authorization": b"Bearer \xff\xfe"}}, id="non-ascii-header"),
        pytest.param({"headers": {"Authorization": "Token abc"}}, id="other-scheme"),
        pytest.param({"query": "access_token=%FF"}, id="non-utf8-query"),
        pytest.param({"query": "access_token=a&access_token=b"}, id="repeated-query"),
    ],
)
def test_userinfo_refuses(
    http: httpx.Client, world: dict[str, str], path: str, request_kwargs: dict[str, Any]
) -> None:
    response = send(http, "GET", path, **request_kwargs)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert description(response) in (
        "Invalid Credentials",
        "Request is missing required authentication credential. Expected OAuth 2 access token, "
        "login cookie or other valid authentication credential.",
    )


@pytest.mark.parametrize(
    "path", ["/.well-known/openid-configuration", "/oauth2/v3/certs", "/oauth2/v1/certs"]
)
def test_discovery_and_certs_ignore_query_and_body(
    http: httpx.Client, world: dict[str, str], path: str
) -> None:
    # They take no input, as at Google: junk in the query or a body changes nothing.
    plain = http.get(path).json()
    junk = http.request("GET", f"{path}?a=%FF&a=b&{'x' * 10_000}", content=b"\xff" * 1000)
    assert junk.status_code == 200
    assert junk.json() == plain


# -- wrong methods and unknown paths ------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", "/token", "POST"),
        ("PUT", "/token", "POST"),
        ("GET", "/device/code", "POST"),
        ("DELETE", "/revoke", "GET, HEAD, POST"),
        ("PUT", "/tokeninfo", "GET, HEAD, POST"),
        ("POST", "/oauth2/v2/userinfo", "GET, HEAD"),
        ("DELETE", "/v1/userinfo", "GET, HEAD, POST"),
        ("POST", "/.well-known/openid-configuration", "GET, HEAD"),
        ("POST", "/oauth2/v3/certs", "GET, HEAD"),
        ("PUT", "/o/oauth2/v2/auth", "GET, HEAD, POST"),
        ("GET", "/o/oauth2/consent", "POST"),
        ("GET", "/device/consent", "POST"),
        ("POST", "/_emulator/health", "GET, HEAD"),
        ("GET", "/_emulator/clients", "POST"),
        ("DELETE", "/_emulator/users", "GET, HEAD, POST"),
        ("GET", "/_emulator/users/ada@example.com/revoke", "POST"),
        ("GET", "/_emulator/service-accounts", "POST"),
        ("GET", "/_emulator/consent", "POST"),
        ("PUT", "/_emulator/config", "GET, HEAD, POST"),
        ("DELETE", "/_emulator/clock", "GET, HEAD, POST"),
        ("PUT", "/_emulator/faults", "DELETE, GET, HEAD, POST"),
        ("POST", "/_emulator/stats", "GET, HEAD"),
        ("GET", "/_emulator/reset", "POST"),
    ],
)
def test_wrong_method_is_a_405_naming_the_allowed_ones(
    http: httpx.Client, world: dict[str, str], method: str, path: str, allowed: str
) -> None:
    response = http.request(method, path)
    refused(response, 405, f"Method {method} is not allowed on {path}; use ")
    assert sorted(response.headers["allow"].split(", ")) == allowed.split(", ")


@pytest.mark.parametrize(
    ("path", "says"),
    [
        ("/nope", "No such endpoint: GET /nope"),
        ("/o/oauth2/v3/auth", "No such endpoint: GET /o/oauth2/v3/auth"),
        ("/token/extra", "No such endpoint: GET /token/extra"),
        ("/_emulator/nope", "No such control call: /_emulator/nope"),
        ("/_emulator/users/ada@example.com/delete", "No such control call"),
        ("/_emulator/users/a/b/revoke", "No such control call"),
    ],
)
def test_unknown_path_is_a_404(
    http: httpx.Client, world: dict[str, str], path: str, says: str
) -> None:
    refused(http.get(path), 404, says)


# -- bodies: too large, garbage, JSON of the wrong shape ----------------------------------------


def chunks(size: int) -> Iterator[bytes]:
    """A body sent chunked, with no Content-Length to check up front."""
    piece = b"a=" + b"x" * 8190
    sent = 0
    while sent < size:
        yield piece
        sent += len(piece)


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
@pytest.mark.parametrize("path", JSON_ENDPOINTS + PAGE_ENDPOINTS + CONTROL_ENDPOINTS)
def test_body_over_64_kib_is_refused(
    http: httpx.Client, world: dict[str, str], path: str, framing: str
) -> None:
    content: bytes | Iterator[bytes] = (
        b"a=" + b"x" * LIMIT if framing == "content-length" else chunks(LIMIT + 1)
    )
    response = http.post(path, content=content, headers=FORM)
    refused(response, 413, TOO_LARGE, page=path in PAGE_ENDPOINTS)


def test_body_of_exactly_64_kib_is_read(http: httpx.Client, world: dict[str, str]) -> None:
    padding = b"&pad=" + b"x" * (LIMIT - len(b"&pad=") - len(b"grant_type=nope"))
    body = b"grant_type=nope" + padding
    assert len(body) == LIMIT
    refused(http.post("/token", content=body, headers=FORM), 400, "Invalid grant_type: nope")


@pytest.mark.parametrize("path", JSON_ENDPOINTS + PAGE_ENDPOINTS)
@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"\xff\xfe\xfd=\x80", id="raw-bytes"),
        pytest.param(b"a=%80%81", id="escaped-bytes"),
        pytest.param(MANY_FIELDS, id="201-fields"),
    ],
)
def test_form_body_that_is_not_form_encoding(
    http: httpx.Client, world: dict[str, str], path: str, content: bytes
) -> None:
    response = http.post(path, content=content, headers=FORM)
    refused(response, 400, NOT_FORM, page=path in PAGE_ENDPOINTS)


@pytest.mark.parametrize("path", CONTROL_ENDPOINTS)
@pytest.mark.parametrize(
    ("content", "says"),
    [
        pytest.param(b"{", NOT_JSON, id="truncated"),
        pytest.param(b"\xff\xfe{}", NOT_JSON, id="non-utf8"),
        pytest.param(b"email=ada%40example.com", NOT_JSON, id="form-encoded"),
        pytest.param(DEEP, NOT_JSON, id="deeply-nested"),
        pytest.param(b'{"advance": NaN}', NOT_JSON, id="NaN"),
        pytest.param(b'{"advance": -Infinity}', NOT_JSON, id="Infinity"),
        pytest.param(b"[]", NOT_OBJECT, id="list"),
        pytest.param(b"[{}]", NOT_OBJECT, id="list-of-object"),
        pytest.param(b"3", NOT_OBJECT, id="number"),
        pytest.param(b'"text"', NOT_OBJECT, id="string"),
        pytest.param(b"null", NOT_OBJECT, id="null"),
        pytest.param(b"true", NOT_OBJECT, id="boolean"),
    ],
)
def test_control_body_that_is_not_a_json_object(
    http: httpx.Client, world: dict[str, str], path: str, content: bytes, says: str
) -> None:
    refused(http.post(path, content=content, headers=JSON), 400, says)


# -- the control API, field by field ------------------------------------------------------------

SECONDS = "must be a number of seconds from 0 to 3153600000"
SETTING = "must be a whole number from 0 to 3153600000"
GRANT = '\'grant\' must be "all", "deny" or a list of scopes'
CONTROL_CASES: list[Any] = [
    ("clients", {"type": 5}, "'type' must be one of installed, web"),
    ("clients", {"type": "desktop"}, "'type' must be one of installed, web"),
    ("clients", {"type": ["web"]}, "'type' must be one of installed, web"),
    ("clients", {"redirect_uris": "http://localhost"}, "'redirect_uris' must be a list of strings"),
    ("clients", {"redirect_uris": [8080]}, "'redirect_uris' must be a list of strings"),
    ("clients", {"publishing_status": "beta"}, "'publishing_status' must be one of production"),
    ("clients", {"publishing_status": True}, "'publishing_status' must be one of production"),
    ("clients", {"name": 5}, "'name' must be a string"),
    ("clients", {"name": {"en": "App"}}, "'name' must be a string"),
    ("clients", {"test_users": "ada@example.com"}, "'test_users' must be a list of strings"),
    ("users", {}, "'email' must be an email address"),
    ("users", {"email": 5}, "'email' must be a string"),
    ("users", {"email": ["ada@example.com"]}, "'email' must be a string"),
    ("users", {"email": "not-an-email"}, "'email' must be an email address"),
    ("users", {"email": "a b@example.com"}, "'email' must be an email address"),
    ("users", {"email": "a@" + "x" * 300}, "'email' must be an email address"),
    ("users", {"email": "bob@example.com", "name": 5}, "'name' must be a string"),
    ("users", {"email": "ADA@example.com"}, "exists already"),
    ("service-accounts", {"client_email": 5}, "'client_email' must be a string"),
    ("service-accounts", {"client_email": "robot"}, "'client_email' must be an email address"),
    ("service-accounts", {"delegation_scopes": "mail"}, "must be a list of strings"),
    ("service-accounts", {"delegation_scopes": [{}]}, "must be a list of strings"),
    (
        "service-accounts",
        {"delegation_scopes": ["gmail.readonly", "gmail.readonlyy", ""]},
        "'delegation_scopes' has strings that are not scopes: gmail.readonlyy, ",
    ),
    ("consent", {}, "'mode' must be one of auto, interactive"),
    ("consent", {"mode": "manual"}, "'mode' must be one of auto, interactive"),
    ("consent", {"mode": ["auto"]}, "'mode' must be one of auto, interactive"),
    ("consent", {"mode": "auto", "grant": 5}, GRANT),
    ("consent", {"mode": "auto", "grant": "some"}, GRANT),
    ("consent", {"mode": "auto", "grant": {"scope": "email"}}, GRANT),
    ("consent", {"mode": "auto", "grant": [1]}, "'grant' must be a list of strings"),
    ("consent", {"mode": "auto", "grant": ["drive.fil"]}, "not scopes: drive.fil"),
    ("consent", {"mode": "auto", "email": 5}, "'email' must be a string"),
    ("config", {"nope": 1}, "unknown setting 'nope'; known: access_token_lifetime"),
    ("config", {"access_token_lifetime": -1}, SETTING),
    ("config", {"access_token_lifetime": True}, SETTING),
    ("config", {"access_token_lifetime": 1.5}, SETTING),
    ("config", {"access_token_lifetime": "3600"}, SETTING),
    ("config", {"access_token_lifetime": None}, SETTING),
    ("config", {"code_lifetime": [60]}, SETTING),
    ("config", {"code_lifetime": 10**40}, SETTING),
    ("config", {"max_body_bytes": 1, "refresh_token_limit": -5}, SETTING),
    ("clock", {}, "'advance' (seconds) is required"),
    ("clock", {"advance": -1}, SECONDS),
    ("clock", {"advance": True}, SECONDS),
    ("clock", {"advance": "60"}, SECONDS),
    ("clock", {"advance": None}, SECONDS),
    ("clock", {"advance": [60]}, SECONDS),
    ("clock", {"advance": 1e300}, SECONDS),
    ("clock", {"advance": 10**400}, SECONDS),
    ("faults", {}, "'endpoint' must be one of"),
    ("faults", {"endpoint": "everything", "status": 503}, "'endpoint' must be one of"),
    ("faults", {"endpoint": ["token"], "status": 503}, "'endpoint' must be a string"),
    ("faults", {"endpoint": "token", "status": 200}, "'status' must be an HTTP error status"),
    ("faults", {"endpoint": "token", "status": 600}, "'status' must be an HTTP error status"),
    ("faults", {"endpoint": "token", "status": "503"}, "'status' must be an HTTP error status"),
    ("faults", {"endpoint": "token", "status": True}, "'status' must be an HTTP error status"),
    ("faults", {"endpoint": "token", "status": 503.0}, "'status' must be an HTTP error status"),
    ("faults", {"endpoint": "token", "status": 503, "count": 0}, "'count' must be a positive"),
    ("faults", {"endpoint": "token", "status": 503, "count": -1}, "'count' must be a positive"),
    ("faults", {"endpoint": "token", "status": 503, "count": True}, "'count' must be a positive"),
    ("faults", {"endpoint": "token", "status": 503, "count": 1.5}, "'count' must be a positive"),
    ("faults", {"endpoint": "token", "drop": "yes"}, "'drop' must be true or false"),
    ("faults", {"endpoint": "token", "delay": -1}, "'delay' " + SECONDS),
    ("faults", {"endpoint": "token", "delay": "1"}, "'delay' " + SECONDS),
    ("faults", {"endpoint": "token", "delay": 1e300}, "'delay' " + SECONDS),
    ("faults", {"endpoint": "token"}, "a fault needs a 'status', a 'delay' or 'drop': true"),
    ("faults", {"endpoint": "token", "status": 503, "retry_after": True}, "'retry_after' must"),
    ("faults", {"endpoint": "token", "status": 503, "retry_after": -5}, "'retry_after' must"),
    ("faults", {"endpoint": "token", "status": 503, "retry_after": "7"}, "'retry_after' must"),
    ("faults", {"endpoint": "token", "status": 503, "error": 5}, "'error' must be a string"),
]


def control_state(http: httpx.Client) -> dict[str, Any]:
    """What a control call could change, to check that a refused one changed nothing."""
    return {
        "users": http.get("/_emulator/users").json(),
        "config": http.get("/_emulator/config").json(),
        "offset": http.get("/_emulator/clock").json()["offset"],
        "faults": http.get("/_emulator/faults").json(),
        "token_requests": http.get("/_emulator/stats").json()["token"],
    }


@pytest.mark.parametrize(
    ("call", "body", "says"),
    [pytest.param(*case, id=f"{case[0]}-{json.dumps(case[1])[:40]}") for case in CONTROL_CASES],
)
def test_control_call_refuses_a_bad_field_and_changes_nothing(
    http: httpx.Client, world: dict[str, str], call: str, body: dict[str, Any], says: str
) -> None:
    before = control_state(http)
    response = http.post(f"/_emulator/{call}", json=body)
    refused(response, 409 if says == "exists already" else 400, says)
    assert control_state(http) == before


@pytest.mark.parametrize("action", ["revoke", "password-change", "require-reauth"])
@pytest.mark.parametrize("email", ["nobody@example.com", "%FF%FE", "x" * 5_000])
def test_user_action_for_an_unknown_user_is_a_404(
    http: httpx.Client, world: dict[str, str], action: str, email: str
) -> None:
    refused(http.post(f"/_emulator/users/{email}/{action}"), 404, "create it with POST")


# -- HTTP framing, below what httpx will send ---------------------------------------------------


def raw_exchange(url: str, data: bytes) -> bytes:
    """Send ``data`` on a new connection and read until the server closes it."""
    host, port = urlsplit(url).hostname, urlsplit(url).port
    assert host is not None
    assert port is not None
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(data)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


@pytest.mark.parametrize(
    "path", ["/token", "/_emulator/users", "/o/oauth2/v2/auth", "/device/consent"]
)
def test_content_length_claiming_more_than_64_kib(
    emulator_process: str, world: dict[str, str], path: str
) -> None:
    # The claim alone is refused: the emulator does not wait for 70 000 bytes that never come.
    answer = raw_exchange(
        emulator_process,
        f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 70000\r\n"
        "Connection: close\r\n\r\ngrant_type=x".encode(),
    )
    assert status_of(answer) == 413
    assert TOO_LARGE.encode() in answer


def test_content_length_claiming_less_than_is_sent(
    emulator_process: str, world: dict[str, str]
) -> None:
    # Only the claimed bytes are the body; what follows is no request, and the server refuses it
    # (with the connection closed, the answer to the first request may never be written).
    answer = raw_exchange(
        emulator_process,
        b"POST /token HTTP/1.1\r\nHost: x\r\nContent-Length: 15\r\n\r\n"
        b"grant_type=nope" + b"X" * 70_000,
    )
    statuses = [int(s) for s in re.findall(rb"HTTP/1.1 (\d+) ", answer)]
    assert statuses
    assert all(400 <= s < 500 for s in statuses)
    assert answer.endswith(b"Invalid HTTP request received.")


@pytest.mark.parametrize(
    "head",
    [
        pytest.param(b"GET /tokeninfo?access_token=\xff\xfe HTTP/1.1\r\n", id="raw-byte-in-url"),
        pytest.param(b"POST /token HTTP/1.1\r\nContent-Length: abc\r\n", id="length-not-number"),
        pytest.param(b"POST /token HTTP/1.1\r\nContent-Length: -5\r\n", id="length-negative"),
        pytest.param(
            b"POST /token HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 7\r\n",
            id="length-twice",
        ),
        pytest.param(b"POST /token HTTP/1.1\r\nTransfer-Encoding: gzip\r\n", id="bad-encoding"),
    ],
)
def test_malformed_http_is_a_400(emulator_process: str, world: dict[str, str], head: bytes) -> None:
    # Refused by the HTTP server before the emulator sees it: a 400 with a one-line reason.
    answer = raw_exchange(emulator_process, head + b"Host: x\r\nConnection: close\r\n\r\nabcdefg")
    assert status_of(answer) == 400
    assert answer.endswith(b"Invalid HTTP request received.")


# -- properties: random input never reaches a 5xx -----------------------------------------------

TOKEN_FIELDS = [
    "grant_type",
    "code",
    "client_id",
    "client_secret",
    "redirect_uri",
    "code_verifier",
    "refresh_token",
    "scope",
    "assertion",
    "device_code",
]
RT, CODE = "<refresh_token>", "<code>"
TOKEN_VALUES = [
    "authorization_code",
    "refresh_token",
    JWT_BEARER,
    DEVICE_GRANT,
    CID,
    SECRET,
    WEB_CID,
    RT,
    CODE,
    LOOPBACK,
    "email",
    GMAIL_RO,
    f"openid {DRIVE_FILE}",
    "4/0A",
    "4%2F0A",
    "e30.e30.e30",
]
AUTH_FIELDS = [
    "client_id",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
    "access_type",
    "prompt",
    "include_granted_scopes",
    "login_hint",
    "code_challenge",
    "code_challenge_method",
    "nonce",
    "hd",
]
AUTH_VALUES = [
    CID,
    WEB_CID,
    LOOPBACK,
    "http://[::1]:1/",
    "urn:ietf:wg:oauth:2.0:oob",
    "code",
    "token",
    "email",
    f"openid {GMAIL_RO}",
    "gmail.readonly",
    "offline",
    "online",
    "none",
    "consent",
    "none consent",
    "true",
    ADA,
    "a" * 43,
    "S256",
    "plain",
]


def pairs_of(names: list[str], values: list[str]) -> st.SearchStrategy[list[tuple[str, str]]]:
    name = st.one_of(st.sampled_from(names), st.text(max_size=8))
    value = st.one_of(st.sampled_from(values), st.text(max_size=40))
    return st.lists(st.tuples(name, value), max_size=12)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
token_bodies = st.one_of(
    st.tuples(st.just("form"), pairs_of(TOKEN_FIELDS, TOKEN_VALUES)),
    st.tuples(st.just("json"), st.dictionaries(st.sampled_from(TOKEN_FIELDS), json_values)),
    st.tuples(st.just("bytes"), st.binary(max_size=200)),
)


@pytest.fixture
def fuzz_world(http: httpx.Client, world: dict[str, str]) -> dict[str, str]:
    """``world`` plus a live refresh token and an unused code, for the random bodies to use."""
    query = {
        "client_id": world[CID],
        "redirect_uri": LOOPBACK,
        "response_type": "code",
        "scope": GMAIL_RO,
    }

    def code() -> str:
        location = http.get("/o/oauth2/v2/auth", params=query).headers["location"]
        return dict(parse_qsl(urlsplit(location).query))["code"]

    tokens = http.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": code(),
            "redirect_uri": LOOPBACK,
            "client_id": world[CID],
            "client_secret": world[SECRET],
        },
    ).json()
    return Secrets({**world, RT: tokens["refresh_token"], CODE: code()})


@settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(body=token_bodies, content_type=st.sampled_from([None, "form", "json", "text/plain"]))
def test_random_token_requests_never_get_a_5xx(
    http: httpx.Client, fuzz_world: dict[str, str], body: tuple[str, Any], content_type: str | None
) -> None:
    kind, value = body
    if kind == "form":
        content = urlencode(fill(value, fuzz_world)).encode()
    elif kind == "json":
        content = json.dumps(fill(value, fuzz_world)).encode()
    else:
        content = value
    headers = {
        None: {},
        "form": FORM,
        "json": JSON,
        "text/plain": {"content-type": "text/plain"},
    }[content_type]
    response = http.post("/token", content=content, headers=headers)
    assert response.status_code < 500
    if response.status_code >= 400:
        assert description(response)


@settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    pairs=pairs_of(AUTH_FIELDS, AUTH_VALUES),
    junk=st.lists(st.binary(min_size=1, max_size=6), max_size=3),
    method=st.sampled_from(["GET", "POST"]),
)
def test_random_authorization_requests_never_get_a_5xx(
    http: httpx.Client,
    fuzz_world: dict[str, str],
    pairs: list[tuple[str, str]],
    junk: list[bytes],
    method: str,
) -> None:
    query = urlencode(fill(pairs, fuzz_world))
    # Percent-escaped raw bytes, often not UTF-8 once decoded.
    query += "".join(f"&{quote(bytes(j[:1]))}={quote(bytes(j[1:]))}" for j in junk)
    if method == "GET":
        response = http.get("/o/oauth2/v2/auth?" + query)
    else:
        response = http.post("/o/oauth2/auth", content=query.encode(), headers=FORM)
    assert response.status_code < 500
    if response.status_code == 302:
        assert response.headers["location"]
    else:
        assert 400 <= response.status_code < 500 or response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        if response.status_code >= 400:
            assert description(response)
