"""The values the store hands out: account rows, and the sentinel that leaves a field as stored."""

from __future__ import annotations

import enum
from dataclasses import dataclass, fields
from typing import Final, Literal, get_args

from gtoken.redact import fingerprint

__all__ = [
    "GOOGLE_TOKEN_URI",
    "KEEP",
    "SECRET_FIELDS",
    "STATUSES",
    "AccountHead",
    "AccountRecord",
    "DamagedAccount",
    "Keep",
    "Status",
]

GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"

Status = Literal["active", "needs_consent", "revoked"]
STATUSES: Final[tuple[Status, ...]] = get_args(Status)

#: The columns that are sealed, each with associated data ``("accounts", id, name)``.
SECRET_FIELDS: Final = ("access_token", "refresh_token", "id_token", "client_secret")


class Keep(enum.Enum):
    """Type of :data:`KEEP`."""

    KEEP = "KEEP"

    def __repr__(self) -> str:
        return "KEEP"


#: "Leave this field as it is stored."
KEEP: Final = Keep.KEEP


@dataclass(frozen=True, repr=False, kw_only=True)
class AccountRecord:
    """One stored account: who, for which client, with which scopes, and its tokens.

    ``created_at``, ``updated_at`` and ``version`` are set by the store on every write; values
    given for them are ignored (except ``created_at`` on first insert, when non-zero). Times are
    unix seconds. ``repr`` shows secrets as fingerprints only."""

    id: str
    client_id: str
    email: str | None = None
    sub: str | None = None
    scopes: tuple[str, ...] = ()
    status: Status = "active"
    status_reason: str | None = None
    is_default: bool = False
    token_uri: str = GOOGLE_TOKEN_URI
    expires_at: int | None = None
    refresh_token_expires_at: int | None = None
    created_at: int = 0
    updated_at: int = 0
    version: int = 0
    access_token: str | None = None
    refresh_token: str | None = None
    id_token: str | None = None
    client_secret: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise ValueError("an account id must be a non-empty string")
        if not isinstance(self.client_id, str) or not self.client_id:
            raise ValueError("client_id must be a non-empty string")
        if isinstance(self.scopes, str):
            raise TypeError("scopes is a tuple of scope strings, not one string")
        object.__setattr__(self, "scopes", tuple(self.scopes))
        for scope in self.scopes:
            if scope.split() != [scope]:  # empty, or holding whitespace
                raise ValueError(f"invalid scope {scope!r}: scopes are non-empty, without spaces")
        _check_types(self)
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}, not {self.status!r}")

    def __repr__(self) -> str:
        parts = []
        for f in fields(self):
            value = getattr(self, f.name)
            shown = _shown(value) if f.name in SECRET_FIELDS else repr(value)
            parts.append(f"{f.name}={shown}")
        return f"AccountRecord({', '.join(parts)})"

    __str__ = __repr__


@dataclass(frozen=True, kw_only=True)
class AccountHead:
    """The columns that pick an account (none of them secret), read without opening any sealed
    value: choosing one account among many costs the same however many there are."""

    id: str
    client_id: str
    email: str | None
    is_default: bool
    updated_at: int

    @property
    def label(self) -> str:
        return self.email or self.id


@dataclass(frozen=True, kw_only=True)
class DamagedAccount:
    """A stored account that does not open (a damaged byte, a value moved from another row): what
    could be read of it, and ``problem``, which says what is wrong and how to recover."""

    id: str
    client_id: str | None
    email: str | None
    is_default: bool
    problem: str

    @property
    def label(self) -> str:
        return self.email or self.id


def _shown(secret: str | None) -> str:
    return "None" if secret is None else fingerprint(secret)


_OPTIONAL_STR: Final = ("email", "sub", "status_reason", *SECRET_FIELDS)
_OPTIONAL_INT: Final = ("expires_at", "refresh_token_expires_at")
_INT: Final = ("created_at", "updated_at", "version")


def _check_types(record: AccountRecord) -> None:
    # What the store writes it must be able to read back: refuse wrong types before sealing.
    for name in _OPTIONAL_STR:
        if not isinstance(getattr(record, name), str | None):
            raise TypeError(f"{name} must be a string or None")
    for name in (*_OPTIONAL_INT, *_INT):
        value = getattr(record, name)
        if isinstance(value, bool) or not isinstance(value, int | None):
            raise TypeError(
                f"{name} must be an int (unix seconds){' or None' * (name in _OPTIONAL_INT)}"
            )
        if name in _INT and value is None:
            raise TypeError(f"{name} must be an int")
    if not isinstance(record.token_uri, str) or not record.token_uri:
        raise ValueError("token_uri must be a non-empty string")
    if not isinstance(record.is_default, bool):
        raise TypeError("is_default must be a bool")
