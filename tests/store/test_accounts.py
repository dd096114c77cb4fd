"""Accounts in a real SQLite file: every field, versions, defaults, and the refresh-token rule."""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

import pytest

from gtoken.store import (
    KEEP,
    AccountRecord,
    Keyring,
    NotFound,
    SqliteStore,
    VersionConflict,
)
from gtoken.store.records import SECRET_FIELDS
from tests.store.samples import account


def same_content(a: AccountRecord, b: AccountRecord) -> bool:
    """Equal but for the fields the store stamps on every write."""

    def strip(r: AccountRecord) -> AccountRecord:
        return dataclasses.replace(r, created_at=0, updated_at=0, version=0)

    return strip(a) == strip(b)


def test_every_field_round_trips(tmp_path: Path, keyring: Keyring) -> None:
    record = account(status="needs_consent", status_reason="revoked by user", is_default=True)
    with SqliteStore(tmp_path / "s.db", keyring, clock=lambda: 1_700_000_000.5) as store:
        stored = store.put(record)
    with SqliteStore(tmp_path / "s.db", keyring) as reopened:
        got = reopened.get(record.id)
    assert got == stored
    assert same_content(got, record)
    assert (got.created_at, got.updated_at, got.version) == (1_700_000_000, 1_700_000_000, 1)


def test_none_and_empty_values_round_trip(store: SqliteStore) -> None:
    bare = AccountRecord(id="bare", client_id="c")
    assert same_content(store.put(bare), bare)
    empty = account("empty", access_token="", id_token="", client_secret="", scopes=())
    assert same_content(store.put(empty), empty)


def test_secrets_are_sealed_in_the_file(tmp_path: Path, store: SqliteStore) -> None:
    record = store.put(account())
    store.close()
    raw = (tmp_path / "store.sqlite3").read_bytes()
    for name in SECRET_FIELDS:
        assert getattr(record, name).encode() not in raw
    row = sqlite3.connect(tmp_path / "store.sqlite3").execute("SELECT * FROM accounts").fetchone()
    assert all(not str(v).startswith(("ya29", "1//", "GOCSPX")) for v in row)


def test_get_missing_and_list(store: SqliteStore) -> None:
    assert store.get("nope") is None
    store.put(account("b", client_id="c2"))
    store.put(account("a", client_id="c2"))
    store.put(account("z", client_id="c1"))
    assert [r.id for r in store.list()] == ["z", "a", "b"]
    assert [r.id for r in store.list(client_id="c2")] == ["a", "b"]


def test_put_replaces_and_counts_versions(store: SqliteStore) -> None:
    first = store.put(account())
    second = store.put(account(email="new@example.com", created_at=5))
    assert second.version == first.version + 1
    assert second.created_at == first.created_at
    assert second.email == "new@example.com"
    assert [r.id for r in store.list()] == ["acct-1"]


def test_put_with_expected_version(store: SqliteStore) -> None:
    store.put(account(), expected_version=0)
    with pytest.raises(VersionConflict):
        store.put(account(), expected_version=0)
    store.put(account(), expected_version=1)
    with pytest.raises(VersionConflict) as info:
        store.put(account(email="lost@example.com"), expected_version=1)
    assert (info.value.expected, info.value.actual) == (1, 2)
    assert store.get("acct-1").email == "acct-1@example.com"  # type: ignore[union-attr]


def test_put_without_a_refresh_token_keeps_the_stored_one(store: SqliteStore) -> None:
    before = store.put(account())
    for missing in (None, ""):
        after = store.put(account(refresh_token=missing, access_token="ya29.AFTER-RECONSENT-xx"))
        assert after.refresh_token == before.refresh_token
        assert after.access_token == "ya29.AFTER-RECONSENT-xx"
    newer = store.put(account(refresh_token="1//NEWER-refresh-token-value"))
    assert newer.refresh_token == "1//NEWER-refresh-token-value"


def test_update_tokens_writes_what_a_refresh_brings(store: SqliteStore) -> None:
    before = store.put(account())
    after = store.update_tokens("acct-1", access_token="ya29.FRESH-access-1234", expires_at=42)
    assert after == store.get("acct-1")
    assert after.version == before.version + 1
    assert (after.access_token, after.expires_at) == ("ya29.FRESH-access-1234", 42)
    assert after.refresh_token == before.refresh_token
    assert after.id_token == before.id_token
    assert after.scopes == before.scopes
    assert same_content(
        after, dataclasses.replace(before, access_token=after.access_token, expires_at=42)
    )


@pytest.mark.parametrize("missing", [KEEP, None, ""])
def test_a_refresh_token_is_never_nulled_by_update_tokens(
    store: SqliteStore, missing: object
) -> None:
    before = store.put(account())
    after = store.update_tokens(
        "acct-1",
        access_token="ya29.X-0000000000000000",
        expires_at=None,
        refresh_token=missing,  # type: ignore[arg-type]
    )
    assert after.refresh_token == before.refresh_token
    assert store.get("acct-1").refresh_token == before.refresh_token  # type: ignore[union-attr]


def test_a_new_refresh_token_replaces_the_old(store: SqliteStore) -> None:
    store.put(account())
    after = store.update_tokens(
        "acct-1", access_token="ya29.X", expires_at=1, refresh_token="1//ROTATED-refresh-token"
    )
    assert store.get("acct-1") == after
    assert after.refresh_token == "1//ROTATED-refresh-token"


