"""The consent page's URL, and reading the redirect (or what a person pastes) back."""

from __future__ import annotations

from urllib.parse import parse_qs, quote, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gtoken.oauth import (
    AccessDenied,
    AuthorizationError,
    AuthorizationRequest,
    ConfigError,
    Pkce,
    StateMismatch,
    parse_redirect,
    scopes,
)
from tests.oauth.samples import (
    CLIENT_ID,
    CODE,
    EMAIL_URL,
    GMAIL_READONLY,
    VERIFIER,
    assert_no_secret,
    client,
)

STATE = "Vq3kHc8fZ2wQx7RtYb1nMa5LpEd9GjSu4Oi6Ke0TyHw"
REDIRECT = "http://127.0.0.1:8765/"


def request(**fields) -> AuthorizationRequest:
    values = {
        "client": client(),
        "redirect_uri": REDIRECT,
        "scopes": ["gmail.readonly", "email"],
        "state": STATE,
        "pkce": Pkce(VERIFIER),
    }
    return AuthorizationRequest(**{**values, **fields})


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_url_carries_every_parameter():
    req = request()
    url = req.url()
    assert url.startswith("https://accounts.google.com/o/oauth2/auth?")
    assert query(url) == {
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "scope": f"email {GMAIL_READONLY}",
        "state": STATE,
        "access_type": "offline",
        "code_challenge": req.pkce.challenge,
        "code_challenge_method": "S256",
    }
    assert "%20" in url
    assert "+" not in url
    assert VERIFIER not in url


def test_url_options():
    url = request(
        prompt=("consent", "select_account"),
        login_hint="ann@example.com",
        include_granted_scopes=True,
        access_type="online",
    ).url()
    params = query(url)
    assert params["prompt"] == "consent select_account"
    assert params["login_hint"] == "ann@example.com"
    assert params["include_granted_scopes"] == "true"
    assert params["access_type"] == "online"


def test_url_is_built_on_the_clients_auth_uri():
    emulated = client(auth_uri="http://127.0.0.1:9000/o/oauth2/v2/auth")
    assert request(client=emulated).url().startswith("http://127.0.0.1:9000/o/oauth2/v2/auth?")
    with_query = client(auth_uri="https://example.com/auth?tenant=1")
    assert query(request(client=with_query).url())["tenant"] == "1"


def test_defaults_are_fresh_random_state_and_pkce():
    a = AuthorizationRequest(
        client=client(), redirect_uri=REDIRECT, scopes=frozenset({"drive.file"})
    )
    b = AuthorizationRequest(
        client=client(), redirect_uri=REDIRECT, scopes=frozenset({"drive.file"})
    )
    assert a.state != b.state
    assert len(a.state) >= 32
    assert a.pkce.verifier != b.pkce.verifier
    assert (a.access_type, a.prompt, a.include_granted_scopes) == ("offline", (), False)


def test_scopes_are_canonical():
    assert request().scopes == {GMAIL_READONLY, EMAIL_URL}


@pytest.mark.parametrize(
    ("fields", "error", "match"),
    [
        ({"scopes": []}, ValueError, "at least one scope"),
        ({"scopes": ["gmail readonly"]}, ValueError, "gmail readonly"),
        ({"scopes": "gmail.readonly"}, TypeError, "parse"),
        ({"prompt": ("none", "consent")}, ValueError, "alone"),
        ({"prompt": ("always",)}, ValueError, "always"),
        ({"prompt": "consent"}, TypeError, "tuple"),
        ({"access_type": "forever"}, ValueError, "access_type"),
        ({"state": ""}, ValueError, "state"),
        ({"redirect_uri": "/callback"}, ValueError, "absolute"),
        ({"redirect_uri": "urn:ietf:wg:oauth:2.0:oob"}, ConfigError, "out-of-band"),
        ({"redirect_uri": "oob"}, ConfigError, "blocked"),
    ],
)
def test_bad_requests(fields, error, match):
    with pytest.raises(error, match=match):
        request(**fields)


def test_repr_hides_state_and_verifier():
    req = request()
    assert_no_secret(repr(req), str(req))
    assert STATE not in repr(req)


@given(
    state=st.text(min_size=1, max_size=60).filter(lambda s: s.strip() == s),
    words=st.sets(
        st.sampled_from(["gmail.readonly", "drive.file", "email", "openid", "mail"]), min_size=1
    ),
    hint=st.one_of(st.none(), st.emails()),
)
def test_url_round_trips_state_and_scopes(state, words, hint):
    req = request(state=state, scopes=words, login_hint=hint)
    params = query(req.url())
    assert params["state"] == state
    assert scopes.parse(params["scope"]) == req.scopes == scopes.canonical(words)
    assert params.get("login_hint") == hint


