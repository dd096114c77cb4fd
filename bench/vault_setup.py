"""What the vault benchmarks share: an emulator with a web client, a vault database of its own
(a new PostgreSQL schema, or an SQLite file, removed afterwards), and connected users."""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from bench.emulator import Server, emulator_process
from gtoken.emulator.client import Emulator
from gtoken.store import new_key

CALLBACK = "https://app.example.com/oauth2callback"
GMAIL = "https://www.googleapis.com/auth/gmail.readonly"
#: The PostgreSQL the benchmarks use: GTOKEN_BENCH_DATABASE_URL, else the tests', else local.
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
KEPT = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")
PER_ACCOUNT = 100


def postgres_url() -> str:
    return (
        os.environ.get("GTOKEN_BENCH_DATABASE_URL")
        or os.environ.get("GTOKEN_TEST_DATABASE_URL")
        or DEFAULT_PG
    )


@contextlib.contextmanager
def pg_schema() -> Iterator[str]:
    """A URL whose tables land in a new schema, dropped afterwards."""
    try:
        import psycopg
    except ImportError:
        raise RuntimeError("the vault benchmarks need psycopg (gtoken[postgres])") from None
    base = postgres_url()
    schema = f"gtoken_bench_{secrets.token_hex(5)}"
    try:
        with psycopg.connect(base, autocommit=True, connect_timeout=10) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
    except psycopg.Error as exc:
        raise RuntimeError(f"no PostgreSQL at {base} ({exc})") from None
    parts = urlsplit(base)
    query = [*parse_qsl(parts.query), ("options", f"-csearch_path={schema}")]
    try:
        yield urlunsplit(parts._replace(query=urlencode(query)))
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@contextlib.contextmanager
def sqlite_file() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="gtoken-bench-") as directory:
        yield f"sqlite:///{Path(directory) / 'vault.db'}"


@dataclass(frozen=True)
class Google:
    """The emulator with one web client, and the environment gtoken's processes get."""

    server: Server
    emu: Emulator
    client: dict[str, Any]
    key: bytes
    env: dict[str, str]

    def refreshes(self) -> int:
        return int(self.emu.stats()["token"].get("refresh_token", 0))

    def refresh_tokens(self, count: int, *, threads: int = 8) -> list[str]:
        """``count`` refresh tokens, through the authorization and token endpoints as an
        application's callbacks would get them: 100 per Google account (Google's limit per
        account and client; each emulated account also carries a mailbox, slow to make)."""
        info = self.client["web"]
        accounts = max(1, -(-count // PER_ACCOUNT))
        for n in range(accounts):
            self.emu.create_user(f"u{n}@example.com")

        def one(n: int) -> str:
            with httpx.Client(base_url=self.emu.url, timeout=30) as http:
                params = {
                    "client_id": info["client_id"],
                    "redirect_uri": CALLBACK,
                    "response_type": "code",
                    "scope": GMAIL,
                    "access_type": "offline",
                    "prompt": "consent",  # a refresh token every time, not only the first
                    "login_hint": f"u{n % accounts}@example.com",
                }
                back = http.get("/o/oauth2/v2/auth", params=params).headers["location"]
                code = dict(parse_qsl(urlsplit(back).query))["code"]
                answer = http.post(
                    "/token",
                    data={
                        "grant_type": "authorization_code",
                        "code": code,
                        "client_id": info["client_id"],
                        "client_secret": info["client_secret"],
                        "redirect_uri": CALLBACK,
                    },
                )
                token: str = answer.json()["refresh_token"]
                return token

        with ThreadPoolExecutor(threads) as pool:
            return list(pool.map(one, range(count)))


@contextlib.contextmanager
def google() -> Iterator[Google]:
    with emulator_process() as server, Emulator(server.url) as emu:
        client = emu.create_client(type="web", redirect_uris=[CALLBACK])
        emu.consent_auto(grant="all")
        key = new_key()
        env = {k: os.environ[k] for k in KEPT if k in os.environ}
        env.update(
            GTOKEN_EMULATOR_HOST=emu.host,
            GTOKEN_VAULT_KEYS=base64.b64encode(key).decode(),
        )
        yield Google(server, emu, client, key, env)


def wait_until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.time()))
