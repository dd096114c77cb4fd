"""A Desktop client and a signed-in user on the emulator, and a login to run against them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from gtoken.emulator.client import Emulator
from gtoken.flows import run_login
from gtoken.oauth import ClientSecrets, Token
from tests.flows.fakes import RecordingTransport, Screen

EMAIL = "ada@example.com"
GMAIL_RO = "https://www.googleapis.com/auth/gmail.readonly"
DRIVE_FILE = "https://www.googleapis.com/auth/drive.file"
SCOPES = frozenset({"gmail.readonly", "openid", "email"})


@dataclass
class Google:
    """The emulator with one Desktop client and one user who consents at once."""

    emulator: Emulator
    client: ClientSecrets
    transport: RecordingTransport

    @property
    def device_url(self) -> str:
        return f"{self.emulator.url}/device/code"

    def login(self, screen: Screen, scopes: frozenset[str] = SCOPES, **options: Any) -> Token:
        options.setdefault("env", {"DISPLAY": ":0"})
        return run_login(
            self.client,
            scopes,
            transport=self.transport,
            console=screen.console,
            device_url=self.device_url,
            **options,
        )

    def secrets(self) -> set[str]:
        return self.transport.secrets() | {self.client.client_secret}


@pytest.fixture
def google(emulator: Emulator) -> Iterator[Google]:
    client = ClientSecrets.from_json(emulator.create_client(type="installed"))
    emulator.create_user(EMAIL, "Ada Lovelace")
    emulator.consent_auto(email=EMAIL)
    transport = RecordingTransport()
    try:
        yield Google(emulator, client, transport)
    finally:
        transport.close()
