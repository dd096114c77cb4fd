"""The redirect back from the consent page, and the request that leads there: every input a
person can paste or a program can pass, with what gtoken answers, word for word."""

from __future__ import annotations

from typing import Any

import pytest

from gtoken import errors
from gtoken.oauth import AuthorizationRequest, parse_redirect
from tests.oauth.samples import client

S = "state-abc_123-XYZ-0123456789"
C = "4/0AeaYSHBExampleAuthorizationCode_abc-123XYZ"
PASTE = (
    "Paste the whole address your browser ended on after you allowed access (it starts with "
    "http:// and contains code=)."
)
AGAIN = "Start the login again and finish it in the browser window this login opened."
NOT_A_CODE = "This is not an authorization code (it has spaces, odd characters or is too long)."

REDIRECTS: list[tuple[str, str, bool, type[errors.GTokenError] | None, str, str | None]] = [
    (
        "whole-url",
        f"http://127.0.0.1:8765/?state={S}&code={C}&scope=openid",
        False,
        None,
        C,
        None,
    ),
    (
        "quoted",
        f"  '<http://127.0.0.1:8765/?state={S}&code={C}>'  ",
        False,
        None,
        C,
        None,
    ),
    (
        "double-quoted",
        f'"http://127.0.0.1:8765/?state={S}&code={C}"',
        False,
        None,
        C,
        None,
    ),
    (
        "query-only",
        f"state={S}&code={C}",
        False,
        None,
        C,
        None,
    ),
    (
        "fragment",
        f"http://127.0.0.1/?state={S}&code={C}#frag#more",
        False,
        None,
        C,
        None,
    ),
    (
        "question-in-value",
        f"http://127.0.0.1/?state={S}&code={C}?x",
        False,
        errors.AuthorizationError,
        NOT_A_CODE,
        PASTE,
    ),
    (
        "url-encoded",
        f"http://127.0.0.1/?state={S}&code=4%2F0AeaYSHB",
        False,
        None,
        "4/0AeaYSHB",
        None,
    ),
    (
        "bare-code",
        f"{C}",
        True,
        None,
        C,
        None,
    ),
    (
        "bare-code-encoded",
        "4%2F0AeaYSHB",
        True,
        None,
        "4/0AeaYSHB",
        None,
    ),
    (
        "empty",
        "  '' ",
        False,
        errors.AuthorizationError,
        "Nothing was given as the redirect.",
        PASTE,
    ),
    (
        "bare-not-allowed",
        f"{C}",
        False,
        errors.AuthorizationError,
        "This is not a redirect address: it has no query (?code=...&state=...).",
        PASTE,
    ),
    (
        "no-query",
        "http://127.0.0.1:8765/",
        False,
        errors.AuthorizationError,
        "This address carries no code, state or error.",
        PASTE,
    ),
    (
        "no-query-https",
        "HTTPS://127.0.0.1:8765/",
        False,
        errors.AuthorizationError,
        "This address carries no code, state or error.",
        PASTE,
    ),
    (
        "empty-query",
        "http://127.0.0.1:8765/?",
        False,
        errors.AuthorizationError,
        "This address carries no code, state or error.",
        PASTE,
    ),
    (
        "no-state",
        f"http://127.0.0.1/?code={C}",
        False,
        errors.StateMismatch,
        (
            "The redirect has no state, so it cannot be matched to this login (a forged or "
            "truncated address)."
        ),
        AGAIN,
    ),
    (
        "blank-state",
        f"http://127.0.0.1/?state=&code={C}",
        False,
        errors.StateMismatch,
        (
            "The redirect's state (<empty>) is not this login's (…6789): the address belongs to "
            "another login attempt, or was forged."
        ),
        AGAIN,
    ),
    (
        "wrong-state",
        f"http://127.0.0.1/?state=another-state-value-0123&code={C}",
        False,
        errors.StateMismatch,
        (
            "The redirect's state (…0123) is not this login's (…6789): the address belongs to "
            "another login attempt, or was forged."
        ),
        AGAIN,
    ),
    (
        "denied",
        f"http://127.0.0.1/?state={S}&error=access_denied",
        False,
        errors.AccessDenied,
        (
            "Google's consent page answered access_denied. The person declined, or the app is "
            "in Testing status and the account is not one of its test users."
        ),
        (
            "Sign in again and allow access; for an app in Testing status, add the account as a "
            "test user on the OAuth consent screen first."
        ),
    ),
    (
        "denied-described",
        f"http://127.0.0.1/?state={S}&error=access_denied&error_description=The+user+said+no%0Athanks",
        False,
        errors.AccessDenied,
        (
            "Google's consent page answered access_denied: The user said no thanks. The person "
            "declined, or the app is in Testing status and the account is not one of its test "
            "users."
        ),
        (
            "Sign in again and allow access; for an app in Testing status, add the account as a "
            "test user on the OAuth consent screen first."
        ),
    ),
    (
        "other-error",
        f"http://127.0.0.1/?state={S}&error=invalid_request&error_description=" + "d" * 310,
        False,
        errors.AuthorizationError,
        "Google's consent page answered invalid_request: " + "d" * 300 + ".",
        "Start the login again.",
    ),
    (
        "unreadable-error",
        f"http://127.0.0.1/?state={S}&error=ya29.a0AfB_byC1x2Y3z4ExampleAccessTokenValue0123456789",
        False,
        errors.AuthorizationError,
        "Google's consent page answered an unreadable error.",
        "Start the login again.",
    ),
    (
        "odd-error",
        f"http://127.0.0.1/?state={S}&error=not+a+code",
        False,
        errors.AuthorizationError,
        "Google's consent page answered an unreadable error.",
        "Start the login again.",
    ),
    (
        "no-code",
        f"http://127.0.0.1/?state={S}&scope=openid",
        False,
        errors.AuthorizationError,
        "The redirect carries neither a code nor an error.",
        PASTE,
    ),
    (
        "blank-code",
        f"http://127.0.0.1/?state={S}&code=",
        False,
        errors.AuthorizationError,
        "The redirect carries neither a code nor an error.",
        PASTE,
    ),
    (
        "bad-code",
        f"http://127.0.0.1/?state={S}&code=has+spaces",
        False,
        errors.AuthorizationError,
        NOT_A_CODE,
        PASTE,
    ),
    (
        "bare-bad-code",
        "not a code",
        True,
        errors.AuthorizationError,
        NOT_A_CODE,
        PASTE,
    ),
]


