"""The token store: accounts with encrypted tokens, in an SQLite file, and the keys that seal them.

See :mod:`gtoken.store.sqlite` for the store and its concurrency guarantees,
:mod:`gtoken.store.keys` for where keys come from, and :mod:`gtoken.store.crypto` for the format
of a sealed value.
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing

# Public name -> the module that defines it. Loaded on first use, so that importing
# gtoken.store.format (standard library only) does not load the store and cryptography.
_EXPORTS = {
    "Keyring": "gtoken.store.crypto",
    "key_id": "gtoken.store.crypto",
    "new_key": "gtoken.store.crypto",
    "open_sealed": "gtoken.store.crypto",
    "seal": "gtoken.store.crypto",
    "CorruptRecord": "gtoken.store.errors",
    "InsecurePermissions": "gtoken.store.errors",
    "KeyMissing": "gtoken.store.errors",
    "NotFound": "gtoken.store.errors",
    "ReadOnlyStore": "gtoken.store.errors",
    "StoreError": "gtoken.store.errors",
    "VersionConflict": "gtoken.store.errors",
    "WrongKey": "gtoken.errors",
    "add_key": "gtoken.store.keys",
    "encode_key": "gtoken.store.keys",
    "load_keyring": "gtoken.store.keys",
    "parse_key": "gtoken.store.keys",
    "remove_key": "gtoken.store.keys",
    "check_private_file": "gtoken.store.paths",
    "ensure_private_dir": "gtoken.store.paths",
    "gtoken_home": "gtoken.store.paths",
    "write_private_file": "gtoken.store.paths",
    "KEEP": "gtoken.store.records",
    "AccountHead": "gtoken.store.records",
    "AccountRecord": "gtoken.store.records",
    "DamagedAccount": "gtoken.store.records",
    "Keep": "gtoken.store.records",
    "Status": "gtoken.store.records",
    "STORE_FILE": "gtoken.store.format",
    "SqliteStore": "gtoken.store.sqlite",
    "open_store": "gtoken.store.sqlite",
    "rotate_key": "gtoken.store.rotation",
    "Rotation": "gtoken.store.rotation",
}

__all__ = [
    "KEEP",
    "STORE_FILE",
    "AccountHead",
    "AccountRecord",
    "CorruptRecord",
    "DamagedAccount",
    "InsecurePermissions",
    "Keep",
    "KeyMissing",
    "Keyring",
    "NotFound",
    "ReadOnlyStore",
    "Rotation",
    "SqliteStore",
    "Status",
    "StoreError",
    "VersionConflict",
    "WrongKey",
    "add_key",
    "check_private_file",
    "encode_key",
    "ensure_private_dir",
    "gtoken_home",
    "key_id",
    "load_keyring",
    "new_key",
    "open_sealed",
    "open_store",
    "parse_key",
    "remove_key",
    "rotate_key",
    "seal",
    "write_private_file",
]

if TYPE_CHECKING:
    from gtoken.errors import WrongKey
    from gtoken.store.crypto import Keyring, key_id, new_key, open_sealed, seal
    from gtoken.store.errors import (
        CorruptRecord,
        InsecurePermissions,
        KeyMissing,
        NotFound,
        ReadOnlyStore,
        StoreError,
        VersionConflict,
    )
    from gtoken.store.format import STORE_FILE
    from gtoken.store.keys import add_key, encode_key, load_keyring, parse_key, remove_key
    from gtoken.store.paths import (
        check_private_file,
        ensure_private_dir,
        gtoken_home,
        write_private_file,
    )
    from gtoken.store.records import (
        KEEP,
        AccountHead,
        AccountRecord,
        DamagedAccount,
        Keep,
        Status,
    )
    from gtoken.store.rotation import Rotation, rotate_key
    from gtoken.store.sqlite import SqliteStore, open_store


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'gtoken.store' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
