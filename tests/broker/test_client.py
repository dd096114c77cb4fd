"""``gtoken.broker.Client``: google-auth Credentials that ask the broker, for Python services."""

from __future__ import annotations

import pytest
from google.auth.transport.requests import AuthorizedSession

import gtoken
from gtoken.broker import Client
from gtoken.emulator.client import Emulator
from tests.broker.conftest import Served, connect_user

EMAIL = "ada@example.com"


def test_credentials_from_the_broker_call_gmail(served: Served, emulator: Emulator) -> None:
    emulator.configure(access_token_lifetime=90)
    connect_user(served, emulator, "user-42", EMAIL)
    with Client(served.url, served.keys["tokens:read"]) as broker:
        creds = broker.credentials("user-42", ["gmail.readonly"])
        session = AuthorizedSession(creds)  # type: ignore[no-untyped-call]
        url = f"{emulator.url}/gmail/v1/users/me/labels"
        assert session.get(url).status_code == 200
        # The token has 90 s left, less than google-auth's margin: the next call refreshes
        # through the broker.
        before = emulator.stats()["token"].get("refresh_token", 0)
        emulator.configure(access_token_lifetime=3600)
        assert session.get(url).status_code == 200
        assert emulator.stats()["token"].get("refresh_token", 0) == before + 1
        assert str(creds.token) not in repr(creds)
        assert served.keys["tokens:read"] not in repr(broker)


def test_consent_needed_is_consent_required(served: Served) -> None:
    with (
        Client(served.url, served.keys["tokens:read"]) as broker,
        pytest.raises(gtoken.ConsentRequired) as raised,
    ):
        broker.token("stranger", ["gmail.readonly"])
    assert raised.value.url is not None
    assert raised.value.url.startswith(served.url + "/connect/")


def test_a_bad_key_is_a_clear_error(served: Served) -> None:
    with (
        Client(served.url, "gtk_nope_nope") as broker,
        pytest.raises(gtoken.ConfigError, match="refused the API key"),
    ):
        broker.token("user-1")


def test_connect_link(served: Served) -> None:
    with Client(served.url, served.keys["connections:manage"]) as broker:
        link = broker.connect_link("user-1", ["gmail.readonly"], "https://app.example.com/x")
    assert link.startswith(served.url + "/connect/v1.")


def test_api_keys_never_travel_in_the_clear() -> None:
    with pytest.raises(gtoken.ConfigError, match="unencrypted"):
        Client("http://tokens.example.com", "gtk_a_b")
    Client("https://tokens.example.com", "gtk_a_b").close()
