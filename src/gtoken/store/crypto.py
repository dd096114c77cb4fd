"""Field encryption: AES-256-GCM with keys that carry ids.

A sealed value is text::

    v1:<kid>:<base64url(nonce || ciphertext || tag), unpadded>

``kid`` is the id of the key that sealed it (the first 8 hex digits of the key's SHA-256), the
nonce is 96 random bits, fresh for every seal. The associated data binds the ciphertext to its
place, ``(table, row, field)``, so a value copied to another row or field fails to open.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import os
from collections.abc import Iterable, Iterator, Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from gtoken.errors import WrongKey
from gtoken.store.errors import CorruptRecord
from gtoken.store.format import (
    KEY_SIZE,
    NONCE_SIZE,
    SEALED_VERSION,
    TAG_SIZE,
    associated_data,
    decode_base64url,
    sealed_parts,
)

__all__ = ["KEY_SIZE", "Keyring", "key_id", "new_key", "open_sealed", "seal", "sealed_key_id"]


def key_id(key: bytes) -> str:
    """The id of ``key``: the first 8 hex digits of its SHA-256. The same key always has the same
    id, and the id tells nothing useful about the key."""
    return hashlib.sha256(key).hexdigest()[:8]


def new_key() -> bytes:
    """A new random 256-bit key."""
    return os.urandom(KEY_SIZE)


class Keyring(Mapping[str, bytes]):
    """Keys by id, in order, one of them ``current``: new values are sealed with the current key,
    any key in the ring opens values sealed with it. ``repr`` shows ids only."""

    __slots__ = ("_ciphers", "_current", "_keys", "source")

    def __init__(
        self, keys: Iterable[bytes], *, current: str | None = None, source: str = "given"
    ) -> None:
        """``current`` defaults to the first key's id; ``source`` says where the keys came from
        (``"GTOKEN_KEY"``, a key file path), for error messages."""
        ring: dict[str, bytes] = {}
        for key in keys:
            if not isinstance(key, bytes) or len(key) != KEY_SIZE:
                raise ValueError(f"a key must be {KEY_SIZE} bytes")
            ring.setdefault(key_id(key), key)
        if not ring:
            raise ValueError("a keyring needs at least one key")
        if current is None:
            current = next(iter(ring))
        if current not in ring:
            raise ValueError(f"current key id {current!r} is not among the keys {list(ring)}")
        self._keys = ring
        self._current = current
        self.source = source
        self._ciphers: dict[str, AESGCM] = {}

    def cipher(self, kid: str) -> AESGCM:
        """The AES-GCM of key ``kid``, made once: every token read goes through it."""
        cipher = self._ciphers.get(kid)
        if cipher is None:
            cipher = self._ciphers[kid] = AESGCM(self._keys[kid])
        return cipher

    @property
    def current(self) -> str:
        """The id of the key new values are sealed with."""
        return self._current

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(self._keys)

    def with_key(self, key: bytes, *, make_current: bool = True) -> Keyring:
        """A keyring with ``key`` added (at the end), by default as the current key."""
        kid = key_id(key)
        keys = [*self._keys.values(), key]
        return Keyring(keys, current=kid if make_current else self._current, source=self.source)

    def without(self, kid: str) -> Keyring:
        """A keyring without the key ``kid``; the current key cannot be removed."""
        if kid == self._current:
            raise ValueError(f"key {kid} is the current key; make another key current first")
        if kid not in self._keys:
            raise KeyError(kid)
        keys = [k for i, k in self._keys.items() if i != kid]
        return Keyring(keys, current=self._current, source=self.source)

    def sealing_with(self, kid: str) -> Keyring:
        """This keyring with ``kid`` (one of its keys) as the current key."""
        if kid == self._current:
            return self
        if kid not in self._keys:
            raise KeyError(kid)
        return Keyring(self._keys.values(), current=kid, source=self.source)

    def merged(self, other: Keyring) -> Keyring:
        """This keyring's keys and current key, followed by ``other``'s keys, to read with both."""
        keys = [*self._keys.values(), *other._keys.values()]
        return Keyring(keys, current=self._current, source=self.source)

    def __getitem__(self, kid: str) -> bytes:
        return self._keys[kid]

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Keyring):
            return NotImplemented
        return self._current == other._current and list(self._keys) == list(other._keys)

    def __repr__(self) -> str:
        return (
            f"Keyring(current={self._current!r}, ids={list(self._keys)!r}, source={self.source!r})"
        )


def seal(keyring: Keyring, plaintext: str, *, table: str, row: str, field: str) -> str:
    """Encrypt ``plaintext`` with the keyring's current key, bound to ``(table, row, field)``."""
    kid = keyring.current
    nonce = os.urandom(NONCE_SIZE)
    ct = keyring.cipher(kid).encrypt(
        nonce, plaintext.encode("utf-8"), _associated_data(table, row, field)
    )
    return f"{SEALED_VERSION}:{kid}:{_b64(nonce + ct)}"


def open_sealed(keyring: Keyring, sealed: str, *, table: str, row: str, field: str) -> str:
    """Decrypt a value made by :func:`seal` for the same ``(table, row, field)``.

    Raises :class:`WrongKey` when the keyring lacks the key id it was sealed with, and
    :class:`CorruptRecord` when it is not a sealed value or fails authentication."""
    where = f"{table}.{field} of row {row!r}"
    parts = sealed_parts(sealed) if isinstance(sealed, str) else None
    if parts is None:
        raise CorruptRecord(
            f"{where} is not an encrypted gtoken value (expected 'v1:<key id>:<data>')",
            table=table,
            row=row,
            field=field,
        )
    kid, body = parts
    if kid not in keyring:
        raise WrongKey(
            f"{where} was encrypted with key id {kid}, which the keyring ({keyring.source}, ids "
            f"{', '.join(keyring.ids)}) does not hold; give gtoken the key whose id is {kid}",
            key_id=kid,
        )
    try:
        raw = decode_base64url(body)
        if len(raw) < NONCE_SIZE + TAG_SIZE or _b64(raw) != body:
            raise ValueError("too short, or not the encoding seal() writes")
        plain = keyring.cipher(kid).decrypt(
            raw[:NONCE_SIZE], raw[NONCE_SIZE:], _associated_data(table, row, field)
        )
        return plain.decode("utf-8")
    except (InvalidTag, ValueError, binascii.Error):
        raise CorruptRecord(
            f"{where} failed to decrypt with key {kid}: it was tampered with, damaged, or moved "
            "here from another row or field",
            table=table,
            row=row,
            field=field,
        ) from None


def sealed_key_id(sealed: str) -> str | None:
    """The key id a sealed value names, or None if it is not a sealed value."""
    parts = sealed_parts(sealed)
    return parts[0] if parts else None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


_associated_data = functools.lru_cache(maxsize=1024)(associated_data)
