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


# ---------------------------------------------------------------------------- word for word

K0, K1, K2 = bytes(range(32)), bytes(range(1, 33)), bytes(range(2, 34))
WHERE = "accounts.refresh_token of row 'acct-1'"


def corrupt(keyring: Keyring, sealed: object) -> CorruptRecord:
    with pytest.raises(CorruptRecord) as info:
        open_sealed(keyring, sealed, **PLACE)  # type: ignore[arg-type]
    assert (info.value.table, info.value.row, info.value.field) == (
        "accounts",
        "acct-1",
        "refresh_token",
    )
    return info.value


@pytest.mark.parametrize("garbage", ["plain text", None, 42, b"v1:630dcd29:AAAA"])
def test_not_a_sealed_value_word_for_word(garbage: object) -> None:
    assert corrupt(Keyring([K0]), garbage).message == (
        f"{WHERE} is not an encrypted gtoken value (expected 'v1:<key id>:<data>')"
    )


def test_damaged_values_word_for_word() -> None:
    ring = Keyring([K0])
    sealed = seal(ring, SECRET, **PLACE)
    kid = ring.current
    damaged = f"{WHERE} failed to decrypt with key {kid}: it was tampered with, damaged, or moved "
    damaged += "here from another row or field"
    body = sealed.split(":")[2]
    short = f"v1:{kid}:{body[:37]}"  # 27 bytes: less than a nonce and a tag
    assert corrupt(ring, short).message == damaged
    just_long_enough = f"v1:{kid}:{body[:38]}"  # 28 bytes, tag wrong
    assert corrupt(ring, just_long_enough).message == damaged
    # The same bytes spelled with other trailing bits decode alike but are not what seal() wrote.
    last = body[-1]
    other = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    respelled = next(
        c
        for c in other
        if c != last
        and base64.urlsafe_b64decode(body[:-1] + c + "=" * (-len(body) % 4))
        == base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    )
    assert corrupt(ring, f"v1:{kid}:{body[:-1]}{respelled}").message == damaged


def test_a_value_that_is_not_utf8_inside_is_damaged() -> None:
    from gtoken.store.crypto import _associated_data

    ring = Keyring([K0])
    nonce = bytes(12)
    ct = ring.cipher(ring.current).encrypt(
        nonce, b"\xff\xfe", _associated_data("accounts", "acct-1", "refresh_token")
    )
    body = base64.urlsafe_b64encode(nonce + ct).rstrip(b"=").decode()
    assert "failed to decrypt" in corrupt(ring, f"v1:{ring.current}:{body}").message


def test_unknown_key_word_for_word() -> None:
    sealed = seal(Keyring([K0]), SECRET, **PLACE)
    ring = Keyring([K1, K2], source="/home/ann/.local/share/gtoken/key.json")
    with pytest.raises(WrongKey) as info:
        open_sealed(ring, sealed, **PLACE)
    assert info.value.message.startswith(
        f"{WHERE} was encrypted with key id {key_id(K0)}, which the keyring "
        f"(/home/ann/.local/share/gtoken/key.json, ids {key_id(K1)}, {key_id(K2)}) does not hold; "
        f"give gtoken the key whose id is {key_id(K0)}"
    )


def test_sealed_key_id() -> None:
    from gtoken.store.crypto import sealed_key_id

    ring = Keyring([K1])
    assert sealed_key_id(seal(ring, SECRET, **PLACE)) == key_id(K1)
    for other in ("", "plain", "v1:zz:abc", f"v2:{key_id(K1)}:AAAA", f" v1:{key_id(K1)}:AAAA"):
        assert sealed_key_id(other) is None


def exactly(message: str) -> str:
    """A ``match`` pattern for ``message`` whole."""
    return f"^{re.escape(message)}$"


def test_keyring_misuse_word_for_word() -> None:
    with pytest.raises(ValueError, match=exactly("a key must be 32 bytes")):
        Keyring([b"short"])
    with pytest.raises(ValueError, match=exactly("a key must be 32 bytes")):
        Keyring(["x" * 32])  # type: ignore[list-item]
    with pytest.raises(ValueError, match=exactly("a keyring needs at least one key")):
        Keyring([])
    not_among = f"current key id '00000000' is not among the keys ['{key_id(K0)}']"
    with pytest.raises(ValueError, match=exactly(not_among)):
        Keyring([K0], current="00000000")
    ring = Keyring([K0, K1])
    current = f"key {key_id(K0)} is the current key; make another key current first"
    with pytest.raises(ValueError, match=exactly(current)):
        ring.without(key_id(K0))
    with pytest.raises(KeyError):
        ring.without("00000000")


def test_keyrings_keep_order_current_key_and_source() -> None:
    ring = Keyring([K0, K1, K0], source="GTOKEN_KEY")  # a key given twice counts once
    assert ring.ids == (key_id(K0), key_id(K1))
    assert ring.current == key_id(K0)
    assert Keyring([K0, K1], current=key_id(K1)).current == key_id(K1)

    grown = ring.with_key(K2)
    assert (grown.ids, grown.current, grown.source) == (
        (key_id(K0), key_id(K1), key_id(K2)),
        key_id(K2),
        "GTOKEN_KEY",
    )
    kept = ring.with_key(K2, make_current=False)
    assert (kept.current, kept.source) == (key_id(K0), "GTOKEN_KEY")

    smaller = grown.without(key_id(K1))
    assert (smaller.ids, smaller.current, smaller.source) == (
        (key_id(K0), key_id(K2)),
        key_id(K2),
        "GTOKEN_KEY",
    )

    merged = Keyring([K2], source="key.json").merged(ring)
    assert (merged.ids, merged.current, merged.source) == (
        (key_id(K2), key_id(K0), key_id(K1)),
        key_id(K2),
        "key.json",
    )
    assert merged[key_id(K1)] == K1
    assert len(merged) == 3


def test_keyring_equality_and_ciphers() -> None:
    ring = Keyring([K0, K1])
    assert ring == Keyring([K0, K1])
    assert ring != Keyring([K1, K0])  # same keys, another current key and order
    assert ring != Keyring([K0, K1], current=key_id(K1))
    assert ring != {key_id(K0): K0, key_id(K1): K1}  # a plain mapping is not a keyring
    assert ring.cipher(key_id(K0)) is ring.cipher(key_id(K0))  # made once
    assert ring.cipher(key_id(K0)) is not ring.cipher(key_id(K1))
    assert repr(ring) == f"Keyring(current='{key_id(K0)}', ids={list(ring.ids)!r}, source='given')"


def test_merging_keeps_this_rings_current_key_even_when_not_its_first() -> None:
    ring = Keyring([K0, K1], current=key_id(K1))
    assert ring.merged(Keyring([K2])).current == key_id(K1)


def test_removing_an_unknown_key_names_it() -> None:
    with pytest.raises(KeyError) as info:
        Keyring([K0, K1]).without("00000000")
    assert info.value.args == ("00000000",)
