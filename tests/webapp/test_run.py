"""``./dev webapp`` on its own: it starts an emulator, serves Mail Glance, says where, and leaves
nothing behind when stopped."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from gtoken.emulator.client import Emulator
from tests.webapp.conftest import LISTENING, RUN


def test_one_command_serves_the_app_on_its_own_emulator(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GTOKEN_")}
    env["TMPDIR"] = str(tmp_path)
    proc = subprocess.Popen(
        [sys.executable, str(RUN), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    lines = []
    try:
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith(LISTENING):
                break
        out = "\n".join(lines)
        emulator_url = re.search(r"gtoken emulator listening on (\S+)", out)
        assert emulator_url is not None, out
        app_url = lines[-1].removeprefix(LISTENING)
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", app_url), out
        assert f"curl -XPOST {emulator_url[1]}/_emulator/users/ada@example.com/revoke" in out

        page = httpx.get(app_url)
        assert page.status_code == 200
        assert "<button>Sign in</button>" in page.text
        with Emulator(emulator_url[1]) as emu:
            assert [u["email"] for u in emu._call("GET", "/users")["users"]] == ["ada@example.com"]
        assert len(list(tmp_path.iterdir())) == 1  # the vault's database and the client file
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err[-3000:]
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(httpx.TransportError):
        httpx.get(emulator_url[1] + "/_emulator/health")


def test_a_port_in_use_is_named() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, str(RUN), "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "try --port 0" in result.stderr
    assert "Traceback" not in result.stderr
