"""Application Default Credentials: gtoken.credentials(scopes) with nothing else falls back the way
google.auth.default() does, says which source it used, and leaves an authorized_user file as it is.
Every lookup goes through the ``env`` mapping (HOME included), so nothing is patched."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

import gtoken
from gtoken.accounts import Accounts
from gtoken.emulator.client import Emulator
from gtoken.errors import ConfigError, ConsentRequired, ScopeNotGranted
from gtoken.oauth import ClientSecrets
from gtoken.oauth.responses import parse_token_response
from tests.support import login

AUTH = "https://www.googleapis.com/auth/"
GMAIL_RO = AUTH + "gmail.readonly"
ADA = "ada@example.com"
VAR = "GOOGLE_APPLICATION_CREDENTIALS"


@pytest.fixture
def env(tmp_path: Path, emulator: Emulator) -> dict[str, str]:
    home = tmp_path / "user"
    home.mkdir()
    return {
        "GTOKEN_HOME": str(tmp_path / "gtoken"),
        "GTOKEN_EMULATOR_HOST": emulator.host,
        "HOME": str(home),
    }


@pytest.fixture
def client(emulator: Emulator) -> dict[str, Any]:
    secrets = emulator.create_client(type="installed")
    emulator.create_user(ADA)
    emulator.consent_auto(email=ADA)
    return secrets


@pytest.fixture
def grant(emulator: Emulator, client: dict[str, Any]) -> dict[str, Any]:
    """Ada's sign-in, as a token response."""
    return login(emulator, client, f"openid email {GMAIL_RO}", access_type="offline")


@pytest.fixture
def authorized_user(client: dict[str, Any], grant: dict[str, Any]) -> dict[str, str]:
    """The file gcloud auth application-default login (or gtoken export) writes."""
    return {
        "type": "authorized_user",
        "client_id": client["installed"]["client_id"],
        "client_secret": client["installed"]["client_secret"],
        "refresh_token": grant["refresh_token"],
        "account": ADA,
        "universe_domain": "googleapis.com",
    }


@pytest.fixture
def service_key(emulator: Emulator) -> dict[str, Any]:
    return emulator.create_service_account()


def write(path: Path, content: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content))
    return path


def gcloud_path(env: dict[str, str]) -> Path:
    return Path(env["HOME"]) / ".config" / "gcloud" / "application_default_credentials.json"


def tokeninfo(emulator: Emulator, access_token: str) -> dict[str, Any]:
    info: dict[str, Any] = httpx.post(
        f"{emulator.url}/tokeninfo", data={"access_token": access_token}
    ).json()
    return info


def fetched(creds: gtoken.Credentials) -> str:
    """The token ``creds`` hold after a refresh."""
    creds.refresh(None)
    assert isinstance(creds.token, str)
    return creds.token


def stats(emulator: Emulator) -> dict[str, int]:
    counts: dict[str, int] = emulator.stats()["token"]
    return counts


@pytest.fixture
def stored_accounts(env: dict[str, str]) -> Iterator[Accounts]:
    with Accounts(env=env) as accounts:
        yield accounts


# -- the places, in order -------------------------------------------------------------------------


def test_a_service_account_key_in_the_variable(emulator, env, tmp_path, service_key) -> None:
    path = write(tmp_path / "key.json", service_key)
    creds = gtoken.credentials(["drive.file"], env={**env, VAR: str(path)})
    assert creds.source == f"{VAR}={path} (service account {service_key['client_email']})"
    assert tokeninfo(emulator, fetched(creds))["email"] == service_key["client_email"]
    assert stats(emulator)["jwt_bearer"] == 1


def test_an_authorized_user_file_in_the_variable(
    emulator, env, tmp_path, authorized_user, stored_accounts
) -> None:
    path = write(tmp_path / "adc.json", authorized_user)
    before = path.read_bytes()
    creds = gtoken.credentials(["gmail.readonly"], env={**env, VAR: str(path)})
    assert creds.source == f"{VAR}={path} (authorized_user, {ADA})"
    assert creds.account == ADA
    token = fetched(creds)
    info = tokeninfo(emulator, token)
    assert info["email"] == ADA
    assert GMAIL_RO in info["scope"].split()
    # Used where it lies: not adopted as an account, the file unchanged, the refresh token in
    # the file alone.
    assert stored_accounts.list() == []
    assert path.read_bytes() == before
    raw = b"".join(p.read_bytes() for p in Path(env["GTOKEN_HOME"]).glob("store.sqlite3*"))
    assert authorized_user["refresh_token"].encode() not in raw
    assert token.encode() not in raw


def test_gclouds_file_under_home(emulator, env, authorized_user) -> None:
    path = write(gcloud_path(env), authorized_user)
    creds = gtoken.credentials(["gmail.readonly"], env=env)
    assert (
        creds.source == f"gcloud's application default credentials {path} (authorized_user, {ADA})"
    )
    assert tokeninfo(emulator, fetched(creds))["email"] == ADA


def test_gclouds_file_in_cloudsdk_config(env, tmp_path, authorized_user, service_key) -> None:
    write(gcloud_path(env), service_key)  # under HOME: not looked at
    config = tmp_path / "gcloud-config"
    path = write(config / "application_default_credentials.json", authorized_user)
    creds = gtoken.credentials(["gmail.readonly"], env={**env, "CLOUDSDK_CONFIG": str(config)})
    assert creds.source.startswith(f"gcloud's application default credentials {path} ")


