"""Sealed fields: format, binding to their place, tampering, and keys that never show."""

from __future__ import annotations

import base64
import re

import pytest

from gtoken.store import CorruptRecord, Keyring, WrongKey, key_id, new_key, open_sealed, seal

PLACE = {"table": "accounts", "row": "acct-1", "field": "refresh_token"}
SECRET = "1//0gSECRET-refresh-token-value-ABCD"


def test_round_trip_and_format(keyring: Keyring) -> None:
    sealed = seal(keyring, SECRET, **PLACE)
    match = re.fullmatch(r"v1:([0-9a-f]{8}):([A-Za-z0-9_-]+)", sealed)
    assert match is not None
    assert match.group(1) == keyring.current
    raw = base64.urlsafe_b64decode(match.group(2) + "==")
    assert len(raw) == 12 + len(SECRET.encode()) + 16  # nonce, ciphertext, tag
    assert SECRET not in sealed
    assert open_sealed(keyring, sealed, **PLACE) == SECRET


@pytest.mark.parametrize("text", ["", "é ünïcødé ✓", "x" * 10_000])
def test_any_text_round_trips(keyring: Keyring, text: str) -> None:
    assert open_sealed(keyring, seal(keyring, text, **PLACE), **PLACE) == text


def test_every_seal_uses_a_fresh_nonce(keyring: Keyring) -> None:
    assert len({seal(keyring, SECRET, **PLACE) for _ in range(50)}) == 50


@pytest.mark.parametrize(
    "elsewhere",
    [
        {**PLACE, "row": "acct-2"},
        {**PLACE, "field": "access_token"},
        {**PLACE, "table": "kv"},
        # Parts are kept apart: moving characters between them does not line up.
        {"table": "accounts", "row": "acct-1refresh", "field": "_token"},
    ],
)
def test_a_value_moved_elsewhere_fails(keyring: Keyring, elsewhere: dict[str, str]) -> None:
    sealed = seal(keyring, SECRET, **PLACE)
    with pytest.raises(CorruptRecord) as info:
        open_sealed(keyring, sealed, **elsewhere)
    message = str(info.value)
    assert elsewhere["row"] in message
    assert elsewhere["field"] in message
    assert "tampered" in message
    assert "moved" in message
    assert SECRET not in message


def test_every_flipped_character_is_detected(keyring: Keyring) -> None:
    sealed = seal(keyring, SECRET, **PLACE)
    prefix = len("v1:") + 8 + 1
    for i in range(prefix, len(sealed)):
        flipped = "A" if sealed[i] != "A" else "B"
        tampered = sealed[:i] + flipped + sealed[i + 1 :]
        with pytest.raises(CorruptRecord):
            open_sealed(keyring, tampered, **PLACE)


@pytest.mark.parametrize("garbage", ["", "plain text", "v1:zz:abc", "v2:0011aabb:AAAA", "v1:"])
def test_not_a_sealed_value(keyring: Keyring, garbage: str) -> None:
    with pytest.raises(CorruptRecord, match="not an encrypted gtoken value"):
        open_sealed(keyring, garbage, **PLACE)


def test_truncated_value(keyring: Keyring) -> None:
    sealed = seal(keyring, SECRET, **PLACE)
    with pytest.raises(CorruptRecord):
        open_sealed(keyring, sealed[:20], **PLACE)


def test_unknown_key_id_says_which_key_is_needed_and_never_shows_a_key() -> None:
    key_a, key_b = new_key(), new_key()
    sealed = seal(Keyring([key_a]), SECRET, **PLACE)
    with pytest.raises(WrongKey) as info:
        open_sealed(Keyring([key_b]), sealed, **PLACE)
    message = str(info.value)
    assert info.value.key_id == key_id(key_a)
    assert key_id(key_a) in message
    for key in (key_a, key_b):
        assert base64.b64encode(key).decode() not in message
        assert base64.urlsafe_b64encode(key).decode() not in message
        assert key.hex() not in message


def test_key_id_is_stable_and_short() -> None:
    key = bytes(range(32))
    assert key_id(key) == key_id(bytes(range(32))) == "630dcd29"
    assert Keyring([key]).current == "630dcd29"


def test_keyring_repr_shows_ids_only() -> None:
    keys = [new_key(), new_key()]
    ring = Keyring(keys, current=key_id(keys[1]), source="test")
    for text in (repr(ring), str(ring)):
        assert key_id(keys[0]) in text
        assert key_id(keys[1]) in text
        for key in keys:
            assert base64.b64encode(key).decode() not in text
            assert key.hex() not in text
            assert repr(key) not in text


def test_keyring_add_remove_and_misuse() -> None:
    old, new = new_key(), new_key()
    ring = Keyring([old])
    grown = ring.with_key(new)
    assert grown.current == key_id(new)
    assert list(grown) == [key_id(old), key_id(new)]
    assert ring.with_key(new, make_current=False).current == key_id(old)
    assert list(grown.without(key_id(old))) == [key_id(new)]
    with pytest.raises(ValueError, match="current key"):
        grown.without(key_id(new))
    with pytest.raises(ValueError, match="32 bytes"):
        Keyring([b"short"])
    with pytest.raises(ValueError, match="at least one"):
        Keyring([])
    with pytest.raises(ValueError, match="not among"):
        Keyring([old], current="00000000")
