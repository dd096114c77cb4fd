"""Service accounts: key files read safely, assertions signed right, tokens fetched once per expiry
and stored sealed, Google's refusals explained; against the emulator, whose clock gtoken's follows.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

import gtoken
from gtoken.accounts import Accounts
from gtoken.emulator.client import Emulator
from gtoken.errors import ConfigError, InvalidGrant, UnauthorizedClient
from gtoken.oauth.endpoints import TOKEN_URI
from gtoken.service_accounts import (
    KEY_NAMESPACE,
    ServiceAccountKey,
    ServiceAccounts,
    load_key,
    sign_assertion,
)

AUTH = "https://www.googleapis.com/auth/"
GMAIL_RO = AUTH + "gmail.readonly"
DRIVE_FILE = AUTH + "drive.file"
ADA = "ada@example.com"


@pytest.fixture
def robots(accounts: Accounts) -> ServiceAccounts:
    return ServiceAccounts.of(accounts)


@pytest.fixture
def key_info(emulator: Emulator) -> dict[str, Any]:
    """A service account allowed to act as Workspace users for gmail.readonly, and one user."""
    emulator.create_user(ADA)
    return emulator.create_service_account(delegation_scopes=["gmail.readonly"])


@pytest.fixture
def key_file(tmp_path: Path, key_info: dict[str, Any]) -> Path:
    path = tmp_path / "key.json"
    path.write_text(json.dumps(key_info))
    return path


def jwt_bearers(emulator: Emulator) -> int:
    return int(emulator.stats()["token"].get("jwt_bearer", 0))


def tokeninfo(emulator: Emulator, access_token: str) -> dict[str, Any]:
    response = httpx.post(f"{emulator.url}/tokeninfo", data={"access_token": access_token})
    assert response.status_code == 200
    info: dict[str, Any] = response.json()
    return info


def pem_lines(info: dict[str, Any]) -> list[str]:
    """The base64 lines of the key's PEM body: none of them may show anywhere."""
    return [line for line in info["private_key"].splitlines() if "-----" not in line and line]


def assert_no_key(text: str, info: dict[str, Any]) -> None:
    assert not [line for line in pem_lines(info) if line in text]


# -- tokens ---------------------------------------------------------------------------------------


def test_a_service_account_gets_a_token_of_its_own(emulator, robots, key_info) -> None:
    token = robots.token(load_key(key_info), ["drive.file"])
    info = tokeninfo(emulator, token.access_token)
    assert info["email"] == key_info["client_email"]
    assert info["scope"] == DRIVE_FILE
    assert token.scopes == {DRIVE_FILE}


def test_a_delegated_token_acts_as_the_subject(emulator, robots, key_info) -> None:
    token = robots.token(load_key(key_info), ["gmail.readonly"], subject=ADA)
    info = tokeninfo(emulator, token.access_token)
    assert info["email"] == ADA
    assert info["scope"] == GMAIL_RO


def test_the_token_is_cached_for_every_caller_of_the_store(emulator, env, key_file) -> None:
    first = gtoken.credentials(["gmail.readonly"], service_account=key_file, subject=ADA, env=env)
    first.refresh(None)
    second = gtoken.credentials(["gmail.readonly"], service_account=key_file, subject=ADA, env=env)
    second.refresh(None)
    with Accounts(env=env) as other:  # as another process sees the store
        again = ServiceAccounts.of(other).token(load_key(key_file), [GMAIL_RO], subject=ADA)
    assert first.token == second.token == again.access_token
    assert jwt_bearers(emulator) == 1


def test_subjects_and_scopes_are_cached_apart(emulator, robots, key_info) -> None:
    key = load_key(key_info)
    as_ada = robots.token(key, ["gmail.readonly"], subject=ADA)
    as_itself = robots.token(key, ["gmail.readonly"])
    wider = robots.token(key, ["gmail.readonly", "drive.file"])
    assert len({as_ada.access_token, as_itself.access_token, wider.access_token}) == 3
    assert robots.token(key, ["drive.file", "gmail.readonly"]) == wider  # order does not matter
    assert jwt_bearers(emulator) == 3


def test_an_expiring_token_is_fetched_again(emulator, robots, key_info, clock) -> None:
    key = load_key(key_info)
    first = robots.token(key, ["gmail.readonly"], subject=ADA)
    clock.advance(3000)
    assert robots.token(key, ["gmail.readonly"], subject=ADA) == first
    clock.advance(3600 - 3000 - 60)  # within min_ttl of its expiry
    fresh = robots.token(key, ["gmail.readonly"], subject=ADA)
    assert fresh.access_token != first.access_token
    assert tokeninfo(emulator, fresh.access_token)["email"] == ADA
    assert jwt_bearers(emulator) == 2


