"""gtoken doctor against real files under tmp_path and the emulator: each check's finding, a
healthy setup that is all ok, and checks that change nothing and show no secret."""

from __future__ import annotations

import base64
import json
import os
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from gtoken.accounts import Accounts
from gtoken.doctor import Finding, run_checks
from gtoken.emulator.client import Emulator
from gtoken.errors import ConsentRequired
from gtoken.oauth import ClientSecrets
from gtoken.store import AccountRecord, key_id, parse_key
from tests.support import Clock, login, token_from

ADA = "ada@example.com"
SCOPE = "openid email https://www.googleapis.com/auth/gmail.readonly"
DAY = 24 * 3600


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def env(home: Path, emulator: Emulator) -> dict[str, str]:
    return {"GTOKEN_HOME": str(home), "GTOKEN_EMULATOR_HOST": emulator.host}


class Secrets:
    """Every secret a test handed out, to check that no finding shows one."""

    def __init__(self) -> None:
        self.values: list[str] = []

    def add(self, *values: str | None) -> None:
        self.values += [v for v in values if v]


@pytest.fixture
def secrets() -> Secrets:
    return Secrets()


def sign_in(
    emulator: Emulator,
    accounts: Accounts,
    secrets: Secrets,
    client: dict[str, Any] | None = None,
    email: str = ADA,
) -> AccountRecord:
    """An account stored as gtoken login stores it."""
    client = client or emulator.create_client()
    emulator.create_user(email)
    emulator.consent_auto(email=email)
    body = login(emulator, client, SCOPE, access_type="offline")
    token = token_from(body, accounts.clock())
    record = accounts.add(ClientSecrets.from_json(client), token)
    secrets.add(
        body["access_token"], body["refresh_token"], body.get("id_token"), record.client_secret
    )
    return record


def check(env: Mapping[str, str], clock: Clock, secrets: Secrets, **options: Any) -> list[Finding]:
    """run_checks with gtoken's clock kept in step with the emulator's."""
    findings = run_checks(env, accounts_factory=lambda e: Accounts(env=e, clock=clock), **options)
    for finding in findings:
        text = f"{finding.subject} {finding.detail} {finding.fix}"
        for secret in secrets.values:
            assert secret not in text, f"a secret appears in the finding about {finding.subject}"
    return findings


def about(findings: list[Finding], subject: str) -> list[Finding]:
    return [f for f in findings if f.subject == subject]


def only(findings: list[Finding], subject: str) -> Finding:
    (found,) = about(findings, subject)
    return found


def not_ok(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.level != "ok"]


def snapshot(home: Path) -> dict[str, tuple[int, int]]:
    """Every file of the home with its size and modification time."""
    return {
        str(p.relative_to(home)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(home.rglob("*"))
        if p.is_file()
    }


# -- healthy, and empty ------------------------------------------------------------------------


def test_a_healthy_setup_gives_only_ok_findings_and_changes_nothing(
    emulator: Emulator,
    accounts: Accounts,
    env: dict[str, str],
    clock: Clock,
    home: Path,
    secrets: Secrets,
    tmp_path: Path,
) -> None:
    client = emulator.create_client()
    secrets.add(client["installed"]["client_secret"])
    record = sign_in(emulator, accounts, secrets, client)
    client_file = tmp_path / "client_secret.json"
    client_file.write_text(json.dumps(client))
    accounts.close()
    before = snapshot(home)

    findings = check(env, clock, secrets, client_secrets=client_file)

    assert not_ok(findings) == []
    assert [f.subject for f in findings] == [
        "gtoken home",
        "store",
        "key file",
        "key",
        f"account {ADA}",
        "client secrets",
        "emulator",
    ]
    assert "valid until" in only(findings, f"account {ADA}").detail
    assert "all Google traffic" in only(findings, "emulator").detail
    assert snapshot(home) == before
    with Accounts(env=env, clock=clock) as again:
        assert again.find().version == record.version


def test_a_machine_without_gtoken_gets_warnings_and_nothing_is_created(
    env: dict[str, str], clock: Clock, home: Path, secrets: Secrets
) -> None:
    findings = check(env, clock, secrets)
    assert [(f.level, f.subject) for f in not_ok(findings)] == [
        ("warning", "gtoken home"),
        ("warning", "accounts"),
    ]
    assert "gtoken login" in (only(findings, "accounts").fix or "")
    assert not home.exists()


def test_a_store_without_accounts_says_to_log_in(
    emulator: Emulator, accounts: Accounts, env: dict[str, str], clock: Clock, secrets: Secrets
) -> None:
    sign_in(emulator, accounts, secrets)
    accounts.forget()
    finding = only(check(env, clock, secrets), "accounts")
    assert finding.level == "warning"
    assert "holds no account" in finding.detail
    assert "gtoken login" in (finding.fix or "")


# -- permissions -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "subject", "mode", "fix"),
    [
        ("store.sqlite3", "store", 0o644, "chmod 600"),
        ("key.json", "key file", 0o640, "chmod 600"),
        ("", "gtoken home", 0o755, "chmod 700"),
    ],
)
def test_files_others_can_read_are_problems_with_the_chmod(
    emulator: Emulator,
    accounts: Accounts,
    env: dict[str, str],
    clock: Clock,
    home: Path,
    secrets: Secrets,
    name: str,
    subject: str,
    mode: int,
    fix: str,
) -> None:
    sign_in(emulator, accounts, secrets)
    accounts.close()
    path = home / name if name else home
    os.chmod(path, mode)
    findings = check(env, clock, secrets)
    finding = only(findings, subject)
    assert finding.level == "problem"
    assert f"mode 0{mode:o}" in finding.detail
    assert finding.fix == f"{fix} {path}"
    assert only(findings, "accounts").detail.startswith("Not checked")
    assert oct(path.stat().st_mode & 0o777) == oct(mode)  # the doctor only says


