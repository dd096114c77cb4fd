"""Starting and finishing a user's consent: state, PKCE, redirect URIs, the ID token, and what is
kept when Google sends no refresh token. Each test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

import gtoken
from gtoken.emulator.client import Emulator
from gtoken.errors import AccessDenied, ConfigError, InvalidGrant, ProtocolError, StateError
from gtoken.vault import Vault
from gtoken.vault.storage import Storage
from tests.support import Clock, login
from tests.vault.conftest import CALLBACK, connect, consent_redirect

GMAIL = "https://www.googleapis.com/auth/gmail.readonly"
DRIVE = "https://www.googleapis.com/auth/drive.readonly"


def stored(vault: Vault, user_id: str) -> Any:
    """The connection's row as stored, secrets opened (the vault's own storage, same keys)."""
    storage: Storage = vault._storage
    return storage.get(vault._client_id(None), user_id)


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def test_a_user_connects_and_the_app_gets_tokens(emulator: Emulator, vault: Vault) -> None:
    conn = connect(emulator, vault, "user-42", "ada@example.com", ["gmail.readonly"])
    assert (conn.user_id, conn.email, conn.status) == ("user-42", "ada@example.com", "active")
    assert GMAIL in conn.scopes
    token = vault.access_token("user-42")
    labels = httpx.get(
        f"{emulator.url}/gmail/v1/users/me/labels", headers={"Authorization": f"Bearer {token}"}
    )
    assert labels.status_code == 200
    assert vault.connection("user-42") == vault.connections()[0]
    assert vault.connection("nobody") is None


def test_the_consent_url_asks_offline_with_pkce_and_keeps_no_secret(vault: Vault) -> None:
    url = vault.authorization_url("user-42", ["gmail.readonly"], login_hint="ada@example.com")
    asked = query(url)
    assert asked["access_type"] == ["offline"]
    assert asked["code_challenge_method"] == ["S256"]
    assert asked["include_granted_scopes"] == ["true"]
    assert asked["redirect_uri"] == [CALLBACK]
    assert asked["login_hint"] == ["ada@example.com"]
    assert {"openid", "email"} <= set(asked["scope"][0].split())
    assert "code_verifier" not in asked
    assert "prompt" not in asked


def test_a_used_state_is_refused(emulator: Emulator, vault: Vault) -> None:
    emulator.create_user("ada@example.com")
    emulator.consent_auto(email="ada@example.com")
    callback = consent_redirect(vault.authorization_url("user-42", ["gmail.readonly"]))
    first = vault.complete(callback)
    with pytest.raises(StateError, match="already used"):
        vault.complete(callback)
    assert vault.connection("user-42") == first


def test_an_expired_state_is_refused(emulator: Emulator, vault: Vault, clock: Clock) -> None:
    emulator.create_user("ada@example.com")
    emulator.consent_auto(email="ada@example.com")
    callback = consent_redirect(vault.authorization_url("user-42", ["gmail.readonly"]))
    clock.offset += 601  # gtoken's clock only: the code itself is still good at the emulator
    with pytest.raises(StateError, match="expired"):
        vault.complete(callback)
    assert vault.connection("user-42") is None


def test_a_state_that_was_never_issued_is_refused(emulator: Emulator, vault: Vault) -> None:
    emulator.create_user("ada@example.com")
    emulator.consent_auto(email="ada@example.com")
    callback = consent_redirect(vault.authorization_url("user-42", ["gmail.readonly"]))
    forged = callback.replace("state=", "state=x")
    with pytest.raises(StateError, match="never issued"):
        vault.complete(forged)
    with pytest.raises(StateError, match="no state"):
        vault.complete(CALLBACK + "?code=4/0Aabc")
    assert vault.connection("user-42") is None


def test_another_users_state_is_refused_and_left_for_them(emulator: Emulator, vault: Vault) -> None:
    emulator.create_user("ada@example.com")
    emulator.consent_auto(email="ada@example.com")
    callback = consent_redirect(vault.authorization_url("user-42", ["gmail.readonly"]))
    with pytest.raises(StateError, match="another user"):
        vault.complete(callback, user_id="user-666")
    assert vault.connection("user-666") is None
    assert vault.complete(callback, user_id="user-42").status == "active"


def test_pkce_binds_the_code_to_its_own_consent(emulator: Emulator, vault: Vault) -> None:
    # An attacker's code injected into a victim's callback: the victim's verifier does not fit.
    emulator.create_user("mallory@example.com")
    emulator.consent_auto(email="mallory@example.com")
    attacker = consent_redirect(vault.authorization_url("mallory", ["gmail.readonly"]))
    victim = consent_redirect(vault.authorization_url("victim", ["gmail.readonly"]))
    code = query(attacker)["code"][0]
    state = query(victim)["state"][0]
    with pytest.raises(InvalidGrant):
        vault.complete(f"{CALLBACK}?state={state}&code={code}")
    assert vault.connection("victim") is None


def test_a_declined_consent_stores_nothing(emulator: Emulator, vault: Vault) -> None:
    emulator.create_user("ada@example.com")
    emulator.consent_auto(email="ada@example.com", grant="deny")
    callback = consent_redirect(vault.authorization_url("user-42", ["gmail.readonly"]))
    with pytest.raises(AccessDenied):
        vault.complete(callback)
    assert vault.connection("user-42") is None


def test_a_redirect_uri_not_registered_is_refused(
    emulator: Emulator, open_vault: Callable[..., Vault], web_client: dict[str, Any]
) -> None:
    with pytest.raises(ConfigError, match="not registered"):
        open_vault(redirect_uri="https://evil.example/steal")
    vault = open_vault()
    with pytest.raises(ConfigError, match="not registered"):
        vault.authorization_url("user-42", ["gmail.readonly"], redirect_uri="https://evil.example/")
    # A client file that lists a URI Google does not have: Google's page refuses, and redirects
    # nowhere.
    listed = {"web": {**web_client["web"], "redirect_uris": ["https://elsewhere.example/cb"]}}
    other = open_vault(client_secrets=listed, redirect_uri="https://elsewhere.example/cb")
    emulator.create_user("ada@example.com")
    emulator.consent_auto(email="ada@example.com")
    page = httpx.get(other.authorization_url("user-42", ["gmail.readonly"]))
    assert page.status_code == 400
    assert "location" not in page.headers
    assert "redirect_uri_mismatch" in page.text


def test_a_desktop_client_is_refused(emulator: Emulator, open_vault: Callable[..., Vault]) -> None:
    with pytest.raises(ConfigError, match="Web application"):
        open_vault(client_secrets=emulator.create_client(type="installed"))


def test_a_second_consent_without_refresh_token_keeps_the_stored_one(
    emulator: Emulator, vault: Vault
) -> None:
    connect(emulator, vault, "user-42", "ada@example.com")
    first = stored(vault, "user-42").refresh_token
    # Google sends a refresh token at the first consent only.
    again = connect(emulator, vault, "user-42", "ada@example.com")
    assert again.status == "active"
    assert again.consent_url is None
    assert stored(vault, "user-42").refresh_token == first
    assert vault.token("user-42", min_ttl=3599 + 1).refresh_token == first  # refreshed with it


def test_no_refresh_token_anywhere_hands_back_a_prompt_consent_url(
    emulator: Emulator, vault: Vault
) -> None:
    connect(emulator, vault, "user-42", "ada@example.com")
    vault.forget("user-42")  # the app lost it; Google still has the grant
    conn = connect(emulator, vault, "user-42", "ada@example.com")
    assert conn.status == "needs_consent"
    assert conn.consent_url is not None
    assert query(conn.consent_url)["prompt"] == ["consent"]
    with pytest.raises(gtoken.ConsentRequired) as raised:
        vault.access_token("user-42")
    assert raised.value.url is not None
    assert "prompt=consent" in raised.value.url
    fixed = vault.complete(consent_redirect(conn.consent_url))
    assert fixed.status == "active"
    assert stored(vault, "user-42").refresh_token


def test_granular_then_incremental_consent(emulator: Emulator, vault: Vault) -> None:
    conn = connect(
        emulator,
        vault,
        "user-42",
        "ada@example.com",
        ["gmail.readonly", "drive.readonly"],
        grant=["gmail.readonly"],
    )
    assert conn.status == "active"
    assert GMAIL in conn.scopes
    assert DRIVE not in conn.scopes
    token = stored(vault, "user-42").refresh_token
    vault.access_token("user-42", scopes=["gmail.readonly"])
    with pytest.raises(gtoken.ConsentRequired, match=r"drive\.readonly") as raised:
        vault.access_token("user-42", scopes=["drive.readonly"])
    url = raised.value.url
    assert url is not None
    assert DRIVE in query(url)["scope"][0]
    assert query(url)["include_granted_scopes"] == ["true"]
    assert vault.connection("user-42").status == "active"  # type: ignore[union-attr]
    emulator.consent_auto(email="ada@example.com", grant="all")
    more = vault.complete(consent_redirect(url))
    assert {GMAIL, DRIVE} <= more.scopes
    assert stored(vault, "user-42").refresh_token  # still one, whichever Google sent
    assert token
    assert vault.access_token("user-42", scopes=["drive.readonly", "gmail.readonly"])


def test_the_id_token_must_be_googles(
    emulator: Emulator, vault: Vault, web_client: dict[str, Any]
) -> None:
    verifier = vault._ids
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    client_id = vault._client_id(None)
    claims = {
        "iss": "https://accounts.google.com",
        "aud": client_id,
        "sub": "1",
        "iat": 0,
        "exp": 2**40,
        "nonce": "n",
    }
    forged = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "forged"})
    with pytest.raises(ProtocolError, match="not issued by Google"):
        verifier.verify(forged, audience=client_id, nonce="n")
    emulator.create_user("ada@example.com")
    emulator.consent_auto(email="ada@example.com")
    # A genuine ID token answers only its own consent's nonce, and its own client.
    answer = login(emulator, web_client, "openid email", redirect_uri=CALLBACK, nonce="mine")
    id_token = answer["id_token"]
    assert verifier.verify(id_token, audience=client_id, nonce="mine")["email"] == "ada@example.com"
    with pytest.raises(ProtocolError, match="nonce"):
        verifier.verify(id_token, audience=client_id, nonce="another")
    with pytest.raises(ProtocolError, match="verification"):
        verifier.verify(id_token, audience="someone-else", nonce="mine")