def test_a_token_an_api_refused_is_replaced(emulator, env, key_file) -> None:
    creds = gtoken.credentials(["gmail.readonly"], service_account=key_file, subject=ADA, env=env)
    creds.refresh(None)
    refused = creds.token
    creds.refresh(None)  # what AuthorizedSession does after a 401
    assert creds.token != refused
    assert jwt_bearers(emulator) == 2


def test_threads_share_one_request(emulator, robots, key_info) -> None:
    key = load_key(key_info)
    barrier = threading.Barrier(16)
    results: list[str] = []

    def ask() -> None:
        barrier.wait()
        results.append(robots.token(key, ["gmail.readonly"], subject=ADA).access_token)

    threads = [threading.Thread(target=ask) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 16
    assert len(set(results)) == 1
    assert jwt_bearers(emulator) == 1


STORM = textwrap.dedent(
    """
    import hashlib, sys, threading, time
    import gtoken
    env = {"GTOKEN_HOME": sys.argv[1], "GTOKEN_EMULATOR_HOST": sys.argv[2]}
    key_file, start = sys.argv[3], float(sys.argv[4])
    out = []
    def ask():
        creds = gtoken.credentials(
            ["gmail.readonly"], service_account=key_file, subject="ada@example.com", env=env
        )
        creds.refresh(None)
        out.append(hashlib.sha256(creds.token.encode()).hexdigest())
    threads = [threading.Thread(target=ask) for _ in range(4)]
    time.sleep(max(0.0, start - time.time()))
    for t in threads: t.start()
    for t in threads: t.join()
    print("\\n".join(out))
    """
)


def test_processes_share_one_request(emulator, env, key_file) -> None:
    gtoken.credentials(["gmail.readonly"], service_account=key_file, subject=ADA, env=env)
    start = time.time() + 1.5
    argv = [env["GTOKEN_HOME"], emulator.host, str(key_file), str(start)]
    procs = [
        subprocess.Popen([sys.executable, "-c", STORM, *argv], stdout=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    digests = [line for p in procs for line in p.communicate(timeout=60)[0].split()]
    assert all(p.returncode == 0 for p in procs)
    assert len(digests) == 16
    assert len(set(digests)) == 1
    assert jwt_bearers(emulator) == 1


def test_gmail_labels_as_a_delegated_user(emulator, env, key_file) -> None:
    gmail = gtoken.build(
        "gmail", "v1", scopes=["gmail.readonly"], service_account=key_file, subject=ADA, env=env
    )
    labels = gmail.users().labels().list(userId="me").execute()["labels"]
    assert "INBOX" in {label["id"] for label in labels}
    profile = gmail.users().getProfile(userId="me").execute()
    assert profile["emailAddress"] == ADA


def test_the_credentials_say_where_they_come_from(env, key_file, key_info) -> None:
    creds = gtoken.credentials(["gmail.readonly"], service_account=key_file, subject=ADA, env=env)
    assert isinstance(creds, gtoken.Credentials)
    assert creds.source == f"service account {key_info['client_email']} from {key_file}"
    assert creds.account == ADA
    creds.refresh(None)
    assert creds.granted_scopes == {GMAIL_RO}
    assert isinstance(creds.token, str)
    assert creds.token not in repr(creds)
    assert_no_key(repr(creds), key_info)


# -- the store ------------------------------------------------------------------------------------


def test_the_key_and_token_are_stored_sealed(env, robots, key_info) -> None:
    token = robots.token(load_key(key_info), ["gmail.readonly"], subject=ADA)
    home = Path(env["GTOKEN_HOME"])
    raw = b"".join(p.read_bytes() for p in home.glob("store.sqlite3*"))
    assert token.access_token.encode() not in raw
    assert not [line for line in pem_lines(key_info) if line.encode() in raw]
    name = f"{key_info['client_email']} {key_info['private_key_id']}"
    stored = robots.store.kv_get(KEY_NAMESPACE, name)  # there, and only sealed
    assert stored is not None
    assert json.loads(stored)["private_key"] == key_info["private_key"]


def test_tokens_are_signed_with_the_stored_key(emulator, robots, key_info) -> None:
    source = robots.source(load_key(key_info), ["gmail.readonly"], subject=ADA)
    assert_no_key(repr(vars(source)), key_info)  # the source holds a reference only
    assert tokeninfo(emulator, source.fresh().access_token)["email"] == ADA


# -- Google's refusals ----------------------------------------------------------------------------


def test_delegation_refused_names_the_client_id_and_the_scopes(emulator, robots, key_info) -> None:
    with pytest.raises(UnauthorizedClient) as caught:
        robots.token(load_key(key_info), ["gmail.readonly", "drive.file"], subject=ADA)
    message = str(caught.value)
    assert "Domain-wide delegation is not allowed" in message
    assert f"client id {key_info['client_id']}" in message
    assert f"{DRIVE_FILE},{GMAIL_RO}" in message  # as the Admin console wants them
    assert "Security > API controls > Domain-wide delegation" in message
    assert ADA in message
    assert isinstance(caught.value, gtoken.ConfigError)
    assert_no_key(message, key_info)


def test_delegation_refused_through_googleapiclient_is_the_same_error(env, key_file) -> None:
    gmail = gtoken.build(
        "gmail", "v1", scopes=["gmail.modify"], service_account=key_file, subject=ADA, env=env
    )
    with pytest.raises(UnauthorizedClient, match=r"gmail\.modify"):
        gmail.users().labels().list(userId="me").execute()


def test_a_subject_that_is_no_user_is_named(robots, key_info) -> None:
    with pytest.raises(InvalidGrant) as caught:
        robots.token(load_key(key_info), ["gmail.readonly"], subject="nobody@example.com")
    message = str(caught.value)
    assert "nobody@example.com is not a user" in message
    assert "Invalid email or User ID" in message
    assert "primary email address" in message


def test_a_key_that_is_not_the_accounts_says_deleted_or_rotated(emulator, robots, key_info) -> None:
    other = emulator.create_service_account()
    wrong = {**other, "client_email": key_info["client_email"]}
    with pytest.raises(InvalidGrant) as caught:
        robots.token(load_key(wrong), ["drive.file"])
    message = str(caught.value)
    assert "Invalid JWT Signature" in message
    assert f"key {other['private_key_id']} of {key_info['client_email']}" in message
    assert "deleted, disabled or rotated" in message
    assert "Keys > Add key" in message
    assert_no_key(message, other)
    assert_no_key(message, key_info)


def test_a_stale_clock_is_explained_with_both_times(emulator, env, key_file) -> None:
    emulator.advance(2 * 3600)  # gtoken's clock stays behind: its JWT is 2 h old to Google
    creds = gtoken.credentials(["drive.file"], service_account=key_file, env=env)
    with pytest.raises(InvalidGrant) as caught:
        creds.refresh(None)
    message = str(caught.value)
    assert "this machine's clock is probably wrong" in message
    assert "this machine's time is 20" in message
    assert "Date header" in message
    assert "timedatectl" in message
    assert caught.value.likely_causes


# -- key files ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def local_key() -> dict[str, Any]:
    """A service-account key made here, for what needs no Google."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return {
        "type": "service_account",
        "project_id": "demo",
        "private_key_id": "0123456789abcdef0123456789abcdef01234567",
        "private_key": pem,
        "client_email": "robot@demo.iam.gserviceaccount.com",
        "client_id": "100000000000000000001",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": TOKEN_URI,
        "universe_domain": "googleapis.com",
    }


def decode(part: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def test_the_assertion_is_what_google_documents(local_key) -> None:
    key = load_key(local_key)
    jwt = sign_assertion(key, scopes=[GMAIL_RO, "email"], now=1_700_000_000.7, subject=ADA)
    header, claims, signature = jwt.split(".")
    assert decode(header) == {"alg": "RS256", "typ": "JWT", "kid": local_key["private_key_id"]}
    assert decode(claims) == {
        "iss": local_key["client_email"],
        "scope": f"email {GMAIL_RO}",
        "aud": TOKEN_URI,
        "iat": 1_700_000_000,
        "exp": 1_700_003_600,
        "sub": ADA,
    }
    public = serialization.load_pem_private_key(local_key["private_key"].encode(), None)
    assert isinstance(public, rsa.RSAPrivateKey)
    public.public_key().verify(
        base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)),
        f"{header}.{claims}".encode(),
        padding.PKCS1v15(),
        hashes.SHA256(),
    )
    without = sign_assertion(key, scopes=[GMAIL_RO], now=1_700_000_000)
    assert "sub" not in decode(without.split(".")[1])


def test_no_scopes_is_a_usage_error(local_key, env) -> None:
    with pytest.raises(ValueError, match="at least one scope"):
        sign_assertion(load_key(local_key), scopes=[], now=0)
    with pytest.raises(ValueError, match="at least one scope"):
        gtoken.credentials([], service_account=local_key, env=env)


def test_a_key_file_is_read_as_downloaded(tmp_path: Path, local_key) -> None:
    path = tmp_path / "key.json"
    path.write_text(json.dumps(local_key))
    key = load_key(path)
    assert key == load_key(str(path))
    assert key.client_email == local_key["client_email"]
    assert key.private_key_id == local_key["private_key_id"]
    assert key.client_id == local_key["client_id"]
    assert key.token_uri == TOKEN_URI
    assert key.source == str(path)
    assert load_key(local_key).source == "the key JSON given"
    assert_no_key(repr(key) + str(key), local_key)


def client_secret_json() -> dict[str, Any]:
    return {"installed": {"client_id": "1-a.apps.googleusercontent.com", "client_secret": "x"}}


def authorized_user_json() -> dict[str, Any]:
    return {"type": "authorized_user", "client_id": "c", "client_secret": "s", "refresh_token": "r"}


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (client_secret_json(), "is an OAuth client (client_secret.json), not a service-account"),
        (authorized_user_json(), "is an authorized_user file"),
        ({"type": "external_account"}, "credentials of type 'external_account'"),
        ({"client_email": "a@b"}, "has no type field"),
        ([1, 2], "is JSON but not an object"),
    ],
)
def test_other_files_are_refused_and_named(tmp_path: Path, content: Any, expected: str) -> None:
    path = tmp_path / "given.json"
    path.write_text(json.dumps(content))
    with pytest.raises(ConfigError) as caught:
        load_key(path)
    assert str(path) in str(caught.value)
    assert expected in str(caught.value)


def test_a_file_that_is_not_json_shows_none_of_its_text(tmp_path: Path, local_key) -> None:
    path = tmp_path / "key.json"
    path.write_text(json.dumps(local_key)[:-40])  # cut short
    with pytest.raises(ConfigError, match="is not JSON") as caught:
        load_key(path)
    assert_no_key(str(caught.value), local_key)
    with pytest.raises(ConfigError, match="does not exist"):
        load_key(tmp_path / "missing.json")


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("private_key", None, "lacks private_key"),
        ("private_key", "SECRETMATERIAL-not-a-pem", "private_key that is not a PEM private key"),
        ("private_key", 42, "private_key that is a int"),
        ("client_email", None, "lacks client_email"),
        ("client_email", "robot", "client_email 'robot', which is not an email address"),
        ("private_key_id", "", "lacks private_key_id"),
        ("token_uri", "oauth2.googleapis.com/token", "token_uri 'oauth2.googleapis.com/token'"),
        ("token_uri", "http://oauth2.example.com/token", "which uses plain http to oauth2"),
        ("universe_domain", "example.net", "universe 'example.net'"),
    ],
)
def test_a_bad_field_is_named_and_its_key_never_shown(
    local_key, field: str, value: Any, expected: str
) -> None:
    broken = {**local_key, field: value}
    with pytest.raises(ConfigError) as caught:
        load_key(broken)
    message = str(caught.value)
    assert expected in message
    assert "SECRETMATERIAL" not in message
    assert_no_key(message, local_key)


def test_a_pem_that_is_no_rsa_key_is_refused_when_signing(local_key) -> None:
    lines = local_key["private_key"].splitlines()
    body = lines[1:-1]
    garbled = "\n".join([lines[0], *reversed(body[:-1]), body[-1], lines[-1]]) + "\n"
    key = ServiceAccountKey.from_info({**local_key, "private_key": garbled}, source="k.json")
    with pytest.raises(ConfigError, match="not a usable unencrypted RSA private key") as caught:
        sign_assertion(key, scopes=[GMAIL_RO], now=0)
    assert_no_key(str(caught.value), local_key)
    assert_no_key(str(caught.value), {"private_key": garbled})


def test_misuse_of_the_arguments_is_a_usage_error(env, local_key) -> None:
    with pytest.raises(ValueError, match="subject"):
        gtoken.credentials(["gmail.readonly"], subject=ADA, env=env)
    with pytest.raises(ValueError, match="not both"):
        gtoken.credentials(
            ["gmail.readonly"],
            service_account=local_key,
            client_secrets=client_secret_json(),
            env=env,
        )
    with pytest.raises(TypeError, match="service_account"):
        load_key(42)  # type: ignore[arg-type]


def test_stored_keys_are_told_apart_by_their_id(robots, emulator, key_info) -> None:
    # A rotated key of the same account is a second stored key, not a replacement.
    digest = hashlib.sha256(b"rotated").hexdigest()[:40]
    rotated = {**key_info, "private_key_id": digest}
    robots.remember(load_key(key_info))
    robots.remember(load_key(rotated))
    names = [f"{key_info['client_email']} {k}" for k in (key_info["private_key_id"], digest)]
    assert all(robots.store.kv_get(KEY_NAMESPACE, name) for name in names)