# -- the key -----------------------------------------------------------------------------------


def test_a_malformed_gtoken_key_is_a_problem(
    env: dict[str, str], clock: Clock, secrets: Secrets
) -> None:
    bad = "c2hvcnQta2V5LXZhbHVlLW5vdC0zMi1ieXRlcw=="  # base64, but not of 32 bytes
    secrets.add(bad)
    finding = only(check({**env, "GTOKEN_KEY": bad}, clock, secrets), "key")
    assert finding.level == "problem"
    assert "GTOKEN_KEY decodes to" in finding.detail
    assert "32" in (finding.fix or "")


def test_a_wrong_gtoken_key_names_the_key_the_store_needs(
    emulator: Emulator,
    accounts: Accounts,
    env: dict[str, str],
    clock: Clock,
    home: Path,
    secrets: Secrets,
) -> None:
    sign_in(emulator, accounts, secrets)
    needed = accounts.store.keyring.current
    accounts.close()
    other = base64.b64encode(os.urandom(32)).decode()
    secrets.add(other, json.loads((home / "key.json").read_text())["keys"][needed])
    before = snapshot(home)

    findings = check({**env, "GTOKEN_KEY": other}, clock, secrets)

    assert [(f.level, f.subject) for f in not_ok(findings)] == [("problem", "key")]
    wrong = only(findings, "key")
    assert f"key id {needed}" in wrong.detail
    assert "GTOKEN_KEY is set to another key" in wrong.detail
    assert f"key with id {needed}" in (wrong.fix or "")
    assert key_id(parse_key(other)) != needed
    assert snapshot(home) == before


def test_a_missing_key_file_for_an_existing_store_is_a_problem(
    emulator: Emulator,
    accounts: Accounts,
    env: dict[str, str],
    clock: Clock,
    home: Path,
    secrets: Secrets,
) -> None:
    sign_in(emulator, accounts, secrets)
    accounts.close()
    (home / "key.json").unlink()
    findings = check(env, clock, secrets)
    finding = only(findings, "key")
    assert finding.level == "problem"
    assert "its key does not" in finding.detail
    assert not (home / "key.json").exists()  # no new key was made for the old store


# -- accounts ----------------------------------------------------------------------------------


def test_an_account_needing_consent_shows_why(
    emulator: Emulator, accounts: Accounts, env: dict[str, str], clock: Clock, secrets: Secrets
) -> None:
    sign_in(emulator, accounts, secrets)
    emulator.revoke_user(ADA)
    clock.advance(3600)
    with pytest.raises(ConsentRequired):
        accounts.token()
    finding = only(check(env, clock, secrets), f"account {ADA}")
    assert finding.level == "problem"
    assert "Needs consent again" in finding.detail
    assert "invalid_grant" in finding.detail
    assert "removed this app's access" in finding.detail  # a stored likely cause
    assert f"--account {ADA}" in (finding.fix or "")


def test_a_revoked_account_is_a_problem(
    emulator: Emulator, accounts: Accounts, env: dict[str, str], clock: Clock, secrets: Secrets
) -> None:
    record = sign_in(emulator, accounts, secrets)
    accounts.store.set_status(record.id, "revoked", "revoked with gtoken revoke")
    finding = only(check(env, clock, secrets), f"account {ADA}")
    assert finding.level == "problem"
    assert "revoked with gtoken revoke" in finding.detail
    assert "gtoken logout" in (finding.fix or "")