def test_the_variable_comes_before_gclouds_file(
    env, tmp_path, authorized_user, service_key
) -> None:
    write(gcloud_path(env), authorized_user)
    path = write(tmp_path / "key.json", service_key)
    creds = gtoken.credentials(["drive.file"], env={**env, VAR: str(path)})
    assert creds.source.startswith(f"{VAR}={path} (service account ")


def test_a_signed_in_account_comes_before_them_all(
    emulator, env, tmp_path, client, grant, stored_accounts, service_key
) -> None:
    token = parse_token_response(
        200, {}, json.dumps(grant), grant="authorization_code", now=datetime.now(UTC)
    )
    stored_accounts.add(ClientSecrets.from_json(client), token)
    path = write(tmp_path / "key.json", service_key)
    creds = gtoken.credentials(["gmail.readonly"], env={**env, VAR: str(path)})
    assert creds.source.startswith("gtoken store ")
    assert ADA in creds.source
    assert tokeninfo(emulator, fetched(creds))["email"] == ADA
    assert stats(emulator).get("jwt_bearer", 0) == 0


def test_nothing_found_names_every_place_and_both_fixes(env) -> None:
    with pytest.raises(ConsentRequired) as caught:
        gtoken.credentials(["gmail.readonly"], env=env)
    message = str(caught.value)
    assert str(Path(env["GTOKEN_HOME"]) / "store.sqlite3") in message
    assert f"{VAR} (not set)" in message
    assert f"{gcloud_path(env)} (not there)" in message
    assert "gtoken login" in message
    assert f"set {VAR} to a service-account key file" in message


def test_nothing_found_without_home_says_so(env) -> None:
    del env["HOME"]
    with pytest.raises(ConsentRequired, match="neither CLOUDSDK_CONFIG nor HOME is set"):
        gtoken.credentials(["gmail.readonly"], env=env)


def test_the_source_is_logged_once_at_info(env, tmp_path, service_key, caplog) -> None:
    path = write(tmp_path / "key.json", service_key)
    caplog.set_level(logging.INFO, logger="gtoken")  # the handler too, which conftest left higher
    caplog.clear()
    creds = gtoken.credentials(["drive.file"], env={**env, VAR: str(path)})
    lines = [r for r in caplog.records if r.name == "gtoken" and r.levelno == logging.INFO]
    assert [r.getMessage() for r in lines] == [
        f"gtoken: using Application Default Credentials from {creds.source}"
    ]


# -- an authorized_user file, used where it lies ---------------------------------------------------


def test_its_access_token_is_shared_by_later_callers(emulator, env, tmp_path, authorized_user):
    path = write(tmp_path / "adc.json", authorized_user)
    first = gtoken.credentials(["gmail.readonly"], env={**env, VAR: str(path)})
    first.refresh(None)
    with Accounts(env=env) as fresh_process:  # another process, the same store
        from gtoken.service_accounts.adc import default_source

        source = default_source(fresh_process, ["gmail.readonly"], {**env, VAR: str(path)})
        assert source.fresh(min_ttl=120).access_token == first.token
    assert stats(emulator)["refresh_token"] == 1


def test_a_scope_it_lacks_is_a_clear_error_with_the_gcloud_command(env, authorized_user) -> None:
    write(gcloud_path(env), authorized_user)
    creds = gtoken.credentials(["gmail.readonly", "drive.file"], env=env)
    with pytest.raises(ScopeNotGranted) as caught:
        creds.refresh(None)
    assert caught.value.missing == {AUTH + "drive.file"}
    message = str(caught.value)
    assert "gcloud auth application-default login --scopes=" in message
    assert AUTH + "drive.file" in message


def test_a_dead_refresh_token_asks_to_sign_in_again_and_changes_nothing(
    emulator, env, authorized_user
) -> None:
    path = write(gcloud_path(env), authorized_user)
    before = path.read_bytes()
    emulator.revoke_user(ADA)
    creds = gtoken.credentials(["gmail.readonly"], env=env)
    with pytest.raises(ConsentRequired) as caught:
        creds.refresh(None)
    message = str(caught.value)
    assert str(path) in message
    assert "gcloud auth application-default login" in message
    assert path.read_bytes() == before


# -- bad settings ---------------------------------------------------------------------------------


def test_a_variable_naming_no_file_is_an_error(env, tmp_path, authorized_user) -> None:
    write(gcloud_path(env), authorized_user)  # not a quiet fall-through to this
    missing = tmp_path / "typo.json"
    with pytest.raises(ConfigError) as caught:
        gtoken.credentials(["gmail.readonly"], env={**env, VAR: str(missing)})
    assert f"{VAR} is set to {str(missing)!r}, which is not a file" in str(caught.value)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ({"installed": {"client_id": "c", "client_secret": "s"}}, "is an OAuth client"),
        ({"type": "external_account"}, "credentials of 'external_account'"),
        ({"refresh_token": "r"}, "credentials of no type"),
    ],
)
def test_a_file_of_another_kind_is_named(env, tmp_path, content, expected) -> None:
    path = write(tmp_path / "creds.json", content)
    with pytest.raises(ConfigError) as caught:
        gtoken.credentials(["gmail.readonly"], env={**env, VAR: str(path)})
    assert str(path) in str(caught.value)
    assert expected in str(caught.value)


def test_a_service_account_without_scopes_is_a_usage_error(env, tmp_path, service_key) -> None:
    path = write(tmp_path / "key.json", service_key)
    with pytest.raises(ValueError, match="service-account key"):
        gtoken.credentials([], env={**env, VAR: str(path)})
