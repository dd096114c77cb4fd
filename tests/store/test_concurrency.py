"""Many threads and many processes writing the same store at once."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid
from pathlib import Path

from gtoken.store import Keyring, SqliteStore, encode_key, load_keyring, new_key
from tests.store.samples import account

# Each worker process opens the store itself (keys from GTOKEN_KEY, as a deployment would) and
# does read-modify-write cycles under the store's write lock. Any exception fails the process.
WORKER = """
import os, sys
from pathlib import Path
from gtoken.store import SqliteStore, load_keyring

path, name, rounds = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
with SqliteStore(path, load_keyring(path.parent, os.environ)) as store:
    for i in range(rounds):
        with store.transaction():
            current = store.get("shared")
            store.update_tokens(
                "shared",
                access_token=f"ya29.{name}-{i}",
                expires_at=current.expires_at + 1,
                expected_version=current.version,
            )
        store.kv_put("log", f"{name}-{i}", "done")
print("ok", flush=True)
"""


def test_processes_write_the_same_row_without_losing_an_update(tmp_path: Path) -> None:
    key = new_key()
    env = {**os.environ, "GTOKEN_KEY": encode_key(key)}
    path = tmp_path / "store.sqlite3"
    keyring = load_keyring(tmp_path, env)
    with SqliteStore(path, keyring) as store:
        before = store.put(account("shared", expires_at=0))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(path), f"p{n}", "50"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(4)
    ]
    results = [p.communicate(timeout=60) for p in procs]
    for proc, (out, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err
        assert out == "ok\n"
        assert "locked" not in err
    with SqliteStore(path, keyring) as store:
        after = store.get("shared")
        assert after is not None
        assert after.version == before.version + 200
        assert after.expires_at == 200  # every read-modify-write saw the one before it
        assert after.refresh_token == before.refresh_token
        logged = store._conn().execute("SELECT count(*) FROM kv WHERE namespace = 'log'")
        logged = logged.fetchone()[0]
        assert logged == 200


def test_threads_share_one_store(tmp_path: Path, keyring: Keyring) -> None:
    with SqliteStore(tmp_path / "s.db", keyring) as store:
        store.put(account("shared", expires_at=0))
        errors: list[BaseException] = []
        barrier = threading.Barrier(8)

        def work() -> None:
            try:
                barrier.wait()
                for _ in range(25):
                    with store.transaction():
                        current = store.get("shared")
                        assert current is not None
                        store.update_tokens(
                            "shared",
                            access_token=f"ya29.{uuid.uuid4()}",
                            expires_at=(current.expires_at or 0) + 1,
                            expected_version=current.version,
                        )
                    assert store.get("shared") is not None  # reads beside other writers
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        final = store.get("shared")
        assert final is not None
        assert (final.version, final.expires_at) == (201, 200)


def test_leases_exclude_across_threads(tmp_path: Path, keyring: Keyring) -> None:
    with SqliteStore(tmp_path / "s.db", keyring) as store:
        holders: list[str] = []
        barrier = threading.Barrier(8)

        def grab(owner: str) -> None:
            barrier.wait()
            if store.acquire_lease("refresh:shared", owner=owner, ttl=60):
                holders.append(owner)

        threads = [threading.Thread(target=grab, args=(f"t{i}",)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(holders) == 1
