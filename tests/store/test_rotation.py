"""Key rotation: add a key, re-seal everything, drop the old key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gtoken.store import (
    CorruptRecord,
    Keyring,
    SqliteStore,
    WrongKey,
    add_key,
    load_keyring,
    new_key,
    open_store,
    remove_key,
)
from gtoken.store.records import SECRET_FIELDS
from tests.store.samples import account, digest


def test_rotate_then_drop_the_old_key(home: Path) -> None:
    env = {"GTOKEN_HOME": str(home)}
    with open_store(env) as store:
        originals = [store.put(account(f"acct-{i}")) for i in range(5)]
        store.put(account("no-secrets", access_token=None, id_token=None, client_secret=None))
        store.kv_put("pending", "state-1", "verifier-SECRET-0123")
        old_kid = store.keyring.current

    grown = add_key(home)
    with SqliteStore(home / "store.sqlite3", grown) as store:
        assert store.key_ids_in_use() == {old_kid}
        assert store.rotate_key(grown) == 5 * len(SECRET_FIELDS) + 1 + 1
        assert store.key_ids_in_use() == {grown.current}
        assert store.keyring == grown

    shrunk = remove_key(home, old_kid)
    assert old_kid not in load_keyring(home, {})
    with open_store(env) as store:
        assert store.keyring == shrunk
        for before in originals:
            assert store.get(before.id) == before  # versions unchanged: the content is the same
        assert store.kv_get("pending", "state-1") == "verifier-SECRET-0123"
    raw = (home / "store.sqlite3").read_bytes()
    assert f"v1:{old_kid}:".encode() not in raw
    assert not Path(f"{home / 'store.sqlite3'}-wal").exists()


def test_rotate_with_a_separate_new_keyring(tmp_path: Path, keyring: Keyring) -> None:
    path = tmp_path / "s.db"
    with SqliteStore(path, keyring) as store:
        before = store.put(account())
        new = Keyring([new_key()])  # holds only the new key: the store's keyring reads the old
        store.rotate_key(new)
        assert store.get("acct-1") == before
    with SqliteStore(path, new) as store:
        assert store.get("acct-1") == before
    with pytest.raises(WrongKey):
        SqliteStore(path, keyring)


def test_rotation_is_all_or_nothing(tmp_path: Path, keyring: Keyring) -> None:
    path = tmp_path / "s.db"
    with SqliteStore(path, keyring) as store:
        store.put(account("a"))
        store.put(account("b"))
        # A damaged row stops the rotation before anything is re-sealed.
        store._conn().execute("UPDATE accounts SET id_token = access_token WHERE id = 'b'")
    before = digest(path)
    new = keyring.with_key(new_key())
    with SqliteStore(path, keyring) as store:
        with pytest.raises(CorruptRecord, match=re.escape("gtoken logout --account b@example.com")):
            store.rotate_key(new)
        assert store.keyring == keyring
        assert store.key_ids_in_use() == {keyring.current}
    assert digest(path) == before
