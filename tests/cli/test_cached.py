"""The cached-token path of ``gtoken token``: fast, and held to the store it reads.

:mod:`gtoken.cli.cached` reads the store without the store's code, for speed. These tests write
accounts with the library and check that the cached path hands out exactly what
:meth:`Accounts.token` would, and declines (None) wherever the library would do something else.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gtoken.accounts import Accounts
from gtoken.cli.cached import _standalone_aead, cached_token
from gtoken.cli.fast import parse_token_options
from gtoken.errors import ConfigError, ConsentRequired, ScopeNotGranted
from gtoken.oauth import ClientSecrets, Token
from gtoken.refresh import DEFAULT_MIN_TTL as LIBRARY_MIN_TTL
from gtoken.store import encode_key, new_key
from gtoken.store import gtoken_home as store_home
from gtoken.store.format import DEFAULT_MIN_TTL, associated_data, gtoken_home
from tests.cli.conftest import GMAIL_RO, Gtoken, Run

EMAIL_SCOPE = "https://www.googleapis.com/auth/userinfo.email"
# Heavy modules the cached path must not load.
NOT_ON_THE_CACHED_PATH = (
    "httpx",
    "google.auth",
    "starlette",
    "gtoken.flows",
    "gtoken.accounts",
    "gtoken.store",
    "gtoken.oauth",
    "gtoken.transport",
    "argparse",
    "typing",
    "cryptography.hazmat.primitives",
)
# The store's format, which the cached path reads (standard library only), and its package,
# which loads nothing else until asked.
ON_THE_CACHED_PATH = ("gtoken.store", "gtoken.store.format")


def test_the_cached_path_loads_only_the_store_reader(gtoken: Gtoken, signed_in: Run) -> None:
    token = gtoken("token").stdout
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "gtoken", "token", "--format", "header"],
        capture_output=True,
        text=True,
        env=gtoken.environment(),
        timeout=30,
    )
    gtoken.keep(("header",), result.returncode, result.stdout, "")
    assert result.returncode == 0
    assert result.stdout == f"Authorization: Bearer {token}"
    loaded = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()}
    assert {"sqlite3", "gtoken.cli.cached"} <= loaded
    heavy = {m for m in loaded for h in NOT_ON_THE_CACHED_PATH if m == h or m.startswith(h + ".")}
    assert not heavy - set(ON_THE_CACHED_PATH)


def test_min_ttl_defaults_agree() -> None:
    assert DEFAULT_MIN_TTL == LIBRARY_MIN_TTL


# -- against the library ----------------------------------------------------------------------


class Home:
    """A gtoken home written by the library, read by both paths."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.accounts = Accounts(env=env)
        self.client = ClientSecrets(
            kind="installed", client_id="1-abc.apps.googleusercontent.com", client_secret="s" * 24
        )

    def add(
        self, sub: str, email: str | None, *, expires_in: float = 3600, scopes: tuple[str, ...] = ()
    ) -> str:
        token = Token(
            access_token=f"ya29.{sub}-" + "x" * 40,
            expires_at=datetime.now(UTC) + timedelta(seconds=expires_in),
            refresh_token="1//" + "r" * 40,
            scopes=frozenset(scopes or ("openid", EMAIL_SCOPE, GMAIL_RO)),
        )
        return self.accounts.adopt(self.client, token, sub=sub, email=email).id

    def cached(self, **options: object) -> str | None:
        options.setdefault("min_ttl", DEFAULT_MIN_TTL)
        found = cached_token(self.env, **options)  # type: ignore[arg-type]
        return None if found is None else found.access_token

    def library(self, account: str | None = None, **options: object) -> str:
        return self.accounts.token(account, **options).access_token  # type: ignore[arg-type]


@pytest.fixture
def written(tmp_path: Path) -> Iterator[Home]:
    h = Home({"GTOKEN_HOME": str(tmp_path / "home")})
    try:
        yield h
    finally:
        h.accounts.close()


def test_same_token_as_the_library(written: Home) -> None:
    written.add("1", "ada@example.com")
    bob = written.add("2", "Bob@Example.com")  # the last login is the default
    assert written.cached() == written.library() == "ya29.2-" + "x" * 40
    for name in ("ada@example.com", " ADA@example.com ", "bob@example.com", bob):
        assert written.cached(account=name) == written.library(name)
    for scopes in (["gmail.readonly"], ["email", "openid"], [GMAIL_RO, EMAIL_SCOPE]):
        assert written.cached(scopes=scopes) == written.library(scopes=scopes)


def test_declines_where_the_library_would_refresh_or_refuse(written: Home) -> None:
    written.add("1", "ada@example.com", expires_in=100)
    assert written.cached() is None  # within the default --min-ttl: the library refreshes
    assert written.cached(min_ttl=60) == written.library(min_ttl=60)
    assert written.cached(min_ttl=60, scopes=["drive.file"]) is None
    with pytest.raises(ScopeNotGranted):
        written.library(min_ttl=60, scopes=["drive.file"])
    assert written.cached(min_ttl=60, scopes=["gmail readonly"]) is None
    assert written.cached(min_ttl=60, account="nobody@example.com") is None
    with pytest.raises(ConfigError):
        written.library("nobody@example.com")

    written.accounts.store.set_status(written.accounts.find().id, "needs_consent", "revoked")
    assert written.cached(min_ttl=60) is None
    with pytest.raises(ConsentRequired):
        written.library(min_ttl=60)


