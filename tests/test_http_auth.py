"""gtoken.HttpxAuth and gtoken.RequestsAuth calling the emulator's Gmail API: the header, refresh
before expiry, one refresh and one resend after a 401, and no loop when the resend is refused."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import requests

import gtoken
import gtoken.aio
from gtoken.accounts import Accounts
from gtoken.emulator.client import Emulator
from gtoken.oauth import Token
from tests.support import stored_login

GOOGLE = "https://www.googleapis.com/auth"
SCOPE = f"openid email {GOOGLE}/gmail.readonly {GOOGLE}/drive.file"


@pytest.fixture
def signed(emulator: Emulator, accounts: Accounts) -> Token:
    """An account stored as a login would store it; the login's token."""
    return stored_login(emulator, accounts, SCOPE)[1]


@pytest.fixture
def labels(emulator: Emulator) -> str:
    return f"{emulator.url}/gmail/v1/users/me/labels"


def refreshes(emulator: Emulator) -> int:
    return int(emulator.stats()["token"].get("refresh_token", 0))


def httpx_get(auth: gtoken.HttpxAuth, url: str, *, use_async: bool) -> httpx.Response:
    if not use_async:
        with httpx.Client(auth=auth) as client:
            return client.get(url)

    async def main() -> httpx.Response:
        async with httpx.AsyncClient(auth=auth) as client:
            return await client.get(url)

    return asyncio.run(main())


def auth_for(kind: str, accounts: Accounts) -> gtoken.HttpxAuth | gtoken.RequestsAuth:
    account_id = accounts.find().id
    if kind == "requests":
        return gtoken.RequestsAuth(accounts, account_id)
    return gtoken.HttpxAuth(accounts, account_id)


def get(kind: str, auth: gtoken.HttpxAuth | gtoken.RequestsAuth, url: str) -> int:
    """GET ``url`` with ``auth`` through httpx (sync or async) or requests; the status."""
    if kind == "requests":
        assert isinstance(auth, gtoken.RequestsAuth)
        with requests.Session() as session:
            return session.get(url, auth=auth, timeout=10).status_code
    assert isinstance(auth, gtoken.HttpxAuth)
    return httpx_get(auth, url, use_async=kind == "httpx-async").status_code


KINDS = ["httpx", "httpx-async", "requests"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_request_carries_the_stored_token(emulator, accounts, signed, labels, kind) -> None:
    auth = auth_for(kind, accounts)
    assert get(kind, auth, labels) == 200
    assert get(kind, auth, labels) == 200
    assert refreshes(emulator) == 0


@pytest.mark.parametrize("kind", KINDS)
def test_a_token_near_expiry_is_refreshed_first(emulator, accounts, signed, clock, labels, kind):
    auth = auth_for(kind, accounts)
    assert get(kind, auth, labels) == 200
    clock.advance(3600 - 60)  # within min_ttl (120 s) of expiry, for both sides
    assert get(kind, auth, labels) == 200
    assert refreshes(emulator) == 1
    assert accounts.find().access_token != signed.access_token


@pytest.mark.parametrize("kind", KINDS)
def test_a_401_is_answered_by_one_refresh_and_one_resend(emulator, accounts, signed, labels, kind):
    auth = auth_for(kind, accounts)
    emulator.advance(3600)  # only the emulator knows the token expired
    assert get(kind, auth, labels) == 200
    assert refreshes(emulator) == 1
    assert get(kind, auth, labels) == 200  # the new token is kept
    assert refreshes(emulator) == 1


@pytest.mark.parametrize("kind", KINDS)
def test_a_second_401_is_returned_as_it_is(emulator, accounts, signed, labels, kind) -> None:
    auth = auth_for(kind, accounts)
    emulator.fault("gmail", status=401, count=2)
    assert get(kind, auth, labels) == 401
    assert refreshes(emulator) == 1
    assert emulator.stats()["api"]["gmail"] == 2  # sent, resent once, not again


@pytest.mark.parametrize("kind", KINDS)
def test_a_401_the_refresh_cannot_fix_raises_consent_required(
    emulator, accounts, signed, labels, kind
) -> None:
    auth = auth_for(kind, accounts)
    emulator.revoke_user("ada@example.com")
    with pytest.raises(gtoken.ConsentRequired, match="revoked"):
        get(kind, auth, labels)
    assert refreshes(emulator) == 1
    with pytest.raises(gtoken.ConsentRequired):
        get(kind, auth, labels)
    assert refreshes(emulator) == 1  # a known-dead grant is not tried again


def test_httpx_resends_a_body_but_not_a_stream(emulator, accounts, signed) -> None:
    auth = gtoken.HttpxAuth(accounts, accounts.find().id)
    create = f"{emulator.url}/v4/spreadsheets"
    with httpx.Client(auth=auth) as client:
        emulator.fault("sheets", status=401)
        sent = client.post(create, json={"properties": {"title": "Receipts"}})
        assert sent.status_code == 200
        assert sent.json()["properties"]["title"] == "Receipts"  # the body went again
        assert [r.status_code for r in sent.history] == [401]

        emulator.fault("sheets", status=401)
        streamed = client.post(create, content=iter([b'{"properties": {"title": "Bills"}}']))
        assert streamed.status_code == 401  # a stream cannot be sent twice
        assert client.post(create, json={"properties": {"title": "Bills"}}).status_code == 200
    assert refreshes(emulator) == 2


def test_requests_resends_with_the_callers_hooks_and_history(emulator, accounts, signed) -> None:
    auth = gtoken.RequestsAuth(accounts, accounts.find().id)
    seen: list[int] = []

    def hook(response: requests.Response, **kwargs: object) -> None:
        seen.append(response.status_code)

    emulator.fault("sheets", status=401)
    response = requests.post(
        f"{emulator.url}/v4/spreadsheets",
        json={"properties": {"title": "Receipts"}},
        auth=auth,
        hooks={"response": hook},
        timeout=10,
    )
    assert response.status_code == 200
    assert response.json()["properties"]["title"] == "Receipts"
    assert [r.status_code for r in response.history] == [401]
    assert seen == [200]  # the caller's hook sees the answer that counts


def test_the_one_call_constructors(emulator, accounts, signed, env, labels) -> None:
    made = gtoken.httpx_auth(["gmail.readonly"], env=env)
    assert httpx.get(labels, auth=made).status_code == 200

    async def main() -> int:
        auth = await gtoken.aio.httpx_auth(["gmail.readonly"], env=env)
        async with httpx.AsyncClient(auth=auth) as client:
            return (await client.get(labels)).status_code

    assert asyncio.run(main()) == 200
    with pytest.raises(gtoken.ScopeNotGranted):
        gtoken.requests_auth(["gmail.send"], env=env, login="never")
    auth = gtoken.requests_auth(["gmail.readonly"], env=env)
    assert requests.get(labels, auth=auth, timeout=10).status_code == 200


@pytest.mark.parametrize("kind", ["httpx", "requests"])
def test_repr_shows_the_account_and_no_token(emulator, accounts, signed, labels, kind) -> None:
    auth = auth_for(kind, accounts)
    get(kind, auth, labels)
    shown = repr(auth)
    assert "ada@example.com" in shown
    for secret in emulator.issued():
        assert secret not in shown