def test_update_tokens_id_token_and_scopes(store: SqliteStore) -> None:
    store.put(account())
    after = store.update_tokens(
        "acct-1", access_token="ya29.X", expires_at=1, id_token=None, scopes=["email"]
    )
    assert after.id_token is None
    assert after.scopes == ("email",)
    assert store.get("acct-1") == after
    again = store.update_tokens("acct-1", access_token="ya29.Y", expires_at=2, id_token="eyJ.NEW")
    assert (again.id_token, again.scopes) == ("eyJ.NEW", ("email",))


def test_update_tokens_misuse_and_missing(store: SqliteStore) -> None:
    store.put(account())
    with pytest.raises(ValueError, match="access_token"):
        store.update_tokens("acct-1", access_token="", expires_at=None)
    with pytest.raises(TypeError, match="expires_at"):
        store.update_tokens("acct-1", access_token="x", expires_at=1.5)  # type: ignore[arg-type]
    with pytest.raises(NotFound, match="nope"):
        store.update_tokens("nope", access_token="x", expires_at=None)
    assert store.get("acct-1").version == 1  # type: ignore[union-attr]


def test_update_tokens_expected_version(store: SqliteStore) -> None:
    store.put(account())
    store.update_tokens("acct-1", access_token="ya29.A", expires_at=1, expected_version=1)
    with pytest.raises(VersionConflict):
        store.update_tokens("acct-1", access_token="ya29.B", expires_at=2, expected_version=1)
    assert store.get("acct-1").access_token == "ya29.A"  # type: ignore[union-attr]


def test_set_status_keeps_tokens(store: SqliteStore) -> None:
    before = store.put(account())
    after = store.set_status("acct-1", "needs_consent", "invalid_grant: Token has been revoked")
    assert (after.status, after.status_reason) == (
        "needs_consent",
        "invalid_grant: Token has been revoked",
    )
    assert after.refresh_token == before.refresh_token
    assert store.get("acct-1") == after
    with pytest.raises(ValueError, match="status must be one of"):
        store.set_status("acct-1", "gone")  # type: ignore[arg-type]


def test_one_default_per_client(store: SqliteStore) -> None:
    store.put(account("a", is_default=True))
    store.put(account("b", is_default=True))
    store.put(account("other", client_id="c2", is_default=True))
    assert {r.id for r in store.list() if r.is_default} == {"b", "other"}
    store.set_default("a")
    assert store.get_default("client-123.apps.googleusercontent.com").id == "a"  # type: ignore[union-attr]
    assert store.get_default("c2").id == "other"  # type: ignore[union-attr]
    assert not store.get("b").is_default  # type: ignore[union-attr]
    assert store.get_default("c3") is None
    with pytest.raises(NotFound):
        store.set_default("nope")


def test_the_file_itself_refuses_a_second_default(tmp_path: Path, store: SqliteStore) -> None:
    store.put(account("a", is_default=True))
    store.put(account("b"))
    raw = sqlite3.connect(tmp_path / "store.sqlite3")
    with pytest.raises(sqlite3.IntegrityError):
        raw.execute("UPDATE accounts SET is_default = 1 WHERE id = 'b'")


def test_delete(store: SqliteStore) -> None:
    store.put(account())
    assert store.delete("acct-1")
    assert not store.delete("acct-1")
    assert store.get("acct-1") is None


def test_transactions_roll_back_and_nest(store: SqliteStore) -> None:
    store.put(account())

    def fail_halfway() -> None:
        with store.transaction():
            store.update_tokens("acct-1", access_token="ya29.LOST", expires_at=1)
            raise RuntimeError

    with pytest.raises(RuntimeError):
        fail_halfway()
    assert store.get("acct-1").version == 1  # type: ignore[union-attr]
    with store.transaction():
        store.update_tokens("acct-1", access_token="ya29.KEPT", expires_at=1)
        with pytest.raises(VersionConflict):
            store.update_tokens("acct-1", access_token="ya29.NO", expires_at=2, expected_version=1)
    got = store.get("acct-1")
    assert (got.access_token, got.version) == ("ya29.KEPT", 2)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"id": ""}, ValueError),
        ({"client_id": ""}, ValueError),
        ({"scopes": "openid email"}, TypeError),
        ({"scopes": ("has space",)}, ValueError),
        ({"status": "unknown"}, ValueError),
        ({"expires_at": "soon"}, TypeError),
        ({"expires_at": True}, TypeError),
        ({"access_token": b"bytes"}, TypeError),
        ({"is_default": 1}, TypeError),
    ],
)
def test_records_refuse_what_the_store_could_not_read_back(
    changes: dict[str, object], error: type[Exception]
) -> None:
    with pytest.raises(error):
        account(**changes)


def test_record_repr_shows_fingerprints_only() -> None:
    record = account()
    for text in (repr(record), str(record), repr([record])):
        for name in SECRET_FIELDS:
            secret = getattr(record, name)
            assert secret not in text
            assert secret[:-4] not in text
            assert f"{name}=…{secret[-4:]}" in text
        assert "acct-1@example.com" in text
    assert "access_token=None" in repr(AccountRecord(id="x", client_id="c"))
    assert "short" not in repr(account(refresh_token="short"))
