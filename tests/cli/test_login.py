"""``gtoken login``: the loopback with a browser, paste-back, the device flow, and failures."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx

from gtoken.emulator.client import Emulator
from tests.cli.conftest import DRIVE_FILE, EMAIL, GMAIL_RO, Gtoken, Record, Run


def accounts(gtoken: Gtoken) -> list[dict[str, object]]:
    run = gtoken("accounts", "--json")
    assert run.returncode == 0, run.stderr
    listed: list[dict[str, object]] = json.loads(run.stdout)
    return listed


def test_login_through_the_browser_stores_the_default_account(
    login: Callable[..., Run], gtoken: Gtoken
) -> None:
    run = login("gmail.readonly")

    assert run.returncode == 0, run.stderr
    assert run.stdout == ""
    assert f"Signed in as {EMAIL}" in run.stderr
    assert "Granted: email, gmail.readonly, openid" in run.stderr
    assert "Not granted" not in run.stderr
    [account] = accounts(gtoken)
    assert account["email"] == EMAIL
    assert account["default"] is True
    assert GMAIL_RO in account["scopes"]  # type: ignore[operator]


def test_fewer_scopes_granted_than_asked_is_said_plainly_and_succeeds(
    login: Callable[..., Run], gtoken: Gtoken, emulator: Emulator, client_secrets: Path
) -> None:
    emulator.consent_auto(email=EMAIL, grant=[GMAIL_RO, "openid", "email"])

    run = login("gmail.readonly", "drive.file")

    assert run.returncode == 0, run.stderr
    assert "Not granted: drive.file. Its box was left unticked" in run.stderr
    assert f"gtoken login --client-secrets {client_secrets} --scope drive.file" in run.stderr
    [account] = accounts(gtoken)
    assert DRIVE_FILE not in account["scopes"]  # type: ignore[operator]
    # ... and asking for it later is a clear consent error, not a 403 from the API.
    token = gtoken("token", "--scope", "drive.file")
    assert token.returncode == 4
    assert token.stdout == ""
    assert "has not granted https://www.googleapis.com/auth/drive.file" in token.stderr
    assert "gtoken login --client-secrets CLIENT_SECRET_JSON --scope drive.file" in token.stderr


def test_no_browser_reads_the_pasted_redirect_address(
    gtoken: Gtoken, client_secrets: Path, record: Record
) -> None:
    proc = gtoken.popen(
        "login", "--client-secrets", str(client_secrets), "--scope", "gmail.readonly",
        "--no-browser",
    )  # fmt: skip
    assert proc.stdin is not None
    seen = gtoken.read_until(proc, "/o/oauth2/v2/auth?")
    url = seen[-1].strip()
    # The browser, on another machine: Google redirects to the loopback address, which does not
    # load there; the person copies it from the address bar.
    location = httpx.get(url, follow_redirects=False).headers["location"]
    record.add_secrets(parse_qs(urlsplit(location).query)["code"][0])
    proc.stdin.write(location + "\n")
    proc.stdin.close()
    run = gtoken.finish(proc, seen, ("login",))

    assert run.returncode == 0, run.stderr
    assert "Paste the address here" in run.stderr
    assert f"Signed in as {EMAIL}" in run.stderr
    assert run.stdout == ""


def test_device_flow(
    gtoken: Gtoken, client_secrets: Path, emulator: Emulator, record: Record
) -> None:
    emulator.configure(device_poll_interval=1)

    run = gtoken(
        "login", "--client-secrets", str(client_secrets), "--scope", "drive.file", "--device"
    )

    assert run.returncode == 0, run.stderr
    assert f"{emulator.url}/device" in run.stderr
    assert f"Signed in as {EMAIL}" in run.stderr
    assert DRIVE_FILE in accounts(gtoken)[0]["scopes"]  # type: ignore[operator]


def test_client_secrets_from_the_environment(
    gtoken: Gtoken, client_secrets: Path, browser: str
) -> None:
    run = gtoken(
        "login",
        "--scope",
        "gmail.readonly",
        env={"GTOKEN_CLIENT_SECRETS": str(client_secrets), "BROWSER": browser},
    )
    assert run.returncode == 0, run.stderr


def test_no_client_secrets_is_a_usage_error(gtoken: Gtoken) -> None:
    run = gtoken("login", "--scope", "gmail.readonly")
    assert run.returncode == 2
    assert "--client-secrets FILE is required (or set GTOKEN_CLIENT_SECRETS)" in run.stderr


def test_bad_client_secrets_file_is_a_configuration_error(gtoken: Gtoken, tmp_path: Path) -> None:
    bad = tmp_path / "client_secret.json"
    bad.write_text('{"installed": {"client_id": "x"}}')
    run = gtoken("login", "--client-secrets", str(bad), "--scope", "gmail.readonly")
    assert run.returncode == 3
    assert run.stderr.startswith(f"gtoken: {bad}")
    assert "client_secret" in run.stderr
    assert "\nhint: " in run.stderr
    assert "Traceback" not in run.stderr

    missing = gtoken("login", "--client-secrets", str(tmp_path / "nope.json"), "--scope", "mail")
    assert missing.returncode == 3
    assert "cannot read the client secrets file" in missing.stderr


def test_a_malformed_scope_is_a_usage_error(gtoken: Gtoken, client_secrets: Path) -> None:
    run = gtoken("login", "--client-secrets", str(client_secrets), "--scope", "gmail read")
    assert run.returncode == 2
    assert "argument --scope" in run.stderr


def test_ctrl_c_exits_130_quietly(gtoken: Gtoken, client_secrets: Path) -> None:
    proc = gtoken.popen(
        "login", "--client-secrets", str(client_secrets), "--scope", "mail", "--no-browser"
    )
    seen = gtoken.read_until(proc, "/o/oauth2/v2/auth?")
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    run = gtoken.finish(proc, seen, ("login",))
    assert run.returncode == 130
    assert "Traceback" not in run.stderr
    assert "KeyboardInterrupt" not in run.stderr


def test_a_login_for_one_account_that_ends_as_another_stores_nothing_and_revokes_it(
    login: Callable[..., Run], gtoken: Gtoken, emulator: Emulator
) -> None:
    assert login().returncode == 0  # ada, the default
    emulator.create_user("bob@example.com", "Bob")
    emulator.consent_auto(email="bob@example.com")  # the wrong choice in the account chooser

    run = login("gmail.readonly", extra=("--account", EMAIL))

    assert run.returncode == 4
    assert (
        f"{EMAIL} was asked for, but the sign-in ended as bob@example.com; nothing was stored "
        "and the access it just granted was revoked"
    ) in run.stderr
    assert f"choose {EMAIL} on the consent page" in run.stderr
    [account] = accounts(gtoken)
    assert account["email"] == EMAIL
    assert account["default"] is True
    assert emulator.stats()["endpoints"]["revoke"] == 1
    assert emulator.stats()["token"]["authorization_code"] == 2


def test_a_login_for_the_account_that_signs_in_succeeds(
    login: Callable[..., Run], gtoken: Gtoken
) -> None:
    run = login("gmail.readonly", extra=("--account", EMAIL.upper()))
    assert run.returncode == 0, run.stderr
    assert [a["email"] for a in accounts(gtoken)] == [EMAIL]
