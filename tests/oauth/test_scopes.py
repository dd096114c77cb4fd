"""Scope names: short forms, full URLs, and the equivalences Google's answers need."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gtoken.oauth import scopes
from tests.oauth.samples import DRIVE_FILE, EMAIL_URL, GMAIL_READONLY, PROFILE_URL

AUTH = "https://www.googleapis.com/auth/"


@pytest.mark.parametrize(
    ("word", "scope"),
    [
        ("gmail.readonly", GMAIL_READONLY),
        ("drive.file", DRIVE_FILE),
        ("drive", AUTH + "drive"),
        ("youtube.force-ssl", AUTH + "youtube.force-ssl"),
        ("devstorage.read_only", AUTH + "devstorage.read_only"),
        ("userinfo.email", EMAIL_URL),
        ("mail", "https://mail.google.com/"),
        ("openid", "openid"),
        ("email", "email"),
        ("profile", "profile"),
        (GMAIL_READONLY, GMAIL_READONLY),
        ("https://mail.google.com/", "https://mail.google.com/"),
        ("https://www.google.com/m8/feeds", "https://www.google.com/m8/feeds"),
        ("  gmail.readonly\n", GMAIL_READONLY),
    ],
)
def test_expand(word, scope):
    assert scopes.expand(word) == scope


@pytest.mark.parametrize(
    "word",
    [
        "gmail readonly",
        "gmail.readonly,",
        "gmail.readonly,drive.file",
        "auth/gmail.readonly",
        "/gmail.readonly",
        "www.googleapis.com/auth/gmail.readonly",
        "gmail..readonly",
        ".readonly",
        "gmail.readonly.",
        "https://",
        "https://www.googleapis.com/auth/",
        "http://www.googleapis.com/auth/gmail.readonly",
        "ftp://example.com/scope",
        "'gmail.readonly'",
    ],
)
def test_expand_refuses_malformed_words_naming_them(word):
    with pytest.raises(ValueError, match="scope") as info:
        scopes.expand(word)
    assert repr(word) in str(info.value)


@pytest.mark.parametrize("word", ["", "   ", "\t\n"])
def test_expand_refuses_empty_words(word):
    with pytest.raises(ValueError, match="empty scope"):
        scopes.expand(word)


def test_expand_refuses_non_strings():
    with pytest.raises(TypeError):
        scopes.expand(None)  # type: ignore[arg-type]


def test_canonical_equates_the_sign_in_words_with_their_urls():
    assert scopes.canonical(["email", "profile", "openid"]) == scopes.canonical(
        [EMAIL_URL, PROFILE_URL, "openid"]
    )
    assert scopes.canonical(["email"]) == frozenset({EMAIL_URL})
    assert scopes.canonical(["mail", "gmail.readonly"]) == {
        "https://mail.google.com/",
        GMAIL_READONLY,
    }


def test_canonical_refuses_a_bare_string():
    with pytest.raises(TypeError, match="parse"):
        scopes.canonical("gmail.readonly")


def test_parse():
    assert scopes.parse("gmail.readonly  email\n") == {GMAIL_READONLY, EMAIL_URL}
    assert scopes.parse("") == frozenset()
    with pytest.raises(ValueError, match="gmail,readonly"):
        scopes.parse("gmail,readonly")


def test_from_google_keeps_the_words_as_written_and_never_raises():
    field = f" email openid {EMAIL_URL} {GMAIL_READONLY} offline_access  read openid"
    written = {"email", "openid", EMAIL_URL, GMAIL_READONLY, "offline_access", "read"}
    assert scopes.from_google(field) == written
    assert scopes.canonical(scopes.from_google(field)) == {
        "openid", EMAIL_URL, GMAIL_READONLY, "offline_access", "read"
    }  # fmt: skip
    assert scopes.from_google("odd,word openid") == {"odd,word", "openid"}


@pytest.mark.parametrize(
    ("word", "scope"),
    [
        ("offline_access", "offline_access"),
        ("read", "read"),
        ("read:org", "read:org"),
        ("api.read", "api.read"),
        ("drive", "https://www.googleapis.com/auth/drive"),
        ("cloud-platform", "https://www.googleapis.com/auth/cloud-platform"),
        ("literal:drive", "drive"),
        ("literal:api://app/.default", "api://app/.default"),
        ("literal:gmail.readonly", "gmail.readonly"),
    ],
)
def test_only_googles_short_names_expand_and_literal_sends_a_word_as_it_is(word, scope):
    assert scopes.to_param([word]) == scope
    assert scopes.to_param(scopes.canonical(scopes.canonical([word]))) == scope
    assert scopes.covers([scope], [word])  # granted as the server writes it


def test_a_literal_word_is_covered_by_the_word_as_granted():
    assert scopes.missing(["drive"], ["literal:drive"]) == set()


@pytest.mark.parametrize("word", ["literal:", 'literal:"x"', "api://app/read", "-read"])
def test_a_word_no_server_would_take_is_refused_naming_the_literal_form(word):
    with pytest.raises(ValueError, match="scope"):
        scopes.expand(word)


def test_missing_and_covers_with_what_google_reports():
    granted = scopes.from_google(f"openid {EMAIL_URL}")
    assert scopes.covers(granted, ["email"])
    assert scopes.covers(granted, ["openid", "userinfo.email"])
    assert scopes.missing(granted, ["email", "gmail.readonly"]) == {GMAIL_READONLY}
    assert not scopes.covers(granted, ["gmail.readonly"])
    assert scopes.covers(granted, [])


def test_to_param_is_stable_and_sends_the_sign_in_words():
    assert scopes.to_param([GMAIL_READONLY, EMAIL_URL, "email", "openid"]) == (
        f"email {GMAIL_READONLY} openid"
    )
    assert scopes.to_param({"drive.file", "gmail.readonly"}) == scopes.to_param(
        ["gmail.readonly", "drive.file"]
    )
    assert scopes.to_param([]) == ""


def test_device_flow_scopes_are_googles_list():
    assert (
        scopes.canonical(
            [
                "email",
                "openid",
                "profile",
                "drive.appdata",
                "drive.file",
                "youtube",
                "youtube.readonly",
            ]
        )
        == scopes.DEVICE_FLOW_SCOPES
    )
    assert scopes.missing(scopes.DEVICE_FLOW_SCOPES, ["gmail.readonly"]) == {GMAIL_READONLY}


def test_gmail_scopes():
    assert scopes.is_gmail("mail")
    assert scopes.is_gmail("gmail.send")
    assert scopes.is_gmail(GMAIL_READONLY)
    assert not scopes.is_gmail("drive.file")
    assert not scopes.is_gmail("bad scope word")
    assert all(scopes.is_gmail(scope) for scope in scopes.GMAIL_SCOPES)
    assert len(scopes.GMAIL_SCOPES) == 14


def test_normalize_keeps_stored_words_it_does_not_know():
    assert scopes.normalize(["email", "", "weird word"]) == {EMAIL_URL, "weird word"}


short_forms = st.from_regex(r"[a-z][a-z0-9_-]{0,10}(\.[a-z0-9_-]{1,10}){0,3}", fullmatch=True)
words = st.one_of(short_forms, st.sampled_from(["openid", "email", "profile", "mail", EMAIL_URL]))


@given(st.lists(words, max_size=8))
def test_to_param_round_trips_through_parse(ws):
    assert scopes.parse(scopes.to_param(ws)) == scopes.canonical(ws)
    assert scopes.canonical(scopes.canonical(ws)) == scopes.canonical(ws)
    assert scopes.covers(scopes.canonical(ws), ws)
