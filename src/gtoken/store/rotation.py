"""Rotating the key that encrypts a store: a new key becomes current and every stored secret is
re-encrypted with it.

With the key file (``key.json`` in the gtoken home), the new key joins the file as its current
key, and the old keys no value uses any more leave it (unless asked to keep them). With
``GTOKEN_KEY``, gtoken cannot change the environment it was given, so the new key must be given
(``GTOKEN_KEY_NEW``); afterwards only the new key opens the store, and the person moves
``GTOKEN_KEY`` to it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from gtoken.errors import ConfigError
from gtoken.store.crypto import Keyring, key_id
from gtoken.store.format import ENV_KEY
from gtoken.store.keys import add_key, remove_key
from gtoken.store.paths import gtoken_home
from gtoken.store.sqlite import open_store

__all__ = ["ENV_KEY_NEW", "Rotation", "rotate_key"]

ENV_KEY_NEW = "GTOKEN_KEY_NEW"


@dataclass(frozen=True)
class Rotation:
    """What a rotation did: ``count`` values re-encrypted in ``home`` from key ``old`` to key
    ``new``; the old key ids ``removed`` from and ``kept`` in the key file; ``in_env`` when the
    keys are given in the environment (then the person must move ``GTOKEN_KEY`` to ``new``)."""

    home: Path
    count: int
    old: str
    new: str
    removed: tuple[str, ...] = ()
    kept: tuple[str, ...] = ()
    in_env: bool = False


def rotate_key(
    env: Mapping[str, str] = os.environ,
    *,
    key: bytes | None = None,
    keep_old: bool = False,
    home: Path | None = None,
) -> Rotation:
    """Re-encrypt the store of ``env``'s gtoken home with ``key`` (default, with the key file: a
    new random key). With ``GTOKEN_KEY`` set, ``key`` is required and must differ from it."""
    home = gtoken_home(env) if home is None else home
    if env.get(ENV_KEY):
        return _rotate_env_key(env, key, home)
    return _rotate_key_file(env, key, keep_old, home)


def _rotate_env_key(env: Mapping[str, str], key: bytes | None, home: Path) -> Rotation:
    if key is None:
        raise ConfigError(
            f"{ENV_KEY} is set, and gtoken cannot change a key it is given in the environment",
            hint=f"Make a key with `gtoken key new`, run `{ENV_KEY_NEW}=<that key> gtoken key "
            f"rotate` with {ENV_KEY} still the old key, then set {ENV_KEY} to the new key "
            "wherever gtoken runs.",
        )
    with open_store(env, home=home) as store:
        old = store.keyring.current
        if key_id(key) == old:
            raise ConfigError(
                f"{ENV_KEY_NEW} holds the same key as {ENV_KEY} (id {old})",
                hint=f"Set {ENV_KEY_NEW} to a new key (`gtoken key new` prints one).",
            )
        count = store.rotate_key(Keyring([key], source=ENV_KEY_NEW))
    return Rotation(home=home, count=count, old=old, new=key_id(key), in_env=True)


def _rotate_key_file(
    env: Mapping[str, str], key: bytes | None, keep_old: bool, home: Path
) -> Rotation:
    with open_store(env, home=home) as store:
        old = store.keyring.current
        ring = add_key(home, key)
        count = store.rotate_key(ring)
        unused = [] if keep_old else sorted(set(ring) - {ring.current} - store.key_ids_in_use())
    for kid in unused:
        remove_key(home, kid)
    kept = tuple(k for k in ring if k != ring.current and k not in unused)
    return Rotation(
        home=home, count=count, old=old, new=ring.current, removed=tuple(unused), kept=kept
    )
