"""Fingerprints and redaction of secrets in text."""

from __future__ import annotations

from gtoken.oauth import fingerprint
from gtoken.redact import redact
from tests.oauth.samples import CLIENT_ID, EMAIL_URL, REFRESH_TOKEN, SECRETS, assert_no_secret


def test_fingerprint_shows_the_last_four_characters_of_long_secrets():
    assert fingerprint(REFRESH_TOKEN) == "…_xyz"
    assert fingerprint("") == "<empty>"


def test_fingerprint_hashes_short_secrets():
    short = fingerprint("s3cret-pw")
    assert short.startswith("#")
    assert len(short) == 9
    assert "s3cr" not in short
    assert "t-pw" not in short
    assert short == fingerprint("s3cret-pw") != fingerprint("s3cret-pX")


def test_redact_replaces_every_secret_and_keeps_the_rest():
    text = f"client {CLIENT_ID} asked {EMAIL_URL} for ann@example.com: " + " ".join(SECRETS)
    out = redact(text)
    assert_no_secret(out)
    assert CLIENT_ID in out
    assert EMAIL_URL in out
    assert "ann@example.com" in out
    sheets = "https://sheets.googleapis.com/v4/spreadsheets"
    assert redact(sheets) == sheets
    assert redact("4%2F0AeaYSHBExample") == fingerprint("4%2F0AeaYSHBExample")
