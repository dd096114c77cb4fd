"""The vault's database: migrations, sealing, keys and rotation, imports, and the commands.
Each test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import base64
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import gtoken
import gtoken.aio
from gtoken.emulator.client import Emulator
from gtoken.errors import ConfigError, StoreError
from gtoken.store import CorruptRecord, KeyMissing, WrongKey, key_id, new_key
from gtoken.vault import Vault
from gtoken.vault.database import Sql, open_database
from gtoken.vault.migrations import MIGRATIONS, SCHEMA_VERSION, Migration, migrate
from tests.support import Clock, login
from tests.vault.conftest import CALLBACK, connect


def raw(vault: Vault) -> Any:
    """The vault's database, to be spoken to in SQL as another program (or an attacker) would."""
    return vault._db


def execute(vault: Vault, statement: str, params: tuple[Any, ...] = ()) -> list[Any]:
    with raw(vault).transaction() as sql:
        assert isinstance(sql, Sql)
        if statement.lstrip().upper().startswith("SELECT"):
            return sql.all(statement, params)
        sql.run(statement, params)
        return []


def test_migrations_from_empty_then_again(database_url: str) -> None:
    db = open_database(database_url)
    try:
        assert migrate(db) == [1]
        assert migrate(db) == []
        with db.read() as sql:
            rows = sql.all("SELECT version, description FROM gtoken_vault_schema")
        assert rows == [(1, MIGRATIONS[0].description)]
        # A later migration applies on top, once.
        extra = Migration(
            2,
            "a test column",
            ("ALTER TABLE gtoken_vault_clients ADD COLUMN note TEXT",),
            ("ALTER TABLE gtoken_vault_clients ADD COLUMN note TEXT",),
        )
        assert migrate(db, migrations=(*MIGRATIONS, extra)) == [2]
        assert migrate(db, migrations=(*MIGRATIONS, extra)) == []
    finally:
        db.close()


def test_a_failed_migration_leaves_the_schema_as_it_was(database_url: str) -> None:
    db = open_database(database_url)
    half = ("CREATE TABLE t_half (x TEXT)", "NOT SQL")
    broken = Migration(2, "half of it fails", half, half)
    try:
        migrate(db)
        with pytest.raises(Exception, match="syntax error"):
            migrate(db, migrations=(*MIGRATIONS, broken))
        with db.read() as sql:
            assert sql.all("SELECT max(version) FROM gtoken_vault_schema") == [(1,)]
            assert sql.all("SELECT count(*) FROM gtoken_vault_connections") == [(0,)]
        with pytest.raises(Exception, match="t_half"), db.read() as sql:
            sql.all("SELECT * FROM t_half")
    finally:
        db.close()


def test_several_processes_starting_at_once_migrate_once(
    database_url: str, web_client: dict[str, Any], vault_key: bytes, env: dict[str, str]
) -> None:
    errors: list[BaseException] = []
    vaults: list[Vault] = []
    lock = threading.Lock()

    def start() -> None:
        try:
            vault = Vault(
                database_url,
                client_secrets=web_client,
                redirect_uri=CALLBACK,
                keys=[vault_key],
                env=env,
            )
            with lock:
                vaults.append(vault)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        assert execute(vaults[0], "SELECT count(*) FROM gtoken_vault_schema") == [(1,)]
    finally:
        for vault in vaults:
            vault.close()


def test_a_newer_schema_is_refused_and_left_alone(
    vault: Vault, open_vault: Callable[..., Vault]
) -> None:
    execute(
        vault,
        "INSERT INTO gtoken_vault_schema (version, description, applied_at) VALUES (?, ?, ?)",
        (SCHEMA_VERSION + 1, "from the future", 0),
    )
    with pytest.raises(StoreError, match="newer gtoken") as raised:
        open_vault()
    assert "Upgrade gtoken" in str(raised.value)
    assert execute(vault, "SELECT max(version) FROM gtoken_vault_schema") == [(SCHEMA_VERSION + 1,)]


def test_an_out_of_date_schema_is_refused_when_not_migrating(
    database_url: str, web_client: dict[str, Any], vault_key: bytes
) -> None:
    with pytest.raises(ConfigError, match="gtoken vault migrate"):
        Vault(database_url, client_secrets=web_client, keys=[vault_key], migrate_schema=False)


def test_no_key_refuses_to_start(database_url: str, web_client: dict[str, Any]) -> None:
    with pytest.raises(KeyMissing, match="GTOKEN_VAULT_KEYS"):
        Vault(database_url, client_secrets=web_client, env={})
    with pytest.raises(KeyMissing, match="base64"):
        Vault(database_url, client_secrets=web_client, env={"GTOKEN_VAULT_KEYS": "not a key"})


