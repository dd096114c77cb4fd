"""`gtoken token --service-account KEY [--subject EMAIL] --scope ...`, as a job runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from gtoken.emulator.client import Emulator

ADA = "ada@example.com"


@pytest.fixture
def key_file(emulator: Emulator, tmp_path: Path) -> Path:
    emulator.create_user(ADA)
    key = emulator.create_service_account(delegation_scopes=["gmail.readonly"])
    path = tmp_path / "key.json"
    path.write_text(json.dumps(key))
    return path


def gtoken(emulator: Emulator, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "GTOKEN_HOME": str(tmp_path / "home"),
        "GTOKEN_EMULATOR_HOST": emulator.host,
    }
    return subprocess.run(
        [sys.executable, "-m", "gtoken", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def email_of(emulator: Emulator, token: str) -> str:
    info = httpx.post(f"{emulator.url}/tokeninfo", data={"access_token": token}).json()
    return str(info["email"])


def test_a_delegated_token_acts_as_the_user(emulator, tmp_path, key_file) -> None:
    result = gtoken(
        emulator,
        tmp_path,
        "token",
        "--service-account",
        str(key_file),
        "--subject",
        ADA,
        "--scope",
        "gmail.readonly",
    )
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    assert email_of(emulator, token) == ADA
    again = gtoken(
        emulator,
        tmp_path,
        "token",
        "--service-account",
        str(key_file),
        "--subject",
        ADA,
        "--scope",
        "gmail.readonly",
    )
    assert again.stdout.strip() == token  # cached, not fetched again
    assert emulator.stats()["token"]["jwt_bearer"] == 1


def test_the_service_accounts_own_token(emulator, tmp_path, key_file) -> None:
    result = gtoken(
        emulator,
        tmp_path,
        "header",
        "--service-account",
        str(key_file),
        "--scope",
        "drive.readonly",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Authorization: Bearer ")
    robot = json.loads(key_file.read_text())["client_email"]
    assert email_of(emulator, result.stdout.split()[-1]) == robot


def test_delegation_not_allowed_is_explained(emulator, tmp_path, key_file) -> None:
    result = gtoken(
        emulator,
        tmp_path,
        "token",
        "--service-account",
        str(key_file),
        "--subject",
        ADA,
        "--scope",
        "gmail.modify",
    )
    assert result.returncode == 3
    client_id = json.loads(key_file.read_text())["client_id"]
    assert client_id in result.stderr
    assert "gmail.modify" in result.stderr
    assert result.stdout == ""


def test_no_scope_and_subject_alone_are_usage_mistakes(emulator, tmp_path, key_file) -> None:
    no_scope = gtoken(emulator, tmp_path, "token", "--service-account", str(key_file))
    assert no_scope.returncode == 3
    assert "--scope" in no_scope.stderr
    subject_alone = gtoken(emulator, tmp_path, "token", "--subject", ADA)
    assert subject_alone.returncode == 3
    assert "--service-account" in subject_alone.stderr