def test_declines_an_ambiguous_name(written: Home) -> None:
    written.add("1", "ada@example.com")
    other = ClientSecrets(kind="installed", client_id="2-def", client_secret="t" * 24)
    token = Token(
        access_token="ya29." + "y" * 40, expires_at=datetime.now(UTC) + timedelta(hours=1)
    )
    written.accounts.adopt(other, token, sub="1", email="ada@example.com")
    assert written.cached(account="ada@example.com") is None
    with pytest.raises(ConfigError):
        written.library("ada@example.com")


def test_no_store_yet(tmp_path: Path) -> None:
    assert cached_token({"GTOKEN_HOME": str(tmp_path / "none")}, min_ttl=0) is None
    assert not (tmp_path / "none").exists()  # and nothing was created


def test_a_key_in_the_environment(tmp_path: Path) -> None:
    key = encode_key(new_key())
    h = Home({"GTOKEN_HOME": str(tmp_path / "home"), "GTOKEN_KEY": key})
    try:
        h.add("1", "ada@example.com")
        assert h.cached() == h.library()
        wrong = {**h.env, "GTOKEN_KEY": encode_key(new_key())}
        assert cached_token(wrong, min_ttl=0) is None
        assert cached_token({**h.env, "GTOKEN_KEY": "not a key"}, min_ttl=0) is None
    finally:
        h.accounts.close()


def test_files_others_can_read_are_left_to_the_library(written: Home) -> None:
    written.add("1", "ada@example.com")
    path = Path(written.env["GTOKEN_HOME"])
    for target, mode, restore in (
        (path / "store.sqlite3", 0o644, 0o600),
        (path / "key.json", 0o640, 0o600),
        (path, 0o755, 0o700),
    ):
        os.chmod(target, mode)
        assert written.cached() is None
        os.chmod(target, restore)
        assert written.cached() is not None


def test_a_key_file_written_otherwise_is_read_as_json(written: Home) -> None:
    written.add("1", "ada@example.com")
    path = Path(written.env["GTOKEN_HOME"]) / "key.json"
    path.write_text(json.dumps(json.loads(path.read_text()), separators=(",", ":")))
    assert written.cached() == written.library()


@pytest.mark.parametrize("words", [["accounts", "0123abcd", "access_token"], ['a"b', "é", "c\\d"]])
def test_associated_data_is_the_json_the_store_seals_with(words: list[str]) -> None:
    assert associated_data(*words) == json.dumps(["gtoken-sealed-v1", *words]).encode()


def test_the_cached_path_opens_values_with_cryptographys_public_aesgcm() -> None:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    assert _standalone_aead().AESGCM is AESGCM  # type: ignore[attr-defined]


def test_a_store_of_another_schema_is_left_to_the_library(written: Home) -> None:
    written.add("1", "ada@example.com")
    conn = written.accounts.store._conn()
    conn.execute("PRAGMA user_version = 99")
    assert written.cached() is None


@pytest.mark.parametrize(
    "env",
    [
        {"GTOKEN_HOME": "/srv/gtoken"},
        {"GTOKEN_HOME": "~/g"},
        {"XDG_DATA_HOME": "/data"},
        {"XDG_DATA_HOME": "relative"},
        {"GTOKEN_HOME": "", "XDG_DATA_HOME": ""},
    ],
)
def test_same_home_as_the_store(env: dict[str, str]) -> None:
    assert Path(gtoken_home(env)) == store_home(env)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["token"], ("bare", None, [], DEFAULT_MIN_TTL)),
        (["header", "--account=a@b.c"], ("header", "a@b.c", [], DEFAULT_MIN_TTL)),
        (
            ["token", "--scope", "mail", "--scope=email", "--format", "json", "--min-ttl", "5"],
            ("json", None, ["mail", "email"], 5.0),
        ),
    ],
)
def test_plain_command_lines_are_read(args: list[str], expected: tuple[object, ...]) -> None:
    options = parse_token_options(args)
    assert options is not None
    assert (options.format, options.account, options.scopes, options.min_ttl) == expected


@pytest.mark.parametrize(
    "args",
    [
        ["token", "--help"],
        ["token", "-h"],
        ["token", "--acc", "x"],
        ["token", "--format", "xml"],
        ["header", "--format", "json"],
        ["token", "--min-ttl", "nan"],
        ["token", "--min-ttl", "-1"],
        ["token", "--account"],
        ["token", "--account", "--scope"],
        ["token", "extra"],
        ["accounts"],
        [],
    ],
)
def test_anything_else_goes_to_argparse(args: list[str]) -> None:
    assert parse_token_options(args) is None
