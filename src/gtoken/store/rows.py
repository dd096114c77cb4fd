"""Between ``accounts`` rows and :class:`AccountRecord`: the SQL that reads and writes whole
rows, sealing on the way in, checking every column and opening every sealed field on the way
out."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Final, NoReturn

from gtoken.store.crypto import Keyring, open_sealed, seal
from gtoken.store.errors import CorruptRecord
from gtoken.store.records import SECRET_FIELDS, STATUSES, AccountHead, AccountRecord

__all__ = [
    "COLUMNS",
    "SELECT_ACCOUNTS",
    "SELECT_HEADS",
    "SELECT_TOKENS",
    "UPSERT_ACCOUNT",
    "decode_account",
    "decode_head",
    "encode_account",
    "seal_field",
    "update_sql",
]

COLUMNS: Final = (
    "id",
    "client_id",
    "email",
    "sub",
    "scopes",
    "status",
    "status_reason",
    "is_default",
    "token_uri",
    "expires_at",
    "refresh_token_expires_at",
    "created_at",
    "updated_at",
    "version",
    *SECRET_FIELDS,
)

# SQL is only ever built from the column names above, never from input.
SELECT_ACCOUNTS: Final = f"SELECT {', '.join(COLUMNS)} FROM accounts"  # noqa: S608
#: Rows with the client secret left sealed in the file (NULL here), for reading back tokens.
SELECT_TOKENS: Final = (
    f"SELECT {', '.join('NULL' if c == 'client_secret' else c for c in COLUMNS)} FROM accounts"  # noqa: S608
)
#: Rows for :func:`decode_head`.
SELECT_HEADS: Final = "SELECT id, client_id, email, is_default, updated_at FROM accounts"
_UPSERT_SET = ", ".join(f"{c} = excluded.{c}" for c in COLUMNS[1:])
UPSERT_ACCOUNT: Final = (
    f"INSERT INTO accounts ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"  # noqa: S608
    f" ON CONFLICT (id) DO UPDATE SET {_UPSERT_SET}"
)

_TEXT: Final = frozenset({"client_id", "scopes", "token_uri"})
_OPTIONAL_TEXT: Final = frozenset({"email", "sub", "status_reason"})
_INT: Final = frozenset({"created_at", "updated_at", "version"})
_OPTIONAL_INT: Final = frozenset({"expires_at", "refresh_token_expires_at"})


def seal_field(keyring: Keyring, account_id: str, field: str, value: str | None) -> str | None:
    """A secret field as stored: sealed for ``("accounts", account_id, field)``, or NULL."""
    if value is None:
        return None
    return seal(keyring, value, table="accounts", row=account_id, field=field)


def encode_account(record: AccountRecord, keyring: Keyring) -> dict[str, Any]:
    """Column values for ``record``, secrets sealed."""
    values: dict[str, Any] = {name: getattr(record, name) for name in COLUMNS}
    values["scopes"] = " ".join(record.scopes)
    values["is_default"] = int(record.is_default)
    for name in SECRET_FIELDS:
        values[name] = seal_field(keyring, record.id, name, values[name])
    return values


def decode_account(row: Sequence[Any], keyring: Keyring) -> AccountRecord:
    """The record for a row in :data:`COLUMNS` order. Raises :class:`CorruptRecord` naming the row,
    the column and the way out when any column holds something gtoken never writes."""
    raw = dict(zip(COLUMNS, row, strict=True))
    account_id = raw["id"]
    if not isinstance(account_id, str) or not account_id:
        _corrupt(raw, "id", "has no usable id")
    values: dict[str, Any] = {"id": account_id}
    for name in COLUMNS[1:]:
        value = raw[name]
        if not _well_typed(name, value):
            _corrupt(raw, name, f"column {name} holds {_describe(name, value)}")
        values[name] = value
    values["scopes"] = tuple(raw["scopes"].split())
    values["is_default"] = bool(raw["is_default"])
    for name in SECRET_FIELDS:
        if raw[name] is not None:
            try:
                values[name] = open_sealed(
                    keyring, raw[name], table="accounts", row=account_id, field=name
                )
            except CorruptRecord as exc:
                _corrupt(raw, name, exc.message)  # its own hint would repeat the way out
    return AccountRecord(**values)


def decode_head(row: Sequence[Any]) -> AccountHead | None:
    """The head of a row of ``id, client_id, email, is_default, updated_at``; None when its id or
    client is damaged. Opens nothing sealed."""
    id, client_id, email, is_default, updated_at = row
    if not (isinstance(id, str) and id and isinstance(client_id, str) and client_id):
        return None
    return AccountHead(
        id=id,
        client_id=client_id,
        email=email if isinstance(email, str) else None,
        is_default=is_default == 1,
        updated_at=updated_at if type(updated_at) is int else 0,
    )


def update_sql(columns: Iterable[str]) -> str:
    """``UPDATE accounts`` of ``columns`` (account columns only) for the row ``id = ?``."""
    columns = list(columns)
    if not set(columns) <= set(COLUMNS):
        raise ValueError(f"not account columns: {set(columns) - set(COLUMNS)}")
    return f"UPDATE accounts SET {', '.join(f'{c} = ?' for c in columns)} WHERE id = ?"  # noqa: S608


def _well_typed(name: str, value: object) -> bool:
    if name in _TEXT:
        return isinstance(value, str) and (name == "scopes" or bool(value))
    if name in _OPTIONAL_TEXT or name in SECRET_FIELDS:
        return value is None or isinstance(value, str)
    if name in _INT:
        return type(value) is int
    if name in _OPTIONAL_INT:
        return value is None or type(value) is int
    if name == "status":
        return value in STATUSES
    if name == "is_default":
        return value in (0, 1) and type(value) is int
    raise AssertionError(name)


def _describe(name: str, value: object) -> str:
    # Secret columns' contents are never shown; other columns' only briefly.
    if value is None:
        return "NULL"
    kind = {bytes: "a blob", str: "text", int: "the number", float: "the number"}
    what = kind.get(type(value), type(value).__name__)
    if name in SECRET_FIELDS or isinstance(value, bytes):
        return what.replace("the number", "a number")
    text = repr(value)
    return f"{what} {text if len(text) <= 40 else text[:37] + '...'}"


def _corrupt(raw: dict[str, Any], field: str, detail: str) -> NoReturn:
    account_id = raw["id"] if isinstance(raw["id"], str) and raw["id"] else repr(raw["id"])
    email = raw["email"] if isinstance(raw["email"], str) and raw["email"] else None
    who = f"{account_id} ({email})" if email else account_id
    # The way out for one account, instead of the generic one for a damaged store.
    raise CorruptRecord(
        f"the stored account {who} is damaged: {detail}. Nothing was changed",
        hint=f"Forget it with `gtoken logout --account {email or account_id}` and log in again.",
        table="accounts",
        row=str(account_id),
        field=field,
    )