@pytest.mark.parametrize(
    ("text", "bare", "error", "said", "hint"),
    [case[1:] for case in REDIRECTS],
    ids=[case[0] for case in REDIRECTS],
)
def test_each_redirect_word_for_word(
    text: str, bare: bool, error: type[errors.GTokenError] | None, said: str, hint: str | None
) -> None:
    if error is None:
        assert parse_redirect(text, expected_state=S, allow_bare_code=bare) == said
        return
    with pytest.raises(error) as info:
        parse_redirect(text, expected_state=S, allow_bare_code=bare)
    assert type(info.value) is error
    assert info.value.message == said
    assert info.value.hint == hint


REQUESTS: list[tuple[str, dict[str, Any], type[Exception], str, str | None]] = [
    (
        "no-scope",
        {"scopes": frozenset()},
        ValueError,
        "an authorization request needs at least one scope",
        None,
    ),
    (
        "oob",
        {"redirect_uri": "urn:ietf:wg:oauth:2.0:oob"},
        errors.ConfigError,
        (
            "The redirect URI 'urn:ietf:wg:oauth:2.0:oob' is the out-of-band flow, which Google "
            "blocked on 2023-01-31."
        ),
        "Use a loopback redirect (http://127.0.0.1:PORT) or the paste-back flow.",
    ),
    (
        "relative",
        {"redirect_uri": "/callback"},
        ValueError,
        "redirect_uri must be an absolute http(s) URL: '/callback'",
        None,
    ),
    (
        "ftp",
        {"redirect_uri": "ftp://127.0.0.1/"},
        ValueError,
        "redirect_uri must be an absolute http(s) URL: 'ftp://127.0.0.1/'",
        None,
    ),
    (
        "no-host",
        {"redirect_uri": "http:///x"},
        ValueError,
        "redirect_uri must be an absolute http(s) URL: 'http:///x'",
        None,
    ),
    ("empty-state", {"state": ""}, ValueError, "state must not be empty", None),
    (
        "access-type",
        {"access_type": "forever"},
        ValueError,
        "access_type is 'offline' or 'online', not 'forever'",
        None,
    ),
    (
        "prompt-string",
        {"prompt": "consent"},
        TypeError,
        "prompt is a tuple of words, such as ('consent',)",
        None,
    ),
    (
        "prompt-unknown",
        {"prompt": ("consent", "login", "again")},
        ValueError,
        "unknown prompt ['again', 'login']: use none, consent, select_account",
        None,
    ),
    (
        "prompt-none-not-alone",
        {"prompt": ("none", "consent")},
        ValueError,
        "prompt 'none' must be alone",
        None,
    ),
]


@pytest.mark.parametrize(
    ("changes", "error", "said", "hint"),
    [case[1:] for case in REQUESTS],
    ids=[case[0] for case in REQUESTS],
)
def test_each_misuse_of_a_request_word_for_word(
    changes: dict[str, Any], error: type[Exception], said: str, hint: str | None
) -> None:
    args: dict[str, Any] = {
        "client": client(),
        "redirect_uri": "http://127.0.0.1:8765/",
        "scopes": frozenset({"gmail.readonly"}),
        **changes,
    }
    with pytest.raises(error) as info:
        AuthorizationRequest(**args)
    if isinstance(info.value, errors.GTokenError):
        assert (info.value.message, info.value.hint) == (said, hint)
    else:
        assert str(info.value) == said


def test_prompt_words_are_kept_as_a_tuple_and_state_is_long_and_fresh() -> None:
    request = AuthorizationRequest(
        client=client(),
        redirect_uri="https://app.example.com/cb",
        scopes=frozenset({"openid"}),
        prompt=["consent", "select_account"],  # type: ignore[arg-type]
    )
    assert request.prompt == ("consent", "select_account")
    assert "prompt=consent%20select_account" in request.url()
    assert len(request.state) == 43  # 32 random bytes
    assert (
        AuthorizationRequest(
            client=client(), redirect_uri="http://127.0.0.1/", scopes=frozenset({"openid"})
        ).state
        != request.state
    )
    assert AuthorizationRequest(
        client=client(),
        redirect_uri="http://127.0.0.1/",
        scopes=frozenset({"openid"}),
        prompt=("none",),
    ).prompt == ("none",)
