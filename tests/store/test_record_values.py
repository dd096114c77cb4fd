"""An AccountRecord refuses, word for word, every value the store could not write and read back."""

from __future__ import annotations

from typing import Any

import pytest

from gtoken.store import KEEP
from tests.store.samples import account

INT = "must be an int (unix seconds)"


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"id": ""}, ValueError, "an account id must be a non-empty string"),
        ({"id": 5}, ValueError, "an account id must be a non-empty string"),
        ({"client_id": ""}, ValueError, "client_id must be a non-empty string"),
        ({"client_id": None}, ValueError, "client_id must be a non-empty string"),
        (
            {"scopes": "openid email"},
            TypeError,
            "scopes is a tuple of scope strings, not one string",
        ),
        (
            {"scopes": ("openid", "")},
            ValueError,
            "invalid scope '': scopes are non-empty, without spaces",
        ),
        (
            {"scopes": ("a b",)},
            ValueError,
            "invalid scope 'a b': scopes are non-empty, without spaces",
        ),
        ({"email": 5}, TypeError, "email must be a string or None"),
        ({"access_token": b"x"}, TypeError, "access_token must be a string or None"),
        ({"client_secret": 1}, TypeError, "client_secret must be a string or None"),
        ({"expires_at": "1"}, TypeError, f"expires_at {INT} or None"),
        ({"expires_at": True}, TypeError, f"expires_at {INT} or None"),
        ({"expires_at": 1.5}, TypeError, f"expires_at {INT} or None"),
        ({"refresh_token_expires_at": "x"}, TypeError, f"refresh_token_expires_at {INT} or None"),
        ({"version": None}, TypeError, "version must be an int"),
        ({"created_at": "0"}, TypeError, f"created_at {INT}"),
        ({"updated_at": False}, TypeError, f"updated_at {INT}"),
        ({"token_uri": ""}, ValueError, "token_uri must be a non-empty string"),
        ({"token_uri": None}, ValueError, "token_uri must be a non-empty string"),
        ({"is_default": 1}, TypeError, "is_default must be a bool"),
        (
            {"status": "paused"},
            ValueError,
            "status must be one of active, needs_consent, revoked, not 'paused'",
        ),
    ],
)
def test_bad_values_are_refused_word_for_word(
    changes: dict[str, Any], error: type[Exception], message: str
) -> None:
    values = dict(changes)
    with pytest.raises(error) as info:
        account(values.pop("id", "a"), **values)
    assert str(info.value) == message


def test_values_the_store_writes_are_accepted() -> None:
    record = account("a", scopes=["openid"], expires_at=None, status="needs_consent")
    assert record.scopes == ("openid",)  # any iterable becomes a tuple
    assert account("a", created_at=0, version=3, is_default=True).version == 3


def test_keep_shows_as_its_name() -> None:
    assert repr(KEEP) == "KEEP"


def test_repr_lists_every_field_with_secrets_as_fingerprints() -> None:
    record = account("a", id_token=None)
    assert repr(record) == (
        "AccountRecord(id='a', client_id='client-123.apps.googleusercontent.com', "
        "email='a@example.com', sub='sub-a', "
        "scopes=('openid', 'https://www.googleapis.com/auth/gmail.readonly'), status='active', "
        "status_reason=None, is_default=False, token_uri='https://oauth2.googleapis.com/token', "
        "expires_at=1900000000, refresh_token_expires_at=1900600000, created_at=0, "
        "updated_at=0, version=0, access_token=…cdef, refresh_token=…cdef, id_token=None, "
        "client_secret=…6789)"
    )
    assert str(record) == repr(record)
