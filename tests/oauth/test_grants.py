"""Requests to the token, device and revoke endpoints, built as values."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest

from gtoken.oauth import (
    Pkce,
    TokenRequest,
    code_exchange,
    device_authorization,
    device_poll,
    endpoints,
    jwt_bearer,
    refresh,
    revoke,
)
from tests.oauth.samples import (
    ACCESS_TOKEN,
    CLIENT_ID,
    CLIENT_SECRET,
    CODE,
    DEVICE_CODE,
    GMAIL_READONLY,
    REFRESH_TOKEN,
    VERIFIER,
    assert_no_secret,
    client,
    jwt,
)

ASSERTION = jwt({"iss": "robot@p.iam.gserviceaccount.com", "scope": "x", "aud": "y"})
FORM_HEADERS = (
    ("Content-Type", "application/x-www-form-urlencoded"),
    ("Accept", "application/json"),
)


def sent(request: TokenRequest) -> dict[str, str]:
    """The form as the server reads it from the body."""
    return dict(parse_qsl(request.body.decode("ascii"), strict_parsing=True))


def test_code_exchange():
    req = code_exchange(
        client(), code=CODE, redirect_uri="http://127.0.0.1:8765/", pkce=Pkce(VERIFIER)
    )
    assert (req.method, req.url, req.kind, req.headers) == (
        "POST",
        "https://oauth2.googleapis.com/token",
        "authorization_code",
        FORM_HEADERS,
    )
    assert sent(req) == {
        "grant_type": "authorization_code",
        "code": CODE,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "redirect_uri": "http://127.0.0.1:8765/",
        "code_verifier": VERIFIER,
    }
    assert dict(req.form) == sent(req)


def test_token_requests_go_to_the_clients_token_uri():
    emulated = client(token_uri="http://127.0.0.1:9000/token")
    assert refresh(emulated, REFRESH_TOKEN).url == "http://127.0.0.1:9000/token"
    assert device_poll(emulated, DEVICE_CODE).url == "http://127.0.0.1:9000/token"


def test_refresh():
    req = refresh(client(), REFRESH_TOKEN)
    assert req.kind == "refresh_token"
    assert sent(req) == {
        "grant_type": "refresh_token",
        "refresh_token": REFRESH_TOKEN,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }


def test_refresh_narrowed_to_scopes():
    req = refresh(client(), REFRESH_TOKEN, scopes=["email", "gmail.readonly"])
    assert sent(req)["scope"] == f"email {GMAIL_READONLY}"
    with pytest.raises(ValueError, match="must not be empty"):
        refresh(client(), REFRESH_TOKEN, scopes=[])


def test_jwt_bearer():
    req = jwt_bearer(token_uri=endpoints.TOKEN_URI, assertion=ASSERTION)
    assert req.kind == "jwt_bearer"
    assert sent(req) == {
        "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
        "assertion": ASSERTION,
    }


def test_device_authorization():
    req = device_authorization(client(), ["drive.file", "email"], device_url=endpoints.DEVICE_URI)
    assert (req.url, req.kind) == (
        "https://oauth2.googleapis.com/device/code",
        "device_authorization",
    )
    assert sent(req) == {
        "client_id": CLIENT_ID,
        "scope": "email https://www.googleapis.com/auth/drive.file",
    }
    assert "client_secret" not in sent(req)


def test_device_authorization_refuses_scopes_google_does_not_allow_there():
    with pytest.raises(ValueError, match=r"gmail\.readonly"):
        device_authorization(client(), ["gmail.readonly", "email"], device_url=endpoints.DEVICE_URI)
    with pytest.raises(ValueError, match="empty"):
        device_authorization(client(), [], device_url=endpoints.DEVICE_URI)


def test_device_poll():
    req = device_poll(client(), DEVICE_CODE)
    assert req.kind == "device_code"
    assert sent(req) == {
        "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
        "device_code": DEVICE_CODE,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }


def test_revoke():
    req = revoke(ACCESS_TOKEN, revoke_url=endpoints.REVOKE_URI)
    assert (req.url, req.kind) == ("https://oauth2.googleapis.com/revoke", "revoke")
    assert sent(req) == {"token": ACCESS_TOKEN}


def test_reprs_show_no_secret():
    requests = [
        code_exchange(client(), code=CODE, redirect_uri="http://localhost/", pkce=Pkce(VERIFIER)),
        refresh(client(), REFRESH_TOKEN),
        jwt_bearer(token_uri=endpoints.TOKEN_URI, assertion=ASSERTION),
        device_poll(client(), DEVICE_CODE),
        revoke(ACCESS_TOKEN, revoke_url=endpoints.REVOKE_URI),
    ]
    for req in requests:
        assert_no_secret(repr(req), str(req))
        assert ASSERTION not in repr(req)
        assert "grant_type" in repr(req) or req.kind == "revoke"
    assert CLIENT_ID in repr(requests[1])


@pytest.mark.parametrize(
    "build",
    [
        lambda: code_exchange(client(), code="", redirect_uri="http://x/", pkce=Pkce(VERIFIER)),
        lambda: code_exchange(client(), code=CODE, redirect_uri="", pkce=Pkce(VERIFIER)),
        lambda: refresh(client(), ""),
        lambda: jwt_bearer(token_uri="", assertion=ASSERTION),
        lambda: jwt_bearer(token_uri=endpoints.TOKEN_URI, assertion=""),
        lambda: device_poll(client(), ""),
        lambda: revoke("", revoke_url=endpoints.REVOKE_URI),
        lambda: revoke(ACCESS_TOKEN, revoke_url=""),
    ],
)
def test_empty_values_are_misuse(build):
    with pytest.raises(ValueError, match="non-empty"):
        build()


# ---------------------------------------------------------------------------- word for word


@pytest.mark.parametrize(
    ("make", "name"),
    [
        (
            lambda: code_exchange(client(), code="", redirect_uri="http://x/", pkce=Pkce.new()),
            "code",
        ),
        (
            lambda: code_exchange(client(), code=CODE, redirect_uri="", pkce=Pkce.new()),
            "redirect_uri",
        ),
        (lambda: refresh(client(), ""), "refresh_token"),
        (lambda: jwt_bearer(token_uri="", assertion=ASSERTION), "token_uri"),
        (lambda: jwt_bearer(token_uri=endpoints.TOKEN_URI, assertion=""), "assertion"),
        (lambda: device_authorization(client(), ["openid"], device_url=""), "device_url"),
        (lambda: device_poll(client(), ""), "device_code"),
        (lambda: revoke("", revoke_url=endpoints.REVOKE_URI), "token"),
        (lambda: revoke(ACCESS_TOKEN, revoke_url=""), "revoke_url"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_empty_values_are_named(make, name):
    with pytest.raises(ValueError, match=f"^{name} must be a non-empty str$"):
        make()


def test_empty_scope_narrowing_word_for_word():
    with pytest.raises(
        ValueError, match=r"^scopes, when given, must not be empty \(None means all granted\)$"
    ):
        refresh(client(), REFRESH_TOKEN, scopes=[])


@pytest.mark.parametrize(
    ("scopes", "refused"),
    [([], "an empty scope list"), (["openid", "gmail.readonly"], repr([GMAIL_READONLY]))],
)
def test_device_flow_scopes_word_for_word(scopes, refused):
    import re

    message = (
        f"the device flow does not allow {refused}; it allows only openid, email, profile, "
        "drive.appdata, drive.file, youtube, youtube.readonly"
    )
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        device_authorization(client(), scopes, device_url=endpoints.DEVICE_URI)


def test_request_repr_word_for_word():
    request = revoke(ACCESS_TOKEN, revoke_url="https://oauth2.googleapis.com/revoke")
    assert repr(request) == (
        "TokenRequest(POST https://oauth2.googleapis.com/revoke, kind='revoke', form=(token=…6789))"
    )
    poll = device_poll(client(), DEVICE_CODE)
    assert repr(poll).endswith(
        f"form=(grant_type='urn:ietf:params:oauth:grant-type:device_code', device_code=…0123, "
        f"client_id={CLIENT_ID!r}, client_secret=…MnOp))"
    )
