"""gtoken.aio.Vault: the same vault as coroutines, for ASGI applications."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import httpx

import gtoken.aio
from gtoken.emulator.client import Emulator
from tests.support import Clock, no_wait
from tests.vault.conftest import CALLBACK


def test_consent_and_a_thousand_tasks_asking_at_once(
    emulator: Emulator,
    database_url: str,
    web_client: dict[str, Any],
    vault_key: bytes,
    env: dict[str, str],
    clock: Clock,
) -> None:
    emulator.create_user("ada@example.com")
    emulator.consent_auto(email="ada@example.com")
    keys = {"GTOKEN_VAULT_KEYS": base64.b64encode(vault_key).decode()}

    async def app() -> list[str]:
        async with gtoken.aio.Vault(
            database_url,
            client_secrets=web_client,
            redirect_uri=CALLBACK,
            env={**env, **keys},
            transport=no_wait,
            clock=clock,
        ) as vault:
            url = await vault.authorization_url("user-42", ["gmail.readonly"])
            async with httpx.AsyncClient() as browser:
                back = (await browser.get(url)).headers["location"]
            conn = await vault.complete(back, user_id="user-42")
            assert conn.status == "active"
            assert await vault.connection("user-42") == conn
            assert [c.user_id for c in await vault.connections()] == ["user-42"]
            clock.advance(2 * 3600)
            tokens = await asyncio.gather(*(vault.access_token("user-42") for _ in range(1000)))
            creds = await vault.credentials("user-42", ["gmail.readonly"])
            assert creds.token == tokens[0]
            assert (await vault.refresh_due(within=600)).claimed == 0
            assert await vault.revoke("user-42") is True
            assert await vault.forget("user-42") is False
            return tokens

    tokens = asyncio.run(app())
    assert len(set(tokens)) == 1
    assert emulator.stats()["token"].get("refresh_token", 0) == 1
