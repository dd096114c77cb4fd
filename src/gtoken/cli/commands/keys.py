"""``gtoken key rotate`` and ``gtoken key new``: the key that encrypts the store.

Rotation itself is the store's (:func:`gtoken.store.rotate_key`); this says what it did.
"""

from __future__ import annotations

import argparse

from gtoken.cli.output import Io
from gtoken.store import encode_key, key_id, new_key, parse_key, rotate_key
from gtoken.store.format import ENV_KEY
from gtoken.store.rotation import ENV_KEY_NEW


def new(args: argparse.Namespace, io: Io) -> int:
    key = new_key()
    io.data(encode_key(key) + "\n")
    io.say(f"A new random key, id {key_id(key)}. Keep it as secret as the tokens it protects.")
    return 0


def rotate(args: argparse.Namespace, io: Io) -> int:
    given = io.env.get(ENV_KEY_NEW) or None
    key = None if given is None else parse_key(given, source=ENV_KEY_NEW)
    done = rotate_key(io.env, key=key, keep_old=args.keep_old)
    if done.in_env:
        io.say(
            f"Re-encrypted {_values(done.count)} in {done.home} with the key of {ENV_KEY_NEW} "
            f"(id {done.new}). Now set {ENV_KEY} to that key wherever gtoken uses this store: "
            f"the old key (id {done.old}) no longer opens it."
        )
        return 0
    said = f"Re-encrypted {_values(done.count)} in {done.home} with the new key (id {done.new})."
    if done.removed:
        plural = "s" * (len(done.removed) > 1)
        said += f" Removed the old key{plural} {', '.join(done.removed)} from key.json."
    elif done.kept:
        said += f" key.json keeps the old keys ({', '.join(done.kept)})."
    io.say(said)
    return 0


def _values(count: int) -> str:
    return f"{count} stored value{'' if count == 1 else 's'}"