@pytest.mark.parametrize(
    ("days", "level", "says"),
    [(6, "warning", "stops working at"), (8, "problem", "stopped working at")],
)
def test_a_testing_apps_refresh_token_near_its_7_days(
    emulator: Emulator,
    accounts: Accounts,
    env: dict[str, str],
    clock: Clock,
    secrets: Secrets,
    days: int,
    level: str,
    says: str,
) -> None:
    client = emulator.create_client(publishing_status="testing", test_users=[ADA])
    record = sign_in(emulator, accounts, secrets, client)
    assert record.refresh_token_expires_at is not None
    findings = check(env, clock, secrets)
    assert not_ok(findings) == []
    assert "refresh token lasts until" in only(findings, f"account {ADA}").detail

    clock.advance(days * DAY)
    limit = only(check(env, clock, secrets), f"account {ADA}")
    assert limit.level == level
    assert says in limit.detail
    assert "Testing status 7 days" in limit.detail
    assert "Publish the app" in (limit.fix or "")
    if level == "warning":
        assert "in 23 hours" in limit.detail or "in 24 hours" in limit.detail


def test_an_account_of_google_while_the_emulator_is_set_is_a_warning(
    accounts: Accounts, env: dict[str, str], clock: Clock, secrets: Secrets
) -> None:
    accounts.store.put(
        AccountRecord(
            id="g1",
            client_id="123-abc.apps.googleusercontent.com",
            email="real@example.com",
            refresh_token="1//0gRealGoogleRefreshToken012345",
            client_secret="GOCSPX-RealGoogleClientSecret0",
        )
    )
    secrets.add("1//0gRealGoogleRefreshToken012345", "GOCSPX-RealGoogleClientSecret0")
    findings = about(check(env, clock, secrets), "account real@example.com")
    assert [f.level for f in findings] == ["ok", "warning"]
    assert "signed in with Google, but GTOKEN_EMULATOR_HOST is set" in findings[1].detail


# -- client secrets ----------------------------------------------------------------------------


def client_file(tmp_path: Path, document: object) -> Path:
    path = tmp_path / "client_secret.json"
    path.write_text(json.dumps(document))
    return path


def web_client(emulator: Emulator, redirect_uris: list[str]) -> dict[str, Any]:
    return emulator.create_client(type="web", redirect_uris=redirect_uris)


@pytest.mark.parametrize(
    ("make", "levels", "says"),
    [
        (
            lambda e: web_client(e, ["https://app.example.com/cb"]),
            ["problem"],
            "without a loopback",
        ),
        (
            lambda e: web_client(e, ["http://localhost:8080/"]),
            ["warning"],
            "gtoken login needs a Desktop app client",
        ),
        (
            lambda e: {
                "installed": {
                    **e.create_client()["installed"],
                    "redirect_uris": ["urn:ietf:wg:oauth:2.0:oob", "http://localhost"],
                }
            },
            ["ok", "warning"],
            "blocked on 2023-01-31",
        ),
        (lambda e: e.create_service_account(), ["problem"], "service-account key"),
        (
            lambda e: {
                "type": "authorized_user",
                "client_id": "c",
                "client_secret": "GOCSPX-AdcSecret0123456789",
            },
            ["problem"],
            "gtoken import",
        ),
        (lambda e: ["not", "an", "object"], ["problem"], "not an object"),
    ],
)
def test_client_secrets_findings(
    emulator: Emulator,
    env: dict[str, str],
    clock: Clock,
    secrets: Secrets,
    tmp_path: Path,
    make: Any,
    levels: list[str],
    says: str,
) -> None:
    document = make(emulator)
    if isinstance(document, dict):
        section = document.get("installed") or document.get("web") or document
        secrets.add(section.get("client_secret"), section.get("private_key"))
    findings = about(
        check(env, clock, secrets, client_secrets=client_file(tmp_path, document)),
        "client secrets",
    )
    assert [f.level for f in findings] == levels
    assert says in " ".join(f"{f.detail} {f.fix}" for f in findings)


def test_a_missing_client_secrets_file(
    env: dict[str, str], clock: Clock, secrets: Secrets, tmp_path: Path
) -> None:
    finding = only(
        check(env, clock, secrets, client_secrets=tmp_path / "nope.json"), "client secrets"
    )
    assert finding.level == "problem"
    assert "does not exist" in finding.detail


# -- the emulator ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_unreachable_emulator_is_a_problem(
    env: dict[str, str], clock: Clock, secrets: Secrets
) -> None:
    port = free_port()
    finding = only(
        check({**env, "GTOKEN_EMULATOR_HOST": f"127.0.0.1:{port}"}, clock, secrets), "emulator"
    )
    assert finding.level == "problem"
    assert f"http://127.0.0.1:{port}" in finding.detail
    assert f"gtoken emulator --host 127.0.0.1 --port {port}" in (finding.fix or "")


def test_a_malformed_emulator_setting_is_a_problem_and_accounts_are_still_checked(
    emulator: Emulator, accounts: Accounts, env: dict[str, str], clock: Clock, secrets: Secrets
) -> None:
    sign_in(emulator, accounts, secrets)
    findings = check({**env, "GTOKEN_EMULATOR_HOST": "localhost"}, clock, secrets)
    finding = only(findings, "emulator")
    assert finding.level == "problem"
    assert "is not host:port" in finding.detail
    assert about(findings, f"account {ADA}")
