"""Real files under ``tmp_path``: a gtoken home, its key file, and an SQLite store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gtoken.store import Keyring, SqliteStore, new_key


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A gtoken home that does not exist yet."""
    return tmp_path / "home"


@pytest.fixture
def keyring() -> Keyring:
    return Keyring([new_key()])


@pytest.fixture
def store(tmp_path: Path, keyring: Keyring) -> Iterator[SqliteStore]:
    with SqliteStore(tmp_path / "store.sqlite3", keyring) as s:
        yield s
