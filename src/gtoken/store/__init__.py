"""The token store: accounts with encrypted tokens, in an SQLite file, and the keys that seal them.

See :mod:`gtoken.store.sqlite` for the store and its concurrency guarantees,
:mod:`gtoken.store.keys` for where keys come from, and :mod:`gtoken.store.crypto` for the format
of a sealed value.
"""

from __future__ import annotations

from gtoken.store.crypto import Keyring, key_id, new_key, open_sealed, seal
from gtoken.store.errors import (
    CorruptRecord,
    InsecurePermissions,
    KeyMissing,
    NotFound,
    ReadOnlyStore,
    StoreError,
    VersionConflict,
    WrongKey,
)
from gtoken.store.keys import add_key, encode_key, load_keyring, parse_key, remove_key
from gtoken.store.paths import (
    check_private_file,
    ensure_private_dir,
    gtoken_home,
    write_private_file,
)
from gtoken.store.records import KEEP, AccountHead, AccountRecord, DamagedAccount, Keep, Status
from gtoken.store.sqlite import STORE_FILE, SqliteStore, open_store

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
    "seal",
    "write_private_file",
]
