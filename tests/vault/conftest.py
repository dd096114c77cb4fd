"""Fixtures for the vault's tests: a web client at the emulator, and a vault database on SQLite
and on PostgreSQL (a schema of its own per test, dropped afterwards: other test runs share the
server)."""

from __future__ import annotations

import contextlib
import functools
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import pytest

from gtoken.emulator.client import Emulator, EmulatorError
from gtoken.store import new_key
from gtoken.vault import Connection, Vault
from tests.support import Clock, no_wait

CALLBACK = "https://app.example.com/oauth2callback"


def with_search_path(url: str, schema: str) -> str:
    """``url`` whose sessions use ``schema`` first."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "options"]
    query.append(("options", f"-csearch_path={schema}"))
    return urlunsplit(parts._replace(query=urlencode(query)))


@pytest.fixture
def pg_schema_url(postgres_url: str) -> Iterator[str]:
    """A URL on the test PostgreSQL whose tables land in a new, empty schema."""
    import psycopg

    schema = f"gtoken_test_{secrets.token_hex(6)}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield with_search_path(postgres_url, schema)
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty vault database: each test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/vault.db"
    url: str = request.getfixturevalue("pg_schema_url")
    return url


@pytest.fixture
def pg_url(pg_schema_url: str) -> str:
    """For the tests that are about PostgreSQL alone (processes on several machines)."""
    return pg_schema_url


@pytest.fixture
def vault_key() -> bytes:
    return new_key()


@pytest.fixture
def web_client(emulator: Emulator) -> dict[str, Any]:
    """A web application's OAuth client at the emulator, its callback registered."""
    return emulator.create_client(type="web", redirect_uris=[CALLBACK])


@pytest.fixture
def open_vault_on(
    web_client: dict[str, Any], vault_key: bytes, env: dict[str, str], clock: Clock
) -> Iterator[Callable[..., Vault]]:
    """Opens vaults on the database its first argument names, closed at the end: a test asks for
    that database's fixture before this one, so that the vaults close before it goes."""
    opened: list[Vault] = []

    def make(database_url: str, **options: Any) -> Vault:
        options.setdefault("client_secrets", web_client)
        options.setdefault("redirect_uri", CALLBACK)
        options.setdefault("keys", [vault_key])
        options.setdefault("env", env)
        options.setdefault("transport", no_wait)
        options.setdefault("clock", clock)
        vault = Vault(database_url, **options)
        opened.append(vault)
        return vault

    yield make
    for vault in opened:
        vault.close()


@pytest.fixture
def open_vault(database_url: str, open_vault_on: Callable[..., Vault]) -> Callable[..., Vault]:
    """Opens vaults on the test's database (closed at the end)."""
    return functools.partial(open_vault_on, database_url)


@pytest.fixture
def vault(open_vault: Callable[..., Vault]) -> Vault:
    return open_vault()


def consent_redirect(url: str) -> str:
    """Follow a consent URL as the user's browser would, to where Google sends it back."""
    response = httpx.get(url)
    assert response.status_code == 302, response.text[:500]
    location: str = response.headers["location"]
    return location


def connect(
    emulator: Emulator,
    vault: Vault,
    user_id: str,
    email: str,
    scopes: list[str] | None = None,
    *,
    grant: str | list[str] = "all",
    **options: Any,
) -> Connection:
    """The user ``user_id`` (Google account ``email``) connects, allowing ``grant``."""
    with contextlib.suppress(EmulatorError):  # already there
        emulator.create_user(email)
    emulator.consent_auto(email=email, grant=grant)  # type: ignore[arg-type]
    url = vault.authorization_url(user_id, scopes or ["gmail.readonly"], **options)
    return vault.complete(consent_redirect(url))
