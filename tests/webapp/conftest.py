"""Mail Glance, the reference web application of examples/webapp, run as the README says
(``./dev webapp``, that is ``examples/webapp/run.py``) against the session's emulator."""

from __future__ import annotations

import base64
import html
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from gtoken.emulator.client import Emulator
from tests.support import login
from tests.vault.conftest import pg_schema_url

__all__ = ["pg_schema_url"]  # the vault tests' fixture: a schema of its own per test

RUN = Path(__file__).resolve().parents[2] / "examples" / "webapp" / "run.py"
USER = "ada@example.com"
AUTH = "https://www.googleapis.com/auth/"
METADATA = AUTH + "gmail.metadata"
READONLY = AUTH + "gmail.readonly"
LISTENING = "Mail Glance listening on "


@dataclass
class MailGlance:
    """A running Mail Glance: its address, its Vault's database and keys, and what it logged."""

    url: str
    database_url: str
    keys: str
    emulator: Emulator
    log: Path
    lines: list[str] = field(default_factory=list)

    def browser(self) -> httpx.Client:
        """A person's browser: it keeps cookies and follows redirects (to Google and back)."""
        return httpx.Client(base_url=self.url, follow_redirects=True, timeout=30)


@pytest.fixture
def vault_keys() -> str:
    return base64.b64encode(os.urandom(32)).decode()


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The app's Vault database: SQLite, or with ``indirect`` parametrization ``"postgresql"``,
    a schema of its own on the test PostgreSQL."""
    if getattr(request, "param", "sqlite") == "sqlite":
        return f"sqlite:///{tmp_path}/vault.db"
    url: str = request.getfixturevalue("pg_schema_url")
    return url


ON_BOTH_DATABASES = pytest.mark.parametrize(
    "database_url",
    ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
    indirect=True,
)


@pytest.fixture
def mail_glance(
    emulator: Emulator, tmp_path: Path, database_url: str, vault_keys: str
) -> Iterator[MailGlance]:
    """``run.py --port 0 --emulator URL``; stopped (and its log checked) after the test."""
    log = tmp_path / "webapp.log"
    env = {
        **os.environ,
        "GTOKEN_DATABASE_URL": database_url,
        "GTOKEN_VAULT_KEYS": vault_keys,
    }
    with log.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, str(RUN), "--port", "0", "--emulator", emulator.url],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env=env,
        )
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        lines.append(line.rstrip("\n"))
        if line.startswith(LISTENING):
            break
    else:
        proc.wait(timeout=10)
        pytest.fail(f"Mail Glance did not start: {lines} {log.read_text()[-3000:]}")
    app = MailGlance(lines[-1].removeprefix(LISTENING), database_url, vault_keys, emulator, log)
    app.lines = lines
    try:
        yield app
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        proc.stdout.close()
        logged = log.read_text()
        leaked = [s for s in emulator.issued() if len(s) >= 16 and s in logged]
        assert not leaked, f"{len(leaked)} issued secret(s) in Mail Glance's log"
        assert "Traceback" not in logged, logged[-4000:]
        assert proc.returncode == 0, logged[-4000:]


def sign_in(browser: httpx.Client, name: str = "ada") -> httpx.Response:
    page = browser.post("/sign-in", data={"name": name})
    assert page.status_code == 200, page.text
    return page


def click(browser: httpx.Client, page: httpx.Response, button: str) -> httpx.Response:
    """Submit the form of ``page`` whose button says ``button``, as a browser would."""
    for action, inner in re.findall(
        r'<form method="post" action="([^"]+)">(.*?)</form>', page.text, re.S
    ):
        if f"<button>{button}</button>" in inner:
            fields = dict(
                re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]+)">', inner)
            )
            return browser.post(html.unescape(action), data=fields)
    raise AssertionError(f"no {button!r} button on the page")


def subjects(page: httpx.Response) -> list[tuple[str, str]]:
    """(subject, preview) of each message the page lists."""
    section = page.text.split('<ul id="messages">', 1)[1].split("</ul>", 1)[0]
    found = re.findall(r"<li>(.*?)(?:<small>(.*?)</small>)?</li>", section, re.S)
    return [(html.unescape(s), html.unescape(p)) for s, p in found]


def latest_subjects(emulator: Emulator, count: int = 5) -> list[str]:
    """The subjects of the user's latest messages, read from Gmail with a token of our own."""
    client = emulator.create_client()
    emulator.consent_auto(email=USER)
    token = login(emulator, client, READONLY)["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    base = f"{emulator.url}/gmail/v1/users/me/messages"
    listed = httpx.get(base, params={"maxResults": count}, headers=headers).json()
    found: list[str] = []
    for ref in listed["messages"]:
        message = httpx.get(
            f"{base}/{ref['id']}",
            params={"format": "metadata", "metadataHeaders": "Subject"},
            headers=headers,
        ).json()
        found.extend(h["value"] for h in message["payload"]["headers"] if h["name"] == "Subject")
    return found
