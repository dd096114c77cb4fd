"""Every file gtoken makes in its home is 0600 and every directory 0700 (DESIGN, Files and
environment), asserted on the files themselves, whatever the umask: under umask 0, what the
commands create would be open to everyone if gtoken relied on the umask."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gtoken.emulator.client import Emulator
from tests.cli.conftest import Gtoken


@pytest.fixture
def open_umask() -> Iterator[None]:
    """umask 0 in this process, and so in the commands it starts."""
    old = os.umask(0)
    yield
    os.umask(old)


def modes(home: Path) -> dict[str, str]:
    """Each path under ``home`` (and ``home`` itself) with its mode, as ``ls`` shows it."""
    found = {".": stat.filemode(os.lstat(home).st_mode)}
    for path in home.rglob("*"):
        found[str(path.relative_to(home))] = stat.filemode(os.lstat(path).st_mode)
    return found


def test_everything_the_commands_create_is_private(
    gtoken: Gtoken, login: Any, emulator: Emulator, tmp_path: Path, open_umask: None
) -> None:
    emulator.configure(access_token_lifetime=60)  # shorter than gtoken's margin: refreshed
    assert login().returncode == 0
    assert gtoken("token").returncode == 0  # a refresh, under the account's lock
    assert gtoken("key", "rotate").returncode == 0
    key = emulator.create_service_account()
    gtoken.record.add_secrets(key["private_key"])
    key_file = tmp_path / "service-account.json"
    key_file.write_text(json.dumps(key))
    sa = gtoken("token", "--service-account", str(key_file), "--scope", "drive.file")
    assert sa.returncode == 0, sa.stderr

    found = modes(Path(gtoken.env["GTOKEN_HOME"]))
    assert {"store.sqlite3", "key.json", ".key.lock", "locks"} <= found.keys()
    assert any(name.startswith("locks/") for name in found)
    wrong = {name: mode for name, mode in found.items() if mode not in ("drwx------", "-rw-------")}
    assert not wrong, f"open to others: {wrong}"
