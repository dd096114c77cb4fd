"""The vault's encryption keys: where they come from. There is no plaintext mode.

In order: the ``keys`` argument; ``GTOKEN_VAULT_KEYS`` (comma-separated base64 keys of 32 bytes,
the first one newest: it seals, all of them open); ``GTOKEN_VAULT_KEY_FILE`` (a ``key.json`` in
the format of gtoken's own key file, whose ``current`` key seals). None of these: the vault refuses
to start.

Rotation: put a new key first (``GTOKEN_VAULT_KEYS=new,old``) everywhere the vault runs, run
``gtoken vault rekey`` to re-seal what the old key sealed, then drop the old key.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from gtoken.store.crypto import Keyring
from gtoken.store.errors import KeyMissing
from gtoken.store.keys import parse_key, read_key_file

__all__ = ["ENV_KEYS", "ENV_KEY_FILE", "Keys", "vault_keyring"]

ENV_KEYS = "GTOKEN_VAULT_KEYS"
ENV_KEY_FILE = "GTOKEN_VAULT_KEY_FILE"
_MAKE_ONE = "make one with: gtoken key new"
#: What to do about a missing or wrong vault key (the store's own errors speak of GTOKEN_KEY).
HINT = (
    "Give the vault its keys in GTOKEN_VAULT_KEYS (newest first, comma-separated) or "
    "GTOKEN_VAULT_KEY_FILE, the same wherever the vault runs."
)

#: What ``Vault(keys=...)`` takes: a Keyring, a key file's path, or keys (raw 32 bytes or
#: base64), newest first.
Keys = Keyring | Path | str | Iterable[bytes | str]


def vault_keyring(keys: Keys | None, env: Mapping[str, str] = os.environ) -> Keyring:
    """The keyring the vault seals with (its current key) and opens with (all its keys)."""
    if keys is None:
        given = env.get(ENV_KEYS, "").strip()
        if given:
            return _from_list(given.split(","), ENV_KEYS)
        path = env.get(ENV_KEY_FILE, "").strip()
        if path:
            return _key_file(Path(path))
        raise KeyMissing(
            f"the vault has no encryption key: pass keys=..., or set {ENV_KEYS} (base64 keys, "
            f"newest first, comma-separated) or {ENV_KEY_FILE}; {_MAKE_ONE}. The vault never "
            "stores tokens unencrypted",
            hint=HINT,
        )
    if isinstance(keys, Keyring):
        return keys
    if isinstance(keys, Path):
        return _key_file(keys)
    if isinstance(keys, str):
        return _from_list(keys.split(","), "keys")
    return _from_list(list(keys), "keys")


def _from_list(items: Sequence[bytes | str], source: str) -> Keyring:
    parsed: list[bytes] = []
    for n, item in enumerate(items, 1):
        if isinstance(item, bytes):
            parsed.append(item)
        elif isinstance(item, str) and item.strip():
            try:
                parsed.append(parse_key(item.strip(), source=f"key {n} of {source}"))
            except KeyMissing as exc:
                raise KeyMissing(exc.message, hint=HINT) from None
        else:
            raise KeyMissing(f"key {n} of {source} is empty; {_MAKE_ONE}", hint=HINT)
    if not parsed:
        raise KeyMissing(f"{source} holds no key; {_MAKE_ONE}", hint=HINT)
    try:
        return Keyring(parsed, source=source)
    except ValueError as exc:
        raise KeyMissing(f"{source}: {exc}", hint=HINT) from None


def _key_file(path: Path) -> Keyring:
    try:
        return read_key_file(path)
    except KeyMissing as exc:
        raise KeyMissing(exc.message, hint=HINT) from None
    except FileNotFoundError:
        raise KeyMissing(f"the vault key file {path} does not exist", hint=HINT) from None
