"""Docs that cannot rot: every example shown in docs/ is the file the test suite runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHOWN = re.compile(r"<!-- example: (\S+) -->\n```python\n(.*?)```", re.S)
PAGES = sorted((ROOT / "docs").glob("*.md"))


def shown_examples() -> list[tuple[str, str, str]]:
    return [
        (page.name, path, code) for page in PAGES for path, code in SHOWN.findall(page.read_text())
    ]


@pytest.mark.parametrize(("page", "path", "code"), shown_examples())
def test_a_shown_example_is_the_tested_file(page: str, path: str, code: str) -> None:
    assert (ROOT / path).read_text() == code, f"{page} shows an old copy of {path}"


def test_every_example_file_is_shown_somewhere() -> None:
    shown = {path for _, path, _ in shown_examples()}
    files = {f"examples/{p.name}" for p in (ROOT / "examples").glob("*.py")} - {"examples/demo.py"}
    assert files <= shown, f"not in any docs page: {sorted(files - shown)}"
