"""Every way a stored row can be damaged is named word for word, whatever the database holds.

:func:`gtoken.store.rows.decode_account` reads rows from any database (SQLite's type affinity
already turns some garbage into text; PostgreSQL's types would turn away other), so it is fed
rows directly here, each with one column holding what gtoken never writes."""

from __future__ import annotations

from typing import Any

import pytest

from gtoken.store import CorruptRecord, Keyring, new_key
from gtoken.store.rows import COLUMNS, decode_account, encode_account
from tests.store.samples import account

KEYRING = Keyring([new_key()], source="test")


def row_with(column: str, value: object) -> list[Any]:
    """Account ``a``'s row as gtoken writes it, with ``column`` holding ``value``."""
    values = encode_account(account("a"), KEYRING)
    values[column] = value
    return [values[name] for name in COLUMNS]


WAY_OUT = "Forget it with `gtoken logout --account {}` and log in again."


CASES: list[tuple[str, object, str, str]] = [
    ("id", "", "'' (a@example.com)", "has no usable id"),
    ("id", None, "None (a@example.com)", "has no usable id"),
    ("id", 7, "7 (a@example.com)", "has no usable id"),
    ("client_id", None, "a (a@example.com)", "column client_id holds NULL"),
    ("client_id", "", "a (a@example.com)", "column client_id holds text ''"),
    ("client_id", 3, "a (a@example.com)", "column client_id holds the number 3"),
    ("scopes", b"openid", "a (a@example.com)", "column scopes holds a blob"),
    ("scopes", None, "a (a@example.com)", "column scopes holds NULL"),
    ("token_uri", 5, "a (a@example.com)", "column token_uri holds the number 5"),
    ("token_uri", "", "a (a@example.com)", "column token_uri holds text ''"),
    ("email", b"\xffblob", "a", "column email holds a blob"),
    ("email", 4, "a", "column email holds the number 4"),
    ("sub", 12, "a (a@example.com)", "column sub holds the number 12"),
    ("status_reason", 1.5, "a (a@example.com)", "column status_reason holds the number 1.5"),
    ("expires_at", "soon", "a (a@example.com)", "column expires_at holds text 'soon'"),
    ("expires_at", 1.5, "a (a@example.com)", "column expires_at holds the number 1.5"),
    ("expires_at", True, "a (a@example.com)", "column expires_at holds bool True"),
    (
        "refresh_token_expires_at",
        b"x",
        "a (a@example.com)",
        "column refresh_token_expires_at holds a blob",
    ),
    ("version", "three", "a (a@example.com)", "column version holds text 'three'"),
    ("version", None, "a (a@example.com)", "column version holds NULL"),
    ("version", False, "a (a@example.com)", "column version holds bool False"),
    ("created_at", "yesterday", "a (a@example.com)", "column created_at holds text 'yesterday'"),
    ("updated_at", 2.0, "a (a@example.com)", "column updated_at holds the number 2.0"),
    ("status", "paused", "a (a@example.com)", "column status holds text 'paused'"),
    ("status", 7, "a (a@example.com)", "column status holds the number 7"),
    ("status", None, "a (a@example.com)", "column status holds NULL"),
    ("is_default", 2, "a (a@example.com)", "column is_default holds the number 2"),
    ("is_default", "1", "a (a@example.com)", "column is_default holds text '1'"),
    ("is_default", True, "a (a@example.com)", "column is_default holds bool True"),
    ("is_default", 1.0, "a (a@example.com)", "column is_default holds the number 1.0"),
    ("status_reason", ["a"], "a (a@example.com)", "column status_reason holds list ['a']"),
    ("access_token", 5, "a (a@example.com)", "column access_token holds a number"),
    ("access_token", b"\x00binary", "a (a@example.com)", "column access_token holds a blob"),
    ("id_token", 2.5, "a (a@example.com)", "column id_token holds a number"),
    (
        "refresh_token",
        "plaintext-refresh-token",
        "a (a@example.com)",
        (
            "accounts.refresh_token of row 'a' is not an encrypted gtoken value (expected "
            "'v1:<key id>:<data>')"
        ),
    ),
    (
        "status",
        "p" * 60,
        "a (a@example.com)",
        "column status holds text 'pppppppppppppppppppppppppppppppppppp...",
    ),
]


@pytest.mark.parametrize(("column", "value", "who", "detail"), CASES)
def test_a_damaged_column_is_named_word_for_word(
    column: str, value: object, who: str, detail: str
) -> None:
    with pytest.raises(CorruptRecord) as info:
        decode_account(row_with(column, value), KEYRING)
    named = "a@example.com" if "(" in who else who
    assert (
        info.value.message == f"the stored account {who} is damaged: {detail}. Nothing was changed"
    )
    assert info.value.hint == WAY_OUT.format(named)  # the one way out, said once
    assert (info.value.table, info.value.field) == ("accounts", "id" if column == "id" else column)
    assert info.value.row == ("a" if column != "id" else str(value) if value else repr(value))
    assert "REFRESH-a" not in str(info.value)


def test_rows_as_gtoken_writes_them_read_back() -> None:
    assert decode_account(row_with("status_reason", "x" * 60), KEYRING).status_reason == "x" * 60
    record = decode_account(row_with("is_default", 1), KEYRING)
    assert record == account("a", is_default=True)


@pytest.mark.parametrize(
    ("value", "shown"),
    [("p" * 38, "text '" + "p" * 38 + "'"), ("p" * 39, "text '" + "p" * 36 + "...")],
    ids=["40-characters-whole", "41-characters-cut"],
)
def test_long_values_are_cut_at_40_characters(value: str, shown: str) -> None:
    with pytest.raises(CorruptRecord) as info:
        decode_account(row_with("status", value), KEYRING)
    assert f"column status holds {shown}. Nothing" in info.value.message


def test_a_row_of_another_width_is_refused() -> None:
    with pytest.raises(ValueError, match="zip"):
        decode_account(row_with("status", "active")[:-1], KEYRING)
    with pytest.raises(ValueError, match="zip"):
        decode_account([*row_with("status", "active"), "extra"], KEYRING)
