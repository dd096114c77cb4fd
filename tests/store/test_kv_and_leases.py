"""Sealed key-value entries and leases, for the modules built on the store."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from gtoken.store import CorruptRecord, Keyring, SqliteStore


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def timed(tmp_path: Path, keyring: Keyring, clock: Clock) -> Iterator[SqliteStore]:
    with SqliteStore(tmp_path / "s.db", keyring, clock=clock) as store:
        yield store


def test_kv_round_trip_sealed(tmp_path: Path, timed: SqliteStore) -> None:
    timed.kv_put("sa", "robot@example.iam", "-----BEGIN PRIVATE KEY-----SECRET")
    assert timed.kv_get("sa", "robot@example.iam") == "-----BEGIN PRIVATE KEY-----SECRET"
    assert timed.kv_get("sa", "other") is None
    assert timed.kv_get("other", "robot@example.iam") is None
    timed.close()
    assert b"PRIVATE KEY" not in (tmp_path / "s.db").read_bytes()


def test_kv_values_are_bound_to_their_key(tmp_path: Path, timed: SqliteStore) -> None:
    timed.kv_put("ns", "a", "value-a")
    timed.kv_put("ns", "b", "value-b")
    conn = sqlite3.connect(tmp_path / "s.db")
    with conn:
        conn.execute("UPDATE kv SET value = (SELECT value FROM kv WHERE key = 'a') WHERE key = 'b'")
    with pytest.raises(CorruptRecord):
        timed.kv_get("ns", "b")


def test_kv_expiry_take_and_delete(timed: SqliteStore, clock: Clock) -> None:
    timed.kv_put("state", "s1", "pkce-verifier", expires_at=clock.now + 600)
    clock.now += 599
    assert timed.kv_get("state", "s1") == "pkce-verifier"
    clock.now += 1
    assert timed.kv_get("state", "s1") is None
    assert timed.kv_take("state", "s1") is None
    timed.kv_put("state", "s2", "v2")
    assert timed.kv_take("state", "s2") == "v2"
    assert timed.kv_take("state", "s2") is None
    timed.kv_put("state", "s3", "v3")
    assert timed.kv_delete("state", "s3")
    assert not timed.kv_delete("state", "s3")


def test_kv_take_hands_a_value_out_once(tmp_path: Path, keyring: Keyring) -> None:
    path = tmp_path / "s.db"
    store = SqliteStore(path, keyring)
    store.kv_put("state", "once", "single-use")
    got: list[str | None] = []
    barrier = threading.Barrier(8)

    def take() -> None:
        barrier.wait()
        got.append(store.kv_take("state", "once"))

    threads = [threading.Thread(target=take) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    store.close()
    assert got.count("single-use") == 1
    assert got.count(None) == 7


def test_leases_are_exclusive_until_released_or_expired(timed: SqliteStore, clock: Clock) -> None:
    assert timed.acquire_lease("refresh:acct-1", owner="p1", ttl=30)
    assert not timed.acquire_lease("refresh:acct-1", owner="p2", ttl=30)
    assert timed.acquire_lease("refresh:acct-2", owner="p2", ttl=30)  # per name
    assert timed.acquire_lease("refresh:acct-1", owner="p1", ttl=30)  # extend
    assert not timed.release_lease("refresh:acct-1", owner="p2")
    assert timed.release_lease("refresh:acct-1", owner="p1")
    assert timed.acquire_lease("refresh:acct-1", owner="p2", ttl=30)
    clock.now += 30
    assert timed.acquire_lease("refresh:acct-1", owner="p3", ttl=30)  # p2 crashed
    assert not timed.release_lease("refresh:acct-1", owner="p2")
    with pytest.raises(ValueError, match="ttl"):
        timed.acquire_lease("x", owner="p", ttl=0)
