"""Bad rows, wrong keys and loose permissions are refused clearly, and nothing stored changes."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest

from gtoken.store import (
    CorruptRecord,
    InsecurePermissions,
    KeyMissing,
    Keyring,
    SqliteStore,
    StoreError,
    WrongKey,
    encode_key,
    new_key,
    open_store,
)
from gtoken.store.schema import SCHEMA_VERSION
from tests.store.samples import account, digest


def raw(path: Path, sql: str, *params: object) -> None:
    """Change the file behind gtoken's back, as a person with sqlite3 or an attacker could."""
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(sql, params)
    conn.close()


@pytest.fixture
def path(tmp_path: Path, keyring: Keyring) -> Path:
    """A closed store with two accounts."""
    path = tmp_path / "store.sqlite3"
    with SqliteStore(path, keyring) as store:
        store.put(account("a"))
        store.put(account("b"))
    return path


def test_store_files_are_0600_and_in_wal_mode(tmp_path: Path, keyring: Keyring) -> None:
    path = tmp_path / "store.sqlite3"
    old = os.umask(0)
    try:
        with SqliteStore(path, keyring) as store:
            store.put(account())
            for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                assert stat.S_IMODE(os.stat(name).st_mode) == 0o600, name
            assert store._conn().execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        os.umask(old)
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_readable_store_is_refused_with_the_fix(path: Path, keyring: Keyring) -> None:
    path.chmod(0o644)
    with pytest.raises(InsecurePermissions) as info:
        SqliteStore(path, keyring)
    assert f"chmod 600 {path}" in str(info.value)


def test_readable_wal_is_refused(path: Path, keyring: Keyring) -> None:
    wal = Path(f"{path}-wal")
    wal.write_bytes(b"")
    wal.chmod(0o640)
    with pytest.raises(InsecurePermissions, match="chmod 600"):
        SqliteStore(path, keyring)


def test_wrong_gtoken_key_is_refused_before_any_write(path: Path, home: Path) -> None:
    before = digest(path)
    with pytest.raises(WrongKey) as info:
        SqliteStore(path, Keyring([new_key()], source="GTOKEN_KEY"))
    message = str(info.value)
    needed = info.value.key_id
    assert f"encrypted with key id {needed}" in message
    assert "GTOKEN_KEY is set" in message
    assert "Nothing was changed" in message
    assert digest(path) == before


def test_gtoken_key_set_but_store_sealed_with_the_key_file(home: Path) -> None:
    with open_store({"GTOKEN_HOME": str(home)}) as store:
        store.put(account())
        file_kid = store.keyring.current
    other = encode_key(new_key())
    before = digest(home / "store.sqlite3")
    with pytest.raises(WrongKey) as info:
        open_store({"GTOKEN_HOME": str(home), "GTOKEN_KEY": other})
    assert info.value.key_id == file_kid
    assert "unset it if key.json holds that key" in str(info.value)
    assert other not in str(info.value)
    assert digest(home / "store.sqlite3") == before
    with open_store({"GTOKEN_HOME": str(home)}) as store:  # without GTOKEN_KEY it opens again
        assert store.get("acct-1") is not None


def test_open_store_defaults(home: Path) -> None:
    with open_store({"GTOKEN_HOME": str(home)}) as store:
        store.put(account())
    assert sorted(p.name for p in home.iterdir() if not p.name.startswith(".")) == [
        "key.json",
        "store.sqlite3",
    ]
    assert stat.S_IMODE(os.stat(home).st_mode) == 0o700
    key = (home / "key.json").read_bytes()
    assert key not in (home / "store.sqlite3").read_bytes()


def test_a_store_whose_key_file_is_gone_is_not_given_a_new_key(home: Path) -> None:
    with open_store({"GTOKEN_HOME": str(home)}) as store:
        store.put(account())
    (home / "key.json").unlink()
    with pytest.raises(KeyMissing, match="does not exist"):
        open_store({"GTOKEN_HOME": str(home)})
    assert not (home / "key.json").exists()


def test_check_keys_false_opens_a_store_to_delete_from(path: Path) -> None:
    with SqliteStore(path, Keyring([new_key()]), check_keys=False) as store:
        with pytest.raises(WrongKey):
            store.get("a")
        assert store.delete("a")


