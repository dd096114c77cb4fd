"""The ``gtoken emulator`` command, run as a user runs it."""

from __future__ import annotations

import socket
import subprocess
import sys

import httpx


def gtoken(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gtoken", *args], capture_output=True, text=True, timeout=timeout
    )


def test_first_line_names_the_address_and_it_answers(emulator_process: str) -> None:
    assert emulator_process.startswith("http://127.0.0.1:")
    assert httpx.get(f"{emulator_process}/_emulator/health").json() == {"status": "ok"}


def test_busy_port_is_a_clear_configuration_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = gtoken("emulator", "--port", str(port))
    assert result.returncode == 3
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "--port" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_help_documents_exit_codes() -> None:
    result = gtoken("--help")
    assert result.returncode == 0
    assert "exit codes: 0 ok" in result.stdout
    assert "emulator" in result.stdout


def test_no_command_is_a_usage_error() -> None:
    result = gtoken()
    assert result.returncode == 2
    assert "usage: gtoken" in result.stderr


def test_bad_port_is_a_usage_error_without_traceback() -> None:
    result = gtoken("emulator", "--port", "eighty")
    assert result.returncode == 2
    assert "invalid int value" in result.stderr
    assert "Traceback" not in result.stderr
