"""docs/cli.md cannot rot: its help texts are the real ``--help``, and every setting is in it.

When a test here fails, regenerate with ``python -m gtoken.cli.docs docs/cli.md`` (and, for a
new environment variable, add it to ``gtoken.cli.docs.ENVIRONMENT`` first).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from gtoken.cli import docs
from gtoken.cli.exits import EXIT_CODES

ROOT = Path(__file__).resolve().parents[2]
CLI_DOC = ROOT / "docs" / "cli.md"
# The parts of gtoken a command reaches; the emulator and the broker document their own settings.
REACHED = [
    "cli",
    "store",
    "flows",
    "oauth",
    "accounts.py",
    "refresh",
    "endpoints.py",
    "transport.py",
]
_ENV_READ = re.compile(
    r"""(?:env(?:iron)?\.get\(\s*|env(?:iron)?\[\s*|ENV_\w*\s*(?::\s*Final)?\s*=\s*)"([A-Z][A-Z0-9_]*)\""""
)


def test_the_generated_parts_are_up_to_date() -> None:
    text = CLI_DOC.read_text()
    assert docs.update(text) == text, "run: python -m gtoken.cli.docs docs/cli.md"


def test_every_command_has_its_help_in_the_doc() -> None:
    blocks = docs.generated(CLI_DOC.read_text())
    for words in docs.commands():
        assert f"help {'gtoken ' * (words != 'gtoken')}{words}" in blocks, words
    assert {"environment", "exit codes"} <= set(blocks)


@pytest.mark.parametrize("words", docs.commands())
def test_the_doc_shows_the_real_help(words: str) -> None:
    args = [] if words == "gtoken" else words.split()
    real = subprocess.run(
        [sys.executable, "-m", "gtoken", *args, "--help"],
        capture_output=True,
        text=True,
        env={"COLUMNS": str(docs.WIDTH + 2), "PATH": "/usr/bin:/bin"},
        timeout=30,
    )
    assert real.returncode == 0, real.stderr
    assert f"```text\n{real.stdout}```" in CLI_DOC.read_text()


def test_every_exit_code_is_documented() -> None:
    text = CLI_DOC.read_text()
    for code, _ in EXIT_CODES:
        assert f"\n| {code} | " in text
    assert "exit codes: 0 ok" in docs.help_text("gtoken")


def test_every_environment_variable_read_is_documented() -> None:
    source = ROOT / "src" / "gtoken"
    files = [p for part in REACHED for p in [source / part, *sorted((source / part).rglob("*.py"))]]
    files = [p for p in files if p.suffix == ".py"]
    read = {name for path in files for name in _ENV_READ.findall(path.read_text())}
    assert {"GTOKEN_HOME", "GTOKEN_KEY", "GTOKEN_EMULATOR_HOST", "BROWSER"} <= read
    documented = {name for names, _ in docs.ENVIRONMENT for name in names.split(", ")}
    assert read <= documented, f"not in gtoken.cli.docs.ENVIRONMENT: {read - documented}"
    text = CLI_DOC.read_text()
    for name in documented:
        assert f"`{name}`" in text
