"""``gtoken accounts``, ``logout``, ``revoke``, ``export``, ``import`` and ``key``."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import google.oauth2.credentials
import httpx

from gtoken.emulator.client import Emulator
from gtoken.store import encode_key, key_id, new_key
from tests.cli.conftest import EMAIL, GMAIL_RO, Gtoken, Record, Run
from tests.support import login as emulator_login


def test_accounts_listing(gtoken: Gtoken, login: Callable[..., Run], emulator: Emulator) -> None:
    assert login("gmail.readonly").returncode == 0
    emulator.create_user("bob@example.com")
    emulator.consent_auto(email="bob@example.com")
    assert login("drive.file").returncode == 0

    run = gtoken("accounts")

    assert run.returncode == 0, run.stderr
    header, *rows = run.lines
    assert header.split() == ["ACCOUNT", "CLIENT", "SCOPES", "STATUS", "TOKEN", "EXPIRES"]
    [ada] = [r for r in rows if EMAIL in r]
    [bob] = [r for r in rows if "bob@example.com" in r]
    assert bob.startswith("*")  # the last login is the default
    assert not ada.startswith("*")
    assert "email, gmail.readonly, openid" in ada
    assert "drive.file" in bob
    assert "active" in ada
    assert "in 59 min" in ada or "in 58 min" in ada
    assert ".apps.googleusercontent.com" not in run.stdout  # shortened

    listed = json.loads(gtoken("accounts", "--json").stdout)
    assert [a["email"] for a in listed if a["default"]] == ["bob@example.com"]
    assert {a["status"] for a in listed} == {"active"}
    assert all(a["expires_at"].endswith("Z") for a in listed)
    assert set(listed[0]) == {
        "id", "email", "client_id", "scopes", "status", "status_reason", "default", "expires_at"
    }  # fmt: skip


def test_no_accounts(gtoken: Gtoken) -> None:
    run = gtoken("accounts")
    assert run.returncode == 0
    assert run.stdout == ""
    assert "gtoken login" in run.stderr
    assert gtoken("accounts", "--json").stdout == "[]\n"


def test_logout_forgets_without_telling_google(
    gtoken: Gtoken, signed_in: Run, emulator: Emulator
) -> None:
    token = gtoken("token").stdout.strip()

    run = gtoken("logout", "--account", EMAIL)

    assert run.returncode == 0, run.stderr
    assert f"Removed {EMAIL}" in run.stderr
    assert run.stdout == ""
    assert gtoken("accounts", "--json").stdout == "[]\n"
    assert gtoken("token").returncode == 4
    labels = f"{emulator.url}/gmail/v1/users/me/labels"
    assert httpx.get(labels, headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_revoke_revokes_at_the_issuer_then_forgets(
    gtoken: Gtoken, signed_in: Run, emulator: Emulator
) -> None:
    token = gtoken("token").stdout.strip()

    run = gtoken("revoke")

    assert run.returncode == 0, run.stderr
    assert f"Revoked {EMAIL}'s grant at its issuer" in run.stderr
    labels = f"{emulator.url}/gmail/v1/users/me/labels"
    assert httpx.get(labels, headers={"Authorization": f"Bearer {token}"}).status_code == 401
    after = gtoken("token")
    assert after.returncode == 4
    assert after.stdout == ""


def test_export_prints_an_authorized_user_file(gtoken: Gtoken, signed_in: Run) -> None:
    run = gtoken("export")

    assert run.returncode == 0, run.stderr
    document = json.loads(run.stdout)
    assert document["type"] == "authorized_user"
    assert document["account"] == EMAIL
    assert document["refresh_token"]
    assert "keep it private" in run.stderr.lower()
    # google-auth reads it as it is.
    creds = google.oauth2.credentials.Credentials.from_authorized_user_info(document)  # type: ignore[no-untyped-call]
    assert creds.refresh_token == document["refresh_token"]


def quickstart_token_json(
    emulator: Emulator, client_secrets: Path, path: Path, record: Record
) -> Path:
    """What the Python quickstart leaves behind: google-auth's ``Credentials.to_json()``."""
    secrets: dict[str, Any] = json.loads(client_secrets.read_text())
    body = emulator_login(emulator, secrets, f"openid email {GMAIL_RO}", access_type="offline")
    info = secrets["installed"]
    creds = google.oauth2.credentials.Credentials(  # type: ignore[no-untyped-call]
        token=body["access_token"],
        refresh_token=body["refresh_token"],
        token_uri=info["token_uri"],
        client_id=info["client_id"],
        client_secret=info["client_secret"],
        scopes=body["scope"].split(),
        expiry=datetime.now(UTC).replace(tzinfo=None),
    )
    record.add_secrets(body["access_token"], body["refresh_token"], body.get("id_token"))
    path.write_text(creds.to_json())  # type: ignore[no-untyped-call]
    return path


