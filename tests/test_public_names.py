"""The names ``import gtoken`` offers are exactly the documented ones (docs/architecture.md)."""

from __future__ import annotations

import re
from pathlib import Path

import gtoken

DOC = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"


def documented() -> set[str]:
    section = DOC.read_text().split("## Public names", 1)[1]
    block = re.search(r"```text\n(.*?)```", section, re.S)
    assert block is not None, "docs/architecture.md lists no public names"
    return set(block.group(1).split())


def test_all_is_the_documented_names() -> None:
    assert set(gtoken.__all__) == documented()
    assert len(gtoken.__all__) == len(set(gtoken.__all__))


def test_dir_is_the_documented_names() -> None:
    assert set(dir(gtoken)) == documented()


def test_every_documented_name_is_there() -> None:
    for name in documented():
        assert getattr(gtoken, name) is not None, name


def test_an_undocumented_name_is_not() -> None:
    for name in ("Refresher", "SqliteStore", "Engine", "lookup", "google"):
        assert not hasattr(gtoken, name), name