def test_keys_come_from_the_environment_newest_first(
    emulator: Emulator, open_vault: Callable[..., Vault], env: dict[str, str]
) -> None:
    old, new = new_key(), new_key()
    text = ",".join(base64.b64encode(k).decode() for k in (new, old))
    vault = open_vault(keys=None, env={**env, "GTOKEN_VAULT_KEYS": text})
    assert vault.sealing_key_id == key_id(new)
    connect(emulator, vault, "user-42", "ada@example.com")
    assert vault.key_ids_in_use() == {key_id(new)}


def test_the_wrong_key_opens_nothing_and_says_which_key_is_needed(
    emulator: Emulator, vault: Vault, open_vault: Callable[..., Vault], vault_key: bytes
) -> None:
    connect(emulator, vault, "user-42", "ada@example.com")
    with pytest.raises(WrongKey, match=key_id(vault_key)) as raised:
        open_vault(keys=[new_key()], client_secrets=None)
    assert "GTOKEN_VAULT_KEYS" in str(raised.value)
    assert vault.access_token("user-42")


def test_a_swapped_ciphertext_does_not_open(emulator: Emulator, vault: Vault) -> None:
    connect(emulator, vault, "ada", "ada@example.com")
    connect(emulator, vault, "bob", "bob@example.com")
    rows = dict(execute(vault, "SELECT user_id, refresh_token FROM gtoken_vault_connections"))
    # Bob's refresh token moved into Ada's row, and Ada's access token into her refresh token.
    execute(
        vault,
        "UPDATE gtoken_vault_connections SET refresh_token = ? WHERE user_id = ?",
        (rows["bob"], "ada"),
    )
    with pytest.raises(CorruptRecord, match="another row or field") as raised:
        vault.token("ada", min_ttl=10**6)
    assert "forget" in str(raised.value)
    (access,) = execute(
        vault, "SELECT access_token FROM gtoken_vault_connections WHERE user_id = ?", ("bob",)
    )[0]
    execute(
        vault,
        "UPDATE gtoken_vault_connections SET refresh_token = ? WHERE user_id = ?",
        (access, "bob"),
    )
    with pytest.raises(CorruptRecord):
        vault.token("bob", min_ttl=10**6)
    # A flipped byte does not open either.
    (sealed,) = execute(
        vault, "SELECT access_token FROM gtoken_vault_connections WHERE user_id = ?", ("ada",)
    )[0]
    flipped = sealed[:-3] + ("A" if sealed[-3] != "A" else "B") + sealed[-2:]
    execute(
        vault,
        "UPDATE gtoken_vault_connections SET access_token = ? WHERE user_id = ?",
        (flipped, "ada"),
    )
    with pytest.raises(CorruptRecord):
        vault.access_token("ada")


def test_secrets_are_sealed_in_the_database(emulator: Emulator, vault: Vault) -> None:
    connect(emulator, vault, "user-42", "ada@example.com")
    dump = repr(execute(vault, "SELECT * FROM gtoken_vault_connections"))
    dump += repr(execute(vault, "SELECT * FROM gtoken_vault_clients"))
    for secret in emulator.issued():
        assert secret not in dump
    assert "v1:" in dump


def test_rekey_while_20_threads_read(
    emulator: Emulator, vault: Vault, open_vault: Callable[..., Vault], vault_key: bytes
) -> None:
    users = [f"user-{n}" for n in range(5)]
    for n, user in enumerate(users):
        connect(emulator, vault, user, f"u{n}@example.com")
    tokens = {u: vault.access_token(u) for u in users}
    new = new_key()
    rotating = open_vault(keys=[new, vault_key], client_secrets=None)
    stop = threading.Event()
    failures: list[BaseException] = []
    reads = [0]

    def read() -> None:
        while not stop.is_set():
            for user in users:
                try:
                    assert rotating.access_token(user) == tokens[user]
                    reads[0] += 1
                except BaseException as exc:
                    failures.append(exc)
                    return

    threads = [threading.Thread(target=read) for _ in range(20)]
    for t in threads:
        t.start()
    try:
        assert rotating.rekey() == len(users) + 1  # the connections and the client
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert failures == []
    assert reads[0] > 0
    assert rotating.key_ids_in_use() == {key_id(new)}
    assert rotating.rekey() == 0
    only_new = open_vault(keys=[new])
    assert [only_new.access_token(u) for u in users] == [tokens[u] for u in users]