# ---------------------------------------------------------------------------- the redirect

REDIRECTED = (
    f"{REDIRECT}?state={STATE}&iss=https%3A%2F%2Faccounts.google.com&code={CODE}"
    f"&scope=email%20{GMAIL_READONLY}%20openid%20{EMAIL_URL}&authuser=0&prompt=consent"
)


def test_full_redirected_url():
    assert parse_redirect(REDIRECTED, expected_state=STATE) == CODE


def test_query_string_alone():
    tail = REDIRECTED.split("?", 1)[1]
    assert parse_redirect(tail, expected_state=STATE) == CODE
    assert parse_redirect("?" + tail, expected_state=STATE) == CODE


def test_pasted_with_whitespace_and_quotes():
    assert parse_redirect(f'  "{REDIRECTED}"\n', expected_state=STATE) == CODE
    assert parse_redirect(f"<{REDIRECTED}>", expected_state=STATE) == CODE


def test_code_escaped_in_the_url():
    url = f"{REDIRECT}?code={quote(CODE, safe='')}&state={STATE}"
    assert "4%2F0A" in url
    assert parse_redirect(url, expected_state=STATE) == CODE
    twice = f"{REDIRECT}?code={quote(quote(CODE, safe=''), safe='')}&state={STATE}"
    assert parse_redirect(twice, expected_state=STATE) == CODE


def test_bare_code_only_when_allowed():
    assert parse_redirect(CODE, expected_state=STATE, allow_bare_code=True) == CODE
    with pytest.raises(AuthorizationError, match="not a redirect address") as info:
        parse_redirect(CODE, expected_state=STATE)
    assert_no_secret(str(info.value))


def test_bare_code_still_url_encoded():
    assert parse_redirect(quote(CODE, safe=""), expected_state=STATE, allow_bare_code=True) == CODE


def test_a_pasted_url_is_still_state_checked_with_bare_codes_allowed():
    with pytest.raises(StateMismatch):
        parse_redirect(REDIRECTED, expected_state="another-login", allow_bare_code=True)


def test_access_denied():
    with pytest.raises(AccessDenied, match="access_denied") as info:
        parse_redirect(f"{REDIRECT}?error=access_denied&state={STATE}", expected_state=STATE)
    assert "test user" in str(info.value)


def test_other_errors():
    url = (
        f"{REDIRECT}?error=invalid_scope&error_description=Some%20scopes%20are%20bad&state={STATE}"
    )
    with pytest.raises(AuthorizationError, match="invalid_scope: Some scopes are bad") as info:
        parse_redirect(url, expected_state=STATE)
    assert not isinstance(info.value, AccessDenied)


def test_error_text_is_redacted():
    url = f"{REDIRECT}?error={CODE}&error_description=leaked%20{CODE}&state={STATE}"
    with pytest.raises(AuthorizationError) as info:
        parse_redirect(url, expected_state=STATE)
    assert_no_secret(str(info.value), repr(info.value))
    assert "an unreadable error" in str(info.value)


def test_missing_state():
    with pytest.raises(StateMismatch, match="no state"):
        parse_redirect(f"{REDIRECT}?code={CODE}", expected_state=STATE)


def test_wrong_state():
    forged = "Xx9kHc8fZ2wQx7RtYb1nMa5LpEd9GjSu4Oi6Ke0TyZz"
    with pytest.raises(StateMismatch, match="not this login's") as info:
        parse_redirect(f"{REDIRECT}?code={CODE}&state={forged}", expected_state=STATE)
    assert forged not in str(info.value)
    assert STATE not in str(info.value)
    assert_no_secret(str(info.value))


def test_errors_are_state_checked_too():
    with pytest.raises(StateMismatch):
        parse_redirect(f"{REDIRECT}?error=access_denied&state=other", expected_state=STATE)


@pytest.mark.parametrize(
    ("pasted", "match"),
    [
        ("", "Nothing"),
        ("   ", "Nothing"),
        (REDIRECT, "no code, state or error"),
        (f"{REDIRECT}?state={STATE}", "neither a code nor an error"),
        (f"{REDIRECT}?state={STATE}&code=", "neither a code nor an error"),
        (f"{REDIRECT}?state={STATE}&code=has%20space", "not an authorization code"),
        (f"{REDIRECT}?state={STATE}&code=" + "a" * 1025, "not an authorization code"),
    ],
)
def test_unusable_input(pasted, match):
    with pytest.raises(AuthorizationError, match=match) as info:
        parse_redirect(pasted, expected_state=STATE)
    assert "Paste the whole address" in info.value.hint


def test_bare_garbage_is_not_a_code():
    with pytest.raises(AuthorizationError, match="not an authorization code"):
        parse_redirect("my code is 4/0A", expected_state=STATE, allow_bare_code=True)
