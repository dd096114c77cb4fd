"""`gtoken login` with a real browser: the command opens the emulator's consent page in headless
Chromium (through BROWSER), the person clicks Allow, and the account is there."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from gtoken.emulator.client import Emulator

# The BROWSER command gtoken runs: hand the URL to the test, which drives Chromium with it.
HAND_OVER = "import pathlib, sys; pathlib.Path(sys.argv[2]).write_text(sys.argv[1])"


def wait_for(path: Path, timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text():
            return path.read_text()
        time.sleep(0.05)
    raise TimeoutError(f"gtoken login opened no browser within {timeout} s")


@pytest.mark.browser
def test_login_in_chromium_then_accounts_lists_it(
    emulator: Emulator, chromium: Browser, tmp_path: Path
) -> None:
    secrets = tmp_path / "client_secret.json"
    secrets.write_text(json.dumps(emulator.create_client(name="Ada's Mail Sorter")))
    emulator.create_user("ada@example.com", "Ada Lovelace")
    emulator.consent_interactive()
    handed = tmp_path / "url"
    env = {
        "PATH": "/usr/bin:/bin",
        "GTOKEN_HOME": str(tmp_path / "home"),
        "GTOKEN_EMULATOR_HOST": emulator.host,
        "BROWSER": f"{shlex.join([sys.executable, '-c', HAND_OVER])} %s {shlex.quote(str(handed))}",
    }
    login = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gtoken",
            "login",
            "--client-secrets",
            str(secrets),
            "--scope",
            "gmail.readonly",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        page = chromium.new_page()
        page.set_default_timeout(15_000)
        page.goto(wait_for(handed))
        page.get_by_label("ada@example.com").check()
        page.get_by_role("button", name="Allow").click()
        page.wait_for_url("http://127.0.0.1:*/**")  # back on gtoken's loopback
        assert "close this window" in page.content()
        out, err = login.communicate(timeout=30)
    finally:
        if login.poll() is None:
            login.kill()
    assert login.returncode == 0, err
    assert out == ""  # login prints nothing to stdout
    assert "Signed in as ada@example.com" in err
    accounts = subprocess.run(
        [sys.executable, "-m", "gtoken", "accounts", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    listed = json.loads(accounts.stdout)
    assert [a["email"] for a in listed] == ["ada@example.com"]
    assert listed[0]["status"] == "active"
