"""Using a connection: tokens and Credentials, what happens when Google ends a grant, passing
failures, revocation, events. Each test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from google.auth.transport.requests import AuthorizedSession

import gtoken
from gtoken.emulator.client import Emulator
from gtoken.vault import Event, Vault
from tests.support import Clock, login
from tests.vault.conftest import CALLBACK, connect, consent_redirect

HOUR = 3600
GMAIL_SCOPE = "https://www.googleapis.com/auth/gmail.readonly"


def refreshes(emulator: Emulator) -> int:
    count: int = emulator.stats()["token"].get("refresh_token", 0)
    return count


def collect(vault: Vault) -> list[tuple[str, str, str | None]]:
    seen: list[tuple[str, str, str | None]] = []
    vault.on(lambda e: seen.append((e.kind, e.user_id, e.reason)))
    return seen


def test_a_valid_token_is_handed_out_without_asking_google(
    emulator: Emulator, vault: Vault
) -> None:
    connect(emulator, vault, "user-42", "ada@example.com")
    first = vault.access_token("user-42")
    assert [vault.access_token("user-42") for _ in range(20)] == [first] * 20
    assert refreshes(emulator) == 0


def test_an_expiring_token_is_refreshed_once(
    emulator: Emulator, vault: Vault, clock: Clock
) -> None:
    connect(emulator, vault, "user-42", "ada@example.com")
    old = vault.access_token("user-42")
    clock.advance(HOUR - 30)
    new = vault.access_token("user-42", min_ttl=60)
    assert new != old
    assert vault.access_token("user-42", min_ttl=60) == new
    assert refreshes(emulator) == 1


def test_credentials_work_with_google_auth(emulator: Emulator, vault: Vault, clock: Clock) -> None:
    connect(emulator, vault, "user-42", "ada@example.com")
    creds = vault.credentials("user-42", scopes=["gmail.readonly"])
    session = AuthorizedSession(creds)  # type: ignore[no-untyped-call]
    url = f"{emulator.url}/gmail/v1/users/me/labels"
    assert session.get(url).status_code == 200
    clock.advance(2 * HOUR)
    assert session.get(url).status_code == 200  # refreshed through the vault
    assert refreshes(emulator) == 1
    assert "user-42" in repr(creds)
    assert str(creds.token) not in repr(creds)


def test_a_user_who_never_connected_needs_consent(vault: Vault) -> None:
    with pytest.raises(gtoken.ConsentRequired, match="not connected") as raised:
        vault.access_token("stranger", scopes=["gmail.readonly"])
    assert raised.value.url is not None
    assert "include_granted_scopes=true" in raised.value.url
    with pytest.raises(gtoken.ConsentRequired) as bare:
        vault.access_token("stranger")
    assert bare.value.url is None


@pytest.mark.parametrize(
    ("end", "cause"),
    [
        ("revoke", "removed this app's access"),
        ("password", "changed their password"),
        ("unused", "not used for 6 months"),
        ("too_many", "more than 100 refresh tokens"),
    ],
)
def test_when_google_ends_the_grant_the_user_is_sent_to_consent(
    emulator: Emulator,
    vault: Vault,
    clock: Clock,
    web_client: dict[str, Any],
    end: str,
    cause: str,
) -> None:
    seen = collect(vault)
    connect(emulator, vault, "user-42", "ada@example.com")
    if end == "revoke":
        emulator.revoke_user("ada@example.com")
    elif end == "password":
        emulator.change_password("ada@example.com")
    elif end == "too_many":
        # Google keeps a bounded number of refresh tokens per account and client (100): one
        # more consent elsewhere, with a limit of 1, drops the vault's.
        emulator.configure(refresh_token_limit=1)
        login(
            emulator,
            web_client,
            GMAIL_SCOPE,
            redirect_uri=CALLBACK,
            prompt="consent",
            access_type="offline",
        )
    clock.advance(2 * HOUR if end != "unused" else 183 * 86400)
    with pytest.raises(gtoken.ConsentRequired, match=cause) as raised:
        vault.access_token("user-42")
    assert raised.value.url is not None
    assert "prompt=consent" in raised.value.url
    assert "login_hint=ada%40example.com" in raised.value.url
    conn = vault.connection("user-42")
    assert conn is not None
    assert conn.status == "needs_consent"
    assert conn.status_reason
    assert cause in conn.status_reason
    assert vault.connections(status="needs_consent") == [conn]
    # Asking again does not bother Google: the connection is known to need consent.
    before = refreshes(emulator)
    with pytest.raises(gtoken.ConsentRequired):
        vault.access_token("user-42")
    assert refreshes(emulator) == before
    # The user comes back; the connection is active again.
    fixed = vault.complete(consent_redirect(raised.value.url))
    assert fixed.status == "active"
    assert vault.access_token("user-42")
    assert [k for k, _, _ in seen] == ["connected", "needs_consent", "recovered"]


def test_a_testing_apps_grant_ends_after_7_days(
    emulator: Emulator, open_vault: Callable[..., Vault], clock: Clock
) -> None:
    client = emulator.create_client(
        type="web", redirect_uris=[CALLBACK], publishing_status="testing"
    )
    vault = open_vault(client_secrets=client)
    connect(emulator, vault, "user-42", "ada@example.com")
    clock.advance(7 * 86400 + 60)
    with pytest.raises(gtoken.ConsentRequired, match="7 days") as raised:
        vault.access_token("user-42")
    assert raised.value.url


def test_503_then_429_then_success_marks_no_one(
    emulator: Emulator, vault: Vault, clock: Clock
) -> None:
    seen = collect(vault)
    connect(emulator, vault, "user-42", "ada@example.com")
    clock.advance(2 * HOUR)
    emulator.fault("token", status=503, count=1)
    emulator.fault("token", status=429, count=1)
    assert vault.access_token("user-42")
    assert vault.connection("user-42").status == "active"  # type: ignore[union-attr]
    assert [k for k, _, _ in seen] == ["connected"]


def test_a_lasting_outage_raises_a_retryable_error_and_changes_nothing(
    emulator: Emulator, vault: Vault, clock: Clock
) -> None:
    seen = collect(vault)
    connect(emulator, vault, "user-42", "ada@example.com")
    before = vault.connection("user-42")
    clock.advance(2 * HOUR)
    emulator.fault("token", status=503, count=20)
    with pytest.raises(gtoken.TransientError) as raised:
        vault.access_token("user-42")
    assert raised.value.retryable
    assert vault.connection("user-42") == before
    emulator.clear_faults()
    emulator.fault("token", drop=True, count=20)
    with pytest.raises(gtoken.TransientError):
        vault.access_token("user-42")
    assert vault.connection("user-42") == before
    emulator.clear_faults()
    assert vault.access_token("user-42")
    assert [k for k, _, _ in seen] == ["connected", "refresh_failed", "refresh_failed"]


def test_revoke_revokes_at_google_then_forgets(
    emulator: Emulator, vault: Vault, clock: Clock
) -> None:
    seen = collect(vault)
    connect(emulator, vault, "user-42", "ada@example.com")
    token = vault.access_token("user-42")
    assert vault.revoke("user-42") is True
    assert vault.connection("user-42") is None
    info = emulator._http.get("/tokeninfo", params={"access_token": token})
    assert info.status_code == 400  # dead at Google too
    assert vault.revoke("user-42") is False
    assert [k for k, _, _ in seen] == ["connected", "revoked"]


def test_revoke_of_a_grant_google_already_dropped_still_forgets(
    emulator: Emulator, vault: Vault
) -> None:
    connect(emulator, vault, "user-42", "ada@example.com")
    emulator.revoke_user("ada@example.com")
    assert vault.revoke("user-42") is True
    assert vault.connection("user-42") is None


def test_revoke_that_google_fails_keeps_the_connection(emulator: Emulator, vault: Vault) -> None:
    connect(emulator, vault, "user-42", "ada@example.com")
    emulator.fault("revoke", status=500, count=20)
    with pytest.raises(gtoken.TransientError):
        vault.revoke("user-42")
    assert vault.connection("user-42") is not None


def test_forget_sends_nothing_to_google(emulator: Emulator, vault: Vault) -> None:
    connect(emulator, vault, "user-42", "ada@example.com")
    assert vault.forget("user-42") is True
    assert vault.forget("user-42") is False
    assert vault.connection("user-42") is None
    assert emulator.stats()["endpoints"].get("revoke", 0) == 0


def test_a_failing_event_callback_breaks_nothing(emulator: Emulator, vault: Vault) -> None:
    def broken(event: Event) -> None:
        raise RuntimeError("boom")

    vault.on(broken, "connected")
    assert connect(emulator, vault, "user-42", "ada@example.com").status == "active"
    with pytest.raises(ValueError, match="unknown events"):
        vault.on(broken, "exploded")  # type: ignore[arg-type]


def test_connections_come_in_pages(emulator: Emulator, vault: Vault) -> None:
    rows: list[Any] = [(f"user-{n:03}", f"1//fake-{n}") for n in range(25)]
    assert vault.import_refresh_tokens(rows) == (25, 0)
    assert vault.import_refresh_tokens(rows[:5]) == (0, 5)
    seen: list[str] = []
    page = vault.connections(limit=10)
    while page:
        seen += [c.user_id for c in page]
        page = vault.connections(limit=10, after=page[-1])
    assert seen == [r[0] for r in rows]
    assert [c.user_id for c in vault.connections(after="user-020")] == [
        f"user-{n:03}" for n in range(21, 25)
    ]
    assert vault.connections(status="needs_consent") == []


def test_a_consent_without_a_new_refresh_token_does_not_revive_a_refused_one(
    emulator: Emulator, vault: Vault, clock: Clock
) -> None:
    connect(emulator, vault, "user-42", "ada@example.com")
    emulator.change_password("ada@example.com")
    clock.advance(2 * HOUR)
    with pytest.raises(gtoken.ConsentRequired):
        vault.access_token("user-42")
    # The application sends the user to a consent page of its own making (no prompt=consent):
    # Google still holds the grant, so it sends no refresh token, and the dead one is not kept.
    again = connect(emulator, vault, "user-42", "ada@example.com")
    assert again.status == "needs_consent"
    assert again.consent_url is not None
    assert vault.complete(consent_redirect(again.consent_url)).status == "active"
    assert vault.access_token("user-42")
