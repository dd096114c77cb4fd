"""Every program in examples/ runs against the emulator, as the README says, and prints what a
user of it expects."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from gtoken.emulator.client import Emulator

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
README = EXAMPLES.parent / "README.md"
README_SNIPPETS = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
FETCH = "import sys, httpx; httpx.get(sys.argv[1], follow_redirects=True, timeout=30)"


@pytest.fixture
def run(emulator: Emulator, tmp_path: Path):
    """Run an example as a person would: a client_secret.json in the working directory, the
    emulator as Google, consent answered by a browser that is one HTTP GET."""
    (tmp_path / "client_secret.json").write_text(json.dumps(emulator.create_client()))
    emulator.create_user("ada@example.com", "Ada Lovelace")
    emulator.consent_auto(email="ada@example.com")
    env = {
        "PATH": "/usr/bin:/bin",
        "GTOKEN_HOME": str(tmp_path / "home"),
        "GTOKEN_EMULATOR_HOST": emulator.host,
        "BROWSER": f"{shlex.join([sys.executable, '-c', FETCH])} %s &",
    }

    def run(name: str, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, str(EXAMPLES / name), *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        return result.stdout

    return run


def test_gmail_labels(run) -> None:
    out = run("gmail_labels.py")
    assert "INBOX (system)" in out.splitlines()


def test_gmail_search_pages_through_every_match(run, emulator: Emulator) -> None:
    out = run("gmail_search.py", "in:inbox").splitlines()
    ids, summary = out[:-1], out[-1]
    assert len(ids) == len(set(ids)) > 10  # more than one page of 10
    assert summary == f"{len(ids)} messages match 'in:inbox'"


def test_gmail_read_prints_headers_and_body(run) -> None:
    out = run("gmail_read.py")
    assert out.startswith("From: ")
    assert "\nSubject: " in out
    assert len(out.split("\n\n", 1)[1].strip()) > 0


def test_drive_files_lists_names_and_types(run) -> None:
    out = run("drive_files.py").splitlines()
    assert len(out) > 10
    assert any("[application/vnd.google-apps.folder]" in line for line in out)


def test_sheets_write_then_read(run) -> None:
    out = run("sheets_write_read.py")
    assert out.splitlines() == ["item\tcount\tprice", "apples\t3\t0.5", "pears\t2\t0.75"]


def test_the_second_example_reuses_the_account(run, emulator: Emulator) -> None:
    run("gmail_labels.py")
    run("gmail_search.py")
    assert emulator.stats()["token"]["authorization_code"] == 1


def test_async_labels(run) -> None:
    assert "INBOX" in run("async_labels.py").splitlines()


def test_httpx_labels(run) -> None:
    assert "INBOX" in run("httpx_labels.py").splitlines()


def test_service_account_gmail(run, emulator: Emulator, tmp_path: Path) -> None:
    key = emulator.create_service_account(delegation_scopes=["gmail.readonly"])
    (tmp_path / "key.json").write_text(json.dumps(key))
    out = run("service_account_gmail.py", "key.json", "ada@example.com")
    assert "INBOX" in out.splitlines()
    assert emulator.stats()["token"].get("authorization_code", 0) == 0  # no person involved


@pytest.mark.parametrize("code", README_SNIPPETS)
def test_the_readmes_python_runs_as_shown(run, tmp_path: Path, code: str) -> None:
    program = tmp_path / "readme_snippet.py"
    program.write_text(code)
    out = run(str(program))
    assert "INBOX" in out


def test_the_readme_shows_python() -> None:
    assert README_SNIPPETS
