"""Where keys come from: GTOKEN_KEY, else key.json, created on first use."""

from __future__ import annotations

import base64
import json
import os
import stat
import threading
from pathlib import Path

import pytest

from gtoken.store import (
    InsecurePermissions,
    KeyMissing,
    add_key,
    encode_key,
    key_id,
    load_keyring,
    new_key,
    parse_key,
    remove_key,
)
from gtoken.store.keys import read_key_file


def test_gtoken_key_standard_urlsafe_and_unpadded() -> None:
    key = bytes(range(200, 232))
    text = base64.b64encode(key).decode()
    assert parse_key(text) == key
    assert parse_key(base64.urlsafe_b64encode(key).decode().rstrip("=")) == key
    assert parse_key(f"  {text}\n") == key


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("not base64 at all!!secretish", "not valid base64"),
        ("c2hvcnQtc2VjcmV0LXZhbHVl", "decodes to 18 bytes"),
        (base64.b64encode(b"k" * 48).decode(), "decodes to 48 bytes"),
    ],
)
def test_bad_gtoken_key_is_explained_without_echoing_it(home: Path, value: str, why: str) -> None:
    with pytest.raises(KeyMissing) as info:
        load_keyring(home, {"GTOKEN_KEY": value})
    message = str(info.value)
    assert why in message
    assert "GTOKEN_KEY" in message
    assert "32" in message
    assert value not in message
    assert value[:8] not in message
    assert not home.exists()  # a bad key changes nothing


def test_gtoken_key_wins_and_the_key_file_is_not_touched(home: Path) -> None:
    key = new_key()
    ring = load_keyring(home, {"GTOKEN_KEY": encode_key(key)})
    assert list(ring) == [key_id(key)]
    assert ring.source == "GTOKEN_KEY"
    assert not home.exists()


def test_key_file_is_made_on_first_use_and_reused(home: Path) -> None:
    first = load_keyring(home, {})
    second = load_keyring(home, {})
    assert first == second
    assert first[first.current] == second[second.current]
    path = home / "key.json"
    assert stat.S_IMODE(os.stat(home).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    doc = json.loads(path.read_text())
    assert doc["current"] == first.current
    assert base64.b64decode(doc["keys"][first.current]) == first[first.current]


def test_empty_gtoken_key_counts_as_unset(home: Path) -> None:
    assert load_keyring(home, {"GTOKEN_KEY": ""}).source == str(home / "key.json")


def test_racing_first_uses_agree_on_one_key(home: Path) -> None:
    rings = []

    def load() -> None:
        rings.append(load_keyring(home, {}))

    threads = [threading.Thread(target=load) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({r.current for r in rings}) == 1


def test_no_key_and_no_creation(home: Path) -> None:
    with pytest.raises(KeyMissing, match="GTOKEN_KEY is not set"):
        load_keyring(home, {}, create=False)


def test_readable_key_file_is_refused_with_the_fix(home: Path) -> None:
    load_keyring(home, {})
    path = home / "key.json"
    path.chmod(0o644)
    with pytest.raises(InsecurePermissions) as info:
        load_keyring(home, {})
    assert f"chmod 600 {path}" in str(info.value)


@pytest.mark.parametrize(
    "content",
    [
        b"not json SECRETSTUFF",
        b'{"current": "x"}',
        b'{"current": "00000000", "keys": {"00000000": "AAAA"}}',
        b'{"current": "nope", "keys": {"%(kid)s": "%(key)s"}}',
        b'{"current": "%(kid)s", "keys": {"0badc0de": "%(key)s"}}',
    ],
)
def test_damaged_key_file_is_named_and_not_echoed(home: Path, content: bytes) -> None:
    key = new_key()
    text = content % {b"kid": key_id(key).encode(), b"key": encode_key(key).encode()}
    home.mkdir(mode=0o700)
    path = home / "key.json"
    path.write_bytes(text)
    path.chmod(0o600)
    with pytest.raises(KeyMissing) as info:
        load_keyring(home, {})
    message = str(info.value)
    assert str(path) in message
    assert encode_key(key) not in message
    assert "SECRETSTUFF" not in message
    assert path.read_bytes() == text


def test_add_key_keeps_old_keys_and_remove_key_drops_them(home: Path) -> None:
    old = load_keyring(home, {})
    new = new_key()
    grown = add_key(home, new)
    assert grown.current == key_id(new)
    assert list(grown) == [old.current, key_id(new)]
    assert read_key_file(home / "key.json") == grown
    assert load_keyring(home, {}) == grown
    with pytest.raises(ValueError, match="current key"):
        remove_key(home, key_id(new))
    shrunk = remove_key(home, old.current)
    assert list(shrunk) == [key_id(new)]
    assert load_keyring(home, {}) == shrunk
    assert stat.S_IMODE(os.stat(home / "key.json").st_mode) == 0o600


def test_add_key_creates_the_key_file(home: Path) -> None:
    ring = add_key(home)
    assert load_keyring(home, {}) == ring
