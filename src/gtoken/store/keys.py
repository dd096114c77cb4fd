"""Where the encryption keys come from.

In order:

1. ``GTOKEN_KEY``: base64 of exactly 32 bytes (standard or URL-safe alphabet, padding optional).
   When it is set, the key file is not read at all: the keyring is that one key. An empty value
   counts as unset.
2. ``key.json`` in the gtoken home, mode 0600: ``{"current": kid, "keys": {kid: base64, ...}}``.
   Older keys stay in it after a rotation so that values sealed with them can still be read.
   When no key is configured anywhere, it is created with a new random key on first use, so the
   default works on a headless machine with no OS keyring. The key never goes in the store file.

If ``GTOKEN_KEY`` is set but the store was sealed with the key file's key (or the other way
round), opening the store raises :class:`~gtoken.store.errors.WrongKey` naming the key id it
needs; the id of a key is the first 8 hex digits of its SHA-256, so a person can tell which key
that is (``key.json`` lists ids; :func:`key_id` computes one) without any key being shown.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from gtoken.store.crypto import KEY_SIZE, Keyring, key_id, new_key
from gtoken.store.errors import KeyMissing
from gtoken.store.format import ENV_KEY, FILE_MODE, KEY_FILE, decode_key
from gtoken.store.paths import (
    check_private_file,
    create_private_file,
    ensure_private_dir,
    write_private_file,
)

__all__ = [
    "ENV_KEY",
    "KEY_FILE",
    "add_key",
    "encode_key",
    "load_keyring",
    "parse_key",
    "read_key_file",
    "remove_key",
]

_MAKE_ONE = (
    'make one with: python -c "import base64, os; print(base64.b64encode(os.urandom(32)).decode())"'
)


def encode_key(key: bytes) -> str:
    """``key`` as ``GTOKEN_KEY`` expects it (standard base64)."""
    return base64.b64encode(key).decode("ascii")


def parse_key(text: str, *, source: str = ENV_KEY) -> bytes:
    """Decode a base64 key of exactly 32 bytes. Errors describe the value, never repeat it."""
    try:
        key = decode_key(text)
    except (binascii.Error, ValueError):
        raise KeyMissing(
            f"{source} is not valid base64 ({len(text)} characters); it must be base64 of "
            f"exactly {KEY_SIZE} random bytes; {_MAKE_ONE}"
        ) from None
    if len(key) != KEY_SIZE:
        raise KeyMissing(
            f"{source} decodes to {len(key)} bytes; it must be base64 of exactly {KEY_SIZE} "
            f"random bytes; {_MAKE_ONE}"
        )
    return key


def load_keyring(
    home: Path, env: Mapping[str, str] = os.environ, *, create: bool = True
) -> Keyring:
    """The keyring to use: from ``GTOKEN_KEY``, else from ``home/key.json``, which is created
    (with ``home``) holding a new random key when missing and ``create`` is true."""
    given = env.get(ENV_KEY)
    if given:
        return Keyring([parse_key(given)], source=ENV_KEY)
    path = home / KEY_FILE
    if not path.exists():
        if not create:
            raise KeyMissing(
                f"no encryption key: {ENV_KEY} is not set and {path} does not exist. Set "
                f"{ENV_KEY} to the key the store was encrypted with, or restore {path}"
            )
        ensure_private_dir(home)
        key = new_key()
        # If another process created the file first, its key wins and ours is dropped unused.
        create_private_file(path, _dump(Keyring([key], source=str(path))))
    return read_key_file(path)


def read_key_file(path: Path) -> Keyring:
    """The keyring in a ``key.json`` file, after checking that only its owner can read it."""
    check_private_file(path)
    try:
        data: Any = json.loads(path.read_bytes())
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _bad_file(path, "it is not JSON") from None
    except RecursionError:
        raise _bad_file(path, "it is JSON nested too deeply to be a key file") from None
    if not isinstance(data, dict) or not isinstance(data.get("keys"), dict) or not data["keys"]:
        raise _bad_file(path, 'it lacks a "keys" object with at least one key')
    keys = []
    for kid, text in data["keys"].items():
        if not isinstance(text, str):
            raise _bad_file(path, f"the entry for key id {kid} is not a string")
        key = parse_key(text, source=f"the key with id {kid} in {path}")
        if key_id(key) != kid:
            raise _bad_file(path, f"the key listed as {kid} has id {key_id(key)}")
        keys.append(key)
    current = data.get("current")
    if current not in data["keys"]:
        raise _bad_file(path, '"current" does not name one of its keys')
    return Keyring(keys, current=current, source=str(path))


def add_key(home: Path, key: bytes | None = None, *, make_current: bool = True) -> Keyring:
    """Add ``key`` (default: a new random one) to ``home/key.json``, by default as the current
    key, keeping the older keys for reading. Returns the new keyring. Values already stored stay
    sealed with their old key until :meth:`SqliteStore.rotate_key` re-seals them."""
    key = new_key() if key is None else key
    with _key_file_lock(home):
        path = home / KEY_FILE
        ring = (
            read_key_file(path).with_key(key, make_current=make_current)
            if path.exists()
            else (Keyring([key], source=str(path)))
        )
        write_private_file(path, _dump(ring))
    return ring


def remove_key(home: Path, kid: str) -> Keyring:
    """Drop the key ``kid`` from ``home/key.json`` (not the current one). Values still sealed with
    it become unreadable: rotate the store first."""
    with _key_file_lock(home):
        path = home / KEY_FILE
        ring = read_key_file(path).without(kid)
        write_private_file(path, _dump(ring))
    return ring


def _dump(ring: Keyring) -> bytes:
    doc = {"current": ring.current, "keys": {kid: encode_key(ring[kid]) for kid in ring}}
    return (json.dumps(doc, indent=2) + "\n").encode("ascii")


def _bad_file(path: Path, why: str) -> KeyMissing:
    return KeyMissing(
        f"the key file {path} is damaged: {why}. Restore it from a backup, or set {ENV_KEY}"
    )


@contextlib.contextmanager
def _key_file_lock(home: Path) -> Iterator[None]:
    """Serialise read-modify-write of the key file between processes (POSIX only)."""
    ensure_private_dir(home)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no cross-process lock
        yield
        return
    fd = os.open(home / ".key.lock", os.O_RDWR | os.O_CREAT, FILE_MODE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
