"""A damaged store, seen from the command line: each damage is named, with the way out, and
never a "bug" (exit 1).

Damage is done to the real SQLite file, as a bad disk sector or a careless hand would.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from gtoken.emulator.client import Emulator
from tests.cli.conftest import EMAIL, Gtoken, Run

BOB = "bob@example.com"


def _store(gtoken: Gtoken) -> Path:
    return Path(gtoken.env["GTOKEN_HOME"]) / "store.sqlite3"


def _damage_byte(gtoken: Gtoken, email: str, column: str) -> None:
    """One byte of ``email``'s sealed ``column`` replaced by one that is not UTF-8."""
    with sqlite3.connect(_store(gtoken)) as db:
        (value,) = db.execute(f"SELECT {column} FROM accounts WHERE email = ?", (email,)).fetchone()
        raw = bytearray(value.encode())
        raw[len(raw) // 2] = 0xFF
        db.execute(
            f"UPDATE accounts SET {column} = CAST(? AS TEXT) WHERE email = ?",
            (bytes(raw), email),
        )


def _sign_in_bob(login: Callable[..., Run], emulator: Emulator) -> None:
    emulator.create_user(BOB, "Bob")
    emulator.consent_auto(email=BOB)
    assert login().returncode == 0
    emulator.consent_auto(email=EMAIL)


@pytest.mark.parametrize("column", ["refresh_token", "access_token", "client_secret"])
def test_one_damaged_byte_is_that_account_damaged(
    gtoken: Gtoken, signed_in: Run, login: Callable[..., Run], emulator: Emulator, column: str
) -> None:
    _sign_in_bob(login, emulator)  # bob is the default now; ada gets damaged
    _damage_byte(gtoken, EMAIL, column)

    listed = gtoken("accounts")
    assert listed.returncode == 0, listed.stderr
    assert "damaged" in listed.stdout
    assert BOB in listed.stdout
    documents = json.loads(gtoken("accounts", "--json").stdout)
    status = {d["email"]: d["status"] for d in documents}
    assert status == {EMAIL: "damaged", BOB: "active"}

    doctor = gtoken("doctor")
    assert doctor.returncode == 3
    assert f"account {EMAIL}" in doctor.stdout
    assert f"gtoken logout --account {EMAIL}" in doctor.stdout
    assert "bug" not in doctor.stdout + doctor.stderr

    # The healthy account works all along, the damaged one says what it is.
    assert gtoken("token", "--account", BOB, "--min-ttl", "3599").returncode == 0
    broken = gtoken("token", "--account", EMAIL, "--min-ttl", "3599")
    assert broken.returncode == 3
    assert "damaged" in broken.stderr
    assert f"gtoken logout --account {EMAIL}" in broken.stderr

    logout = gtoken("logout", "--account", EMAIL)
    assert logout.returncode == 0, logout.stderr
    assert [d["email"] for d in json.loads(gtoken("accounts", "--json").stdout)] == [BOB]
    again = login()
    assert again.returncode == 0, again.stderr
    assert gtoken("token", "--account", EMAIL, "--min-ttl", "3599").returncode == 0


def test_logging_in_again_over_a_damaged_account_replaces_it(
    gtoken: Gtoken, signed_in: Run, login: Callable[..., Run]
) -> None:
    _damage_byte(gtoken, EMAIL, "refresh_token")

    again = login()

    assert again.returncode == 0, again.stderr
    assert "bug" not in again.stderr
    assert gtoken("token", "--min-ttl", "3599").returncode == 0
    assert json.loads(gtoken("accounts", "--json").stdout)[0]["status"] == "active"


@pytest.mark.parametrize(
    "command",
    [
        ("import", "{file}"),
        ("login", "--client-secrets", "{file}", "--scope", "gmail.readonly"),
        ("doctor", "--client-secrets", "{file}"),
        ("token", "--service-account", "{file}", "--scope", "drive"),
    ],
)
def test_deeply_nested_json_is_a_clear_error_about_the_file(
    gtoken: Gtoken, tmp_path: Path, command: tuple[str, ...]
) -> None:
    nested = tmp_path / "nested.json"
    nested.write_text('{"installed": ' + "[" * 100_000 + "]" * 100_000 + "}")

    run = gtoken(*(word.format(file=nested) for word in command))

    assert run.returncode == 3, run.stderr + run.stdout
    said = run.stderr + run.stdout
    assert str(nested) in said
    assert "nested too deeply" in said
    assert "bug" not in said
    assert "Recursion" not in said


def test_a_store_cut_to_zero_bytes_is_not_taken_for_a_new_one(
    gtoken: Gtoken, signed_in: Run
) -> None:
    store = _store(gtoken)
    for side in store.parent.glob("store.sqlite3-*"):
        side.unlink()
    store.write_bytes(b"")

    for args in [("token",), ("accounts",)]:
        run = gtoken(*args)
        assert run.returncode == 3, run.stdout + run.stderr
        assert "empty" in run.stderr
        assert "key.json" in run.stderr
        assert "move it away" in run.stderr.lower()
    doctor = gtoken("doctor")
    assert doctor.returncode == 3
    assert "empty" in doctor.stdout
    assert "holds no account" not in doctor.stdout
    assert store.stat().st_size == 0  # nothing was written over it


def test_a_new_store_is_never_seen_half_made(tmp_path: Path) -> None:
    from gtoken.store import open_store

    home = tmp_path / "home"
    with open_store({"GTOKEN_HOME": str(home)}, home=home) as store:
        assert store.list() == []
    assert (home / "store.sqlite3").stat().st_size > 0
    assert sorted(p.name for p in home.iterdir()) == ["key.json", "store.sqlite3"]