@pytest.mark.parametrize(
    ("source_row", "source_field", "target_field"),
    [("a", "refresh_token", "refresh_token"), ("a", "access_token", "refresh_token")],
)
def test_a_ciphertext_moved_to_another_place_is_refused(
    path: Path, keyring: Keyring, source_row: str, source_field: str, target_field: str
) -> None:
    raw(
        path,
        f"UPDATE accounts SET {target_field} = "
        f"(SELECT {source_field} FROM accounts WHERE id = ?) WHERE id = 'b'",
        source_row,
    )
    before = digest(path)
    with SqliteStore(path, keyring) as store:
        with pytest.raises(CorruptRecord) as info:
            store.get("b")
        assert store.get("a") is not None  # other rows are fine
        with pytest.raises(CorruptRecord):
            store.list()
        with pytest.raises(CorruptRecord):
            store.update_tokens("b", access_token="ya29.NEW", expires_at=1)
    message = str(info.value)
    assert (info.value.row, info.value.field) == ("b", target_field)
    assert "b@example.com" in message
    assert target_field in message
    assert "gtoken logout --account b@example.com" in message
    assert "Nothing was changed" in message
    assert digest(path) == before


def test_a_tampered_ciphertext_is_refused(path: Path, keyring: Keyring) -> None:
    raw(
        path,
        "UPDATE accounts SET client_secret = substr(client_secret, 1, 20) || "
        "CASE substr(client_secret, 21, 1) WHEN 'A' THEN 'B' ELSE 'A' END || "
        "substr(client_secret, 22) WHERE id = 'a'",
    )
    with SqliteStore(path, keyring) as store, pytest.raises(CorruptRecord, match="tampered"):
        store.get("a")


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("expires_at", "soon"),
        ("expires_at", 1.5),
        ("version", "three"),
        ("created_at", "yesterday"),
        ("scopes", b"openid"),
        ("status", "paused"),
        ("email", b"\xffblob"),
        ("is_default", 2),
        ("access_token", b"\x00binary"),
        ("refresh_token", "plaintext-refresh-token"),
    ],
)
def test_garbage_in_a_column_is_named_and_left_alone(
    path: Path, keyring: Keyring, column: str, value: object
) -> None:
    # The CHECK constraints keep some garbage out; switch them off like a careless editor would.
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA ignore_check_constraints = ON")
    conn.execute(f"UPDATE accounts SET {column} = ? WHERE id = 'a'", (value,))
    conn.commit()
    conn.close()
    before = digest(path)
    with SqliteStore(path, keyring) as store:
        with pytest.raises(CorruptRecord) as info:
            store.get("a")
        with pytest.raises(CorruptRecord):
            store.set_status("a", "revoked")
    assert info.value.field == column
    assert column in str(info.value)
    assert "gtoken logout --account a" in str(info.value)
    assert "plaintext-refresh-token" not in str(info.value)
    assert digest(path) == before


def test_a_damaged_row_can_be_replaced_by_logging_in_again(path: Path, keyring: Keyring) -> None:
    raw(path, "UPDATE accounts SET access_token = 'garbage' WHERE id = 'a'")
    with SqliteStore(path, keyring) as store:
        fresh = store.put(account("a", access_token="ya29.RELOGGED-IN-token"))
        assert store.get("a") == fresh


def test_a_newer_schema_is_refused(path: Path, keyring: Keyring) -> None:
    raw(path, f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    before = digest(path)
    with pytest.raises(StoreError, match="newer gtoken"):
        SqliteStore(path, keyring)
    assert digest(path) == before


def test_another_programs_database_is_left_alone(tmp_path: Path, keyring: Keyring) -> None:
    path = tmp_path / "other.db"
    raw(path, "CREATE TABLE notes (body TEXT)")
    path.chmod(0o600)
    with pytest.raises(StoreError, match="not a gtoken store"):
        SqliteStore(path, keyring)


def test_a_file_that_is_not_sqlite(tmp_path: Path, keyring: Keyring) -> None:
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not a database, it is a grocery list" * 100)
    path.chmod(0o600)
    with pytest.raises(StoreError, match=r"not a database.*move it away"):
        SqliteStore(path, keyring)


def test_a_store_of_the_first_schema_is_brought_up_to_date(path: Path, keyring: Keyring) -> None:
    raw(path, "DROP INDEX accounts_email")
    raw(path, "PRAGMA user_version = 1")

    with SqliteStore(path, keyring) as store:
        assert [h.id for h in store.heads(name="B@EXAMPLE.COM")] == ["b"]
        indexes = store._conn().execute("SELECT name FROM sqlite_master WHERE type = 'index'")
        assert "accounts_email" in {name for (name,) in indexes}
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