def ada_refresh_token(emulator: Emulator, web_client: dict[str, Any]) -> str:
    """A refresh token for Gmail read access that Ada gave the app outside any vault, as an
    existing app's table holds it."""
    emulator.create_user("ada@example.com")
    emulator.consent_auto(email="ada@example.com")
    answer = login(
        emulator,
        web_client,
        "https://www.googleapis.com/auth/gmail.readonly",
        redirect_uri=CALLBACK,
        access_type="offline",
    )
    refresh_token: str = answer["refresh_token"]
    return refresh_token


def test_import_of_a_hand_written_table(
    emulator: Emulator, vault: Vault, web_client: dict[str, Any], clock: Clock
) -> None:
    refresh_token = ada_refresh_token(emulator, web_client)
    assert vault.import_refresh_tokens([("user-42", refresh_token)]) == (1, 0)
    token = vault.access_token("user-42", scopes=["gmail.readonly"])
    assert token
    conn = vault.connection("user-42")
    assert conn is not None
    assert conn.status == "active"
    assert "https://www.googleapis.com/auth/gmail.readonly" in conn.scopes
    with pytest.raises(ValueError, match="empty"):
        vault.import_refresh_tokens([("user-43", " ")])


def run_gtoken(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gtoken", *args],
        env={**env, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_commands(
    emulator: Emulator,
    database_url: str,
    web_client: dict[str, Any],
    env: dict[str, str],
    tmp_path: Path,
    open_vault: Callable[..., Vault],
    vault_key: bytes,
) -> None:
    keys = base64.b64encode(vault_key).decode()
    cli_env = {**env, "GTOKEN_DATABASE_URL": database_url, "GTOKEN_VAULT_KEYS": keys}
    done = run_gtoken("vault", "migrate", "--database-url", database_url, env=env)
    assert done.returncode == 0, done.stderr
    assert "schema 1" in done.stderr
    again = run_gtoken("vault", "migrate", env=cli_env)
    assert again.returncode == 0, again.stderr
    assert "nothing to do" in again.stderr
    refresh_token = ada_refresh_token(emulator, web_client)
    secrets_file = tmp_path / "client_secret.json"
    secrets_file.write_text(__import__("json").dumps(web_client))
    table = tmp_path / "tokens.csv"
    table.write_text(f"user_id,refresh_token\nuser-42,{refresh_token}\n")
    imported = run_gtoken(
        "vault", "import", str(table), "--client-secrets", str(secrets_file), env=cli_env
    )
    assert imported.returncode == 0, imported.stderr
    assert "Imported 1" in imported.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("user-1,a,b\n")
    refused = run_gtoken(
        "vault", "import", str(bad), "--client-secrets", str(secrets_file), env=cli_env
    )
    assert refused.returncode == 3
    assert "line 1" in refused.stderr
    new = new_key()
    rotated_env = {**cli_env, "GTOKEN_VAULT_KEYS": f"{base64.b64encode(new).decode()},{keys}"}
    rekeyed = run_gtoken("vault", "rekey", env=rotated_env)
    assert rekeyed.returncode == 0, rekeyed.stderr
    assert "can be dropped" in rekeyed.stderr
    assert open_vault(keys=[new]).access_token("user-42")
    nokey = run_gtoken("vault", "rekey", env={**env, "GTOKEN_DATABASE_URL": database_url})
    assert nokey.returncode == 3
    assert "GTOKEN_VAULT_KEYS" in nokey.stderr
    for secret in emulator.issued():
        assert secret not in done.stderr + imported.stderr + rekeyed.stderr + nokey.stderr


def test_public_names() -> None:
    assert gtoken.Vault is Vault
    for name in ("Vault", "Connection", "ConsentRequired", "TransientError", "StateError"):
        assert name in gtoken.__all__
    assert gtoken.aio.Vault.__name__ == "Vault"
    assert "Vault" in gtoken.aio.__all__


def test_keys_from_a_key_file(
    emulator: Emulator, open_vault: Callable[..., Vault], env: dict[str, str], tmp_path: Path
) -> None:
    from gtoken.store import add_key

    home = tmp_path / "keys"
    ring = add_key(home)
    by_path = open_vault(keys=home / "key.json")
    assert by_path.sealing_key_id == ring.current
    connect(emulator, by_path, "user-42", "ada@example.com")
    by_env = open_vault(keys=None, env={**env, "GTOKEN_VAULT_KEY_FILE": str(home / "key.json")})
    assert by_env.access_token("user-42") == by_path.access_token("user-42")
    with pytest.raises(KeyMissing, match="does not exist"):
        open_vault(keys=None, env={**env, "GTOKEN_VAULT_KEY_FILE": str(tmp_path / "none.json")})