def test_import_a_quickstart_token_json(
    gtoken: Gtoken, client_secrets: Path, emulator: Emulator, tmp_path: Path, record: Record
) -> None:
    token_json = quickstart_token_json(emulator, client_secrets, tmp_path / "token.json", record)

    run = gtoken("import", str(token_json))

    assert run.returncode == 0, run.stderr
    assert f"Imported {EMAIL}" in run.stderr
    assert run.stdout == ""
    [account] = json.loads(gtoken("accounts", "--json").stdout)
    assert account["email"] == EMAIL
    assert GMAIL_RO in account["scopes"]
    assert gtoken("token", "--scope", "gmail.readonly").returncode == 0


def test_import_of_something_else_is_a_configuration_error(
    gtoken: Gtoken, client_secrets: Path
) -> None:
    run = gtoken("import", str(client_secrets))
    assert run.returncode == 3
    assert run.stderr.startswith("gtoken: ")
    assert "Traceback" not in run.stderr


def test_key_new_prints_a_fresh_key(gtoken: Gtoken) -> None:
    first, second = gtoken("key", "new"), gtoken("key", "new")
    assert first.returncode == 0
    [key] = first.lines
    assert len(key) == 44
    assert key != second.stdout.strip()
    assert "id " in first.stderr
    assert key not in first.stderr


def test_key_rotate_with_the_key_file(gtoken: Gtoken, signed_in: Run, tmp_path: Path) -> None:
    token = gtoken("token").stdout
    key_file = tmp_path / "home" / "key.json"
    old = json.loads(key_file.read_text())["current"]

    run = gtoken("key", "rotate")

    assert run.returncode == 0, run.stderr
    keys = json.loads(key_file.read_text())
    assert keys["current"] != old
    assert list(keys["keys"]) == [keys["current"]]  # the old key is gone
    assert f"Removed the old key {old}" in run.stderr
    assert gtoken("token").stdout == token


def test_key_rotate_with_a_key_in_the_environment(
    gtoken: Gtoken, login: Callable[..., Run], tmp_path: Path
) -> None:
    old, new = encode_key(new_key()), encode_key(new_key())
    gtoken.env["GTOKEN_KEY"] = old
    assert login().returncode == 0
    token = gtoken("token").stdout

    refused = gtoken("key", "rotate")
    assert refused.returncode == 3
    assert "GTOKEN_KEY_NEW" in refused.stderr
    assert "gtoken key new" in refused.stderr

    run = gtoken("key", "rotate", env={"GTOKEN_KEY_NEW": new})
    assert run.returncode == 0, run.stderr
    assert f"id {key_id(base64.b64decode(new))}" in run.stderr
    assert not (tmp_path / "home" / "key.json").exists()

    stale = gtoken("token", "--min-ttl", "0", env={"GTOKEN_KEY": old})
    assert stale.returncode == 3
    assert "key id" in stale.stderr
    assert gtoken("token", env={"GTOKEN_KEY": new}).stdout == token
