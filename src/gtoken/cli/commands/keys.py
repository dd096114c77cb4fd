"""``gtoken key rotate`` and ``gtoken key new``: the key that encrypts the store.

Rotation with the key file (``key.json`` in the gtoken home): a new key becomes its current key,
every stored secret is re-encrypted with it, and the old keys no value uses any more leave the
file. With ``GTOKEN_KEY``, gtoken cannot change the environment it was given, so the new key comes
in ``GTOKEN_KEY_NEW`` (``gtoken key new`` makes one); afterwards only the new key opens the store,
and the person moves ``GTOKEN_KEY`` to it.
"""

from __future__ import annotations

import argparse

from gtoken.cli.output import Io
from gtoken.errors import ConfigError
from gtoken.store import (
    Keyring,
    add_key,
    encode_key,
    gtoken_home,
    key_id,
    new_key,
    open_store,
    parse_key,
    remove_key,
)

ENV_KEY = "GTOKEN_KEY"
ENV_KEY_NEW = "GTOKEN_KEY_NEW"


def new(args: argparse.Namespace, io: Io) -> int:
    key = new_key()
    io.data(encode_key(key) + "\n")
    io.say(f"A new random key, id {key_id(key)}. Keep it as secret as the tokens it protects.")
    return 0


def rotate(args: argparse.Namespace, io: Io) -> int:
    given = io.env.get(ENV_KEY_NEW) or None
    key = None if given is None else parse_key(given, source=ENV_KEY_NEW)
    if io.env.get(ENV_KEY):
        return _rotate_env_key(key, io)
    return _rotate_key_file(key, args.keep_old, io)


def _rotate_env_key(key: bytes | None, io: Io) -> int:
    if key is None:
        raise ConfigError(
            f"{ENV_KEY} is set, and gtoken cannot change a key it is given in the environment",
            hint=f"Make a key with `gtoken key new`, run `{ENV_KEY_NEW}=<that key> gtoken key "
            f"rotate` with {ENV_KEY} still the old key, then set {ENV_KEY} to the new key "
            "wherever gtoken runs.",
        )
    home = gtoken_home(io.env)
    with open_store(io.env, home=home) as store:
        old = store.keyring.current
        if key_id(key) == old:
            raise ConfigError(
                f"{ENV_KEY_NEW} holds the same key as {ENV_KEY} (id {old})",
                hint=f"Set {ENV_KEY_NEW} to a new key (`gtoken key new` prints one).",
            )
        count = store.rotate_key(Keyring([key], source=ENV_KEY_NEW))
    io.say(
        f"Re-encrypted {_values(count)} in {home} with the key of {ENV_KEY_NEW} (id "
        f"{key_id(key)}). Now set {ENV_KEY} to that key wherever gtoken uses this store: the "
        f"old key (id {old}) no longer opens it."
    )
    return 0


def _rotate_key_file(key: bytes | None, keep_old: bool, io: Io) -> int:
    home = gtoken_home(io.env)
    with open_store(io.env, home=home) as store:
        ring = add_key(home, key)
        count = store.rotate_key(ring)
        unused = [] if keep_old else sorted(set(ring) - {ring.current} - store.key_ids_in_use())
    for kid in unused:
        remove_key(home, kid)
    done = f"Re-encrypted {_values(count)} in {home} with the new key (id {ring.current})."
    if unused:
        done += f" Removed the old key{'s' * (len(unused) > 1)} {', '.join(unused)} from key.json."
    elif len(ring) > 1:
        done += f" key.json keeps the old keys ({', '.join(k for k in ring if k != ring.current)})."
    io.say(done)
    return 0


def _values(count: int) -> str:
    return f"{count} stored value{'' if count == 1 else 's'}"
