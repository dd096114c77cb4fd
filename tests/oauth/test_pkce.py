"""PKCE S256 against RFC 7636's own example."""

from __future__ import annotations

import dataclasses
import re

import pytest

from gtoken.oauth import Pkce
from tests.oauth.samples import VERIFIER, assert_no_secret

# RFC 7636, Appendix B. (The brief for this module quoted the verifier as
# "dBjftJeZ4CVP-mJ92K9qpgxD8GhB2eLxaMW6HOBvL8Nw"; that string is not the RFC's and hashes to
# another challenge.)
RFC_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
RFC_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_rfc_7636_appendix_b():
    pkce = Pkce(RFC_VERIFIER)
    assert pkce.challenge == RFC_CHALLENGE
    assert pkce.method == "S256"


def test_new_makes_fresh_valid_verifiers():
    first, second = Pkce.new(), Pkce.new()
    assert first.verifier != second.verifier
    assert re.fullmatch(r"[A-Za-z0-9\-._~]{64}", first.verifier)
    assert len(Pkce.new(length=43).verifier) == 43
    assert len(Pkce.new(length=128).verifier) == 128


@pytest.mark.parametrize("length", [42, 129, 0])
def test_new_refuses_lengths_outside_the_rfc(length):
    with pytest.raises(ValueError, match="43 to 128"):
        Pkce.new(length=length)


@pytest.mark.parametrize("verifier", ["short", "x" * 129, "a" * 42 + " ", "ä" * 50, "a" * 42 + "/"])
def test_verifier_rules(verifier):
    with pytest.raises(ValueError, match="43 to 128"):
        Pkce(verifier)


def test_repr_hides_the_verifier_and_the_value_is_frozen():
    pkce = Pkce(VERIFIER)
    assert_no_secret(repr(pkce), str(pkce))
    assert pkce.challenge in repr(pkce)
    assert RFC_VERIFIER not in repr(Pkce(RFC_VERIFIER))
    with pytest.raises(dataclasses.FrozenInstanceError):
        pkce.verifier = "x"  # type: ignore[misc]


def test_every_challenge_is_the_unpadded_base64url_sha256_of_its_verifier():
    import base64
    import hashlib

    for n in range(300):  # one challenge in 64 ends in any given character, 'X' included
        verifier = f"{n:043d}"
        challenge = Pkce(verifier).challenge
        assert len(challenge) == 43
        digest = base64.urlsafe_b64decode(challenge + "=")
        assert digest == hashlib.sha256(verifier.encode()).digest()


def test_misuse_word_for_word():
    message = "a PKCE code verifier is 43 to 128 characters of letters, digits and -._~"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        Pkce("short")
    assert len(Pkce.new(length=128).verifier) == 128
    with pytest.raises(ValueError, match=r"^a PKCE verifier length is 43 to 128, not 129$"):
        Pkce.new(length=129)


def test_repr_word_for_word():
    pkce = Pkce("v" * 40 + "WxYz")
    assert repr(pkce) == f"Pkce(verifier=…WxYz, challenge={pkce.challenge!r}, method='S256')"
