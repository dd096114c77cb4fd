"""How the store says no: branches of gtoken's one error tree (:mod:`gtoken.errors`).

::

    gtoken.errors.StoreError       the store cannot do what was asked
    ├── CorruptRecord              a stored value that fails to decrypt or to parse
    ├── NotFound                   no account (or entry) with that id
    ├── ReadOnlyStore              the store can be read but not written (a read-only home)
    └── VersionConflict            an optimistic write saw a different version than expected
    gtoken.errors.ConfigError
    ├── KeyMissing                 no usable encryption key, or a malformed one
    └── InsecurePermissions        a store or key file, or the gtoken home, that others can reach
    gtoken.errors.WrongKey         a value was sealed with a key id the keyring does not hold

Messages name what is wrong and how to fix it, and never contain a key, token or secret.
"""

from __future__ import annotations

from pathlib import Path

from gtoken import errors
from gtoken.errors import StoreError, WrongKey

__all__ = [
    "CorruptRecord",
    "InsecurePermissions",
    "KeyMissing",
    "NotFound",
    "ReadOnlyStore",
    "StoreError",
    "VersionConflict",
    "WrongKey",
]


class KeyMissing(errors.ConfigError):
    """No usable encryption key: none is configured, or ``GTOKEN_KEY``/``key.json`` is malformed."""

    hint = "Set GTOKEN_KEY to the key the store was written with, or restore key.json."


class InsecurePermissions(errors.ConfigError):
    """A file or directory that other users can read, write or enter, or that someone else owns."""

    hint = "Fix the permissions as shown; gtoken keeps tokens only where no one else can read them."

    def __init__(self, message: str, *, path: Path) -> None:
        super().__init__(message)
        self.path = path


class CorruptRecord(StoreError):
    """A stored value fails to decrypt (tampered with, or moved) or does not parse."""

    def __init__(self, message: str, *, table: str, row: str, field: str) -> None:
        super().__init__(message)
        self.table = table
        self.row = row
        self.field = field


class NotFound(StoreError, KeyError):
    """No row with that id."""

    hint = "Check the account name with `gtoken accounts`."

    def __str__(self) -> str:  # KeyError would quote the message
        return errors.GTokenError.__str__(self)


class ReadOnlyStore(StoreError):
    """The store can be read but not written: its directory or file system is read-only."""

    hint = (
        "Make GTOKEN_HOME writable for gtoken, or point GTOKEN_HOME at a writable copy of it "
        "(reading a valid token works read-only; saving a sign-in or a refresh does not)."
    )


class VersionConflict(StoreError):
    """The row changed since it was read: ``expected_version`` did not match."""

    hint = "Read the account again and retry."

    def __init__(self, message: str, *, expected: int, actual: int | None) -> None:
        super().__init__(message)
        self.expected = expected
        self.actual = actual
