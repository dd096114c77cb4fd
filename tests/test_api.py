"""gtoken.credentials and gtoken.build, as a script uses them, against the emulator."""
# mypy: disable-error-code="no-untyped-call"

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from google.auth.transport.requests import AuthorizedSession

import gtoken
from gtoken.emulator.client import Emulator
from tests.browser import HttpBrowser

GMAIL_RO = "https://www.googleapis.com/auth/gmail.readonly"
DRIVE_FILE = "https://www.googleapis.com/auth/drive.file"


@pytest.fixture
def env(tmp_path: Path, emulator: Emulator) -> dict[str, str]:
    browser = HttpBrowser(tmp_path / "page")
    return {
        "GTOKEN_HOME": str(tmp_path / "home"),
        "GTOKEN_EMULATOR_HOST": emulator.host,
        "BROWSER": browser.command,
    }


@pytest.fixture
def client(emulator: Emulator) -> dict[str, Any]:
    secrets = emulator.create_client(type="installed")
    emulator.create_user("ada@example.com", "Ada Lovelace")
    emulator.consent_auto(email="ada@example.com")
    return secrets


def logins(emulator: Emulator) -> int:
    return int(emulator.stats()["token"].get("authorization_code", 0))


def test_first_call_signs_in_and_build_lists_labels(emulator, env, client) -> None:
    gmail = gtoken.build("gmail", "v1", scopes=["gmail.readonly"], client_secrets=client, env=env)
    labels = gmail.users().labels().list(userId="me").execute()["labels"]
    assert "INBOX" in {label["id"] for label in labels}
    assert logins(emulator) == 1


SCRIPT = textwrap.dedent(
    """
    import os, sys, gtoken
    env = dict(os.environ)
    creds = gtoken.credentials(["gmail.readonly"], login="never")
    gmail = gtoken.build("gmail", "v1", scopes=["gmail.readonly"], login="never")
    print(len(gmail.users().messages().list(userId="me").execute()["messages"]))
    print(repr(creds))
    """
)


def test_later_processes_reuse_the_stored_account(emulator, env, client) -> None:
    gtoken.credentials(["gmail.readonly"], client_secrets=client, env=env)
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env={**env, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    count, shown = result.stdout.splitlines()
    assert int(count) > 0
    assert "ada@example.com" in shown
    assert logins(emulator) == 1


def test_a_missing_scope_runs_incremental_consent(emulator, env, client) -> None:
    gtoken.credentials(["gmail.readonly"], client_secrets=client, env=env)
    creds = gtoken.credentials(["drive.file"], client_secrets=client, env=env)
    assert logins(emulator) == 2
    creds.refresh(None)
    assert {GMAIL_RO, DRIVE_FILE} <= creds.granted_scopes  # earlier grants kept


def test_a_scope_left_unticked_is_a_clear_error(emulator, env, client) -> None:
    emulator.consent_auto(email="ada@example.com", grant=["gmail.readonly"])
    with pytest.raises(gtoken.ScopeNotGranted) as caught:
        gtoken.credentials(["gmail.readonly", "drive.file"], client_secrets=client, env=env)
    assert caught.value.missing == {DRIVE_FILE}
    assert "drive.file" in str(caught.value)


def test_never_login_without_an_account_says_so(env, client) -> None:
    with pytest.raises(gtoken.ConsentRequired) as caught:
        gtoken.credentials(["gmail.readonly"], client_secrets=client, env=env, login="never")
    assert "gtoken login" in str(caught.value)


def test_authorized_session_refreshes_once_after_a_401(emulator, env, client) -> None:
    creds = gtoken.credentials(["gmail.readonly"], client_secrets=client, env=env)
    session = AuthorizedSession(creds)
    url = f"{emulator.url}/gmail/v1/users/me/labels"
    assert session.get(url).status_code == 200
    emulator.advance(3600)  # only the emulator knows the token expired
    response = session.get(url)
    assert response.status_code == 200
    assert emulator.stats()["token"]["refresh_token"] == 1


def test_credentials_repr_shows_no_token(env, client) -> None:
    creds = gtoken.credentials(["gmail.readonly"], client_secrets=client, env=env)
    creds.refresh(None)
    assert creds.token
    assert creds.token not in repr(creds)


class _EmulatedSheets(AuthorizedSession):
    """google-auth's session with gtoken credentials, sending Google's hosts to the emulator (as
    gspread takes no endpoint option)."""

    def __init__(self, creds, url: str) -> None:
        super().__init__(creds)
        self.emulator_url = url

    def request(self, method, url, *args, **kwargs):
        for host in ("https://sheets.googleapis.com", "https://www.googleapis.com"):
            url = str(url).replace(host, self.emulator_url)
        return super().request(method, url, *args, **kwargs)


def test_gspread_reads_and_writes_with_gtoken_credentials(emulator, env, client) -> None:
    import gspread

    api = gtoken.build("sheets", "v4", scopes=["spreadsheets"], client_secrets=client, env=env)
    created = api.spreadsheets().create(body={"properties": {"title": "gspread"}}).execute()
    creds = gtoken.credentials(["spreadsheets"], client_secrets=client, env=env)
    sheets = gspread.Client(auth=creds, session=_EmulatedSheets(creds, emulator.url))
    book = sheets.open_by_key(created["spreadsheetId"])
    book.sheet1.update([["one", "two"], ["1", "2"]], "A1")
    assert book.sheet1.get_all_values() == [["one", "two"], ["1", "2"]]
    emulator.advance(3600)  # only the emulator knows the token has expired
    assert book.sheet1.acell("B2").value == "2"
    assert emulator.stats()["token"]["refresh_token"] == 1


def test_fifty_threads_sharing_credentials_refresh_once_after_staggered_401s(
    emulator, env, client
) -> None:
    import threading

    from googleapiclient.discovery import build

    creds = gtoken.credentials(["gmail.readonly"], client_secrets=client, env=env)
    options = {"api_endpoint": emulator.api_endpoint("gmail")}
    services = [
        build("gmail", "v1", credentials=creds, client_options=options, static_discovery=True)
        for _ in range(50)
    ]
    services[0].users().labels().list(userId="me").execute()
    emulator.advance(3600)  # only the emulator knows the token expired: each request gets a 401
    for n in range(len(services)):  # ... the n-th after 0.2 + n/50 s: most after the refresh
        emulator.fault("gmail", delay=0.2 + 0.02 * n)
    start = threading.Barrier(len(services))
    failures: list[BaseException] = []

    def call(gmail: Any) -> None:
        start.wait()
        try:
            gmail.users().labels().list(userId="me").execute()
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=call, args=(gmail,)) for gmail in services]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    assert emulator.stats()["token"]["refresh_token"] == 1


def test_credentials_for_a_named_account_refuse_another_one_signing_in(
    emulator, env, client
) -> None:
    from gtoken.errors import WrongAccount

    emulator.create_user("bob@example.com")
    emulator.consent_auto(email="bob@example.com")
    with pytest.raises(WrongAccount) as caught:
        gtoken.credentials(
            ["gmail.readonly"], client_secrets=client, account="ada@example.com", env=env
        )
    assert caught.value.signed_in == "bob@example.com"
    assert caught.value.revoked
    assert emulator.stats()["endpoints"]["revoke"] == 1
    with pytest.raises(gtoken.ConsentRequired):
        gtoken.credentials(["gmail.readonly"], env=env, login="never")
