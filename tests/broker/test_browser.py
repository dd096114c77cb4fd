"""In headless Chromium: an end user follows a connect link, consents on the emulator's page and
lands on the app's return URL; an admin logs in, finds a connection, revokes it, and the next
token request answers 409."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, sync_playwright

from gtoken.emulator.client import Emulator
from tests import services
from tests.broker.conftest import APP, Served, connect_user, serving
from tests.browser import LOOPBACK_HEADING, Loopback
from tests.support import Clock

pytestmark = pytest.mark.browser
ADMIN_SECRET = "correct horse battery staple"


@pytest.fixture(scope="module")
def chromium(chromium_path: Path) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium_path), args=services.CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def admin_served(
    emulator: Emulator, broker_env: dict[str, str], tmp_path: Path, clock: Clock
) -> Iterator[Served]:
    url = f"sqlite:///{tmp_path}/broker.db"
    with serving(emulator, broker_env, url, clock=clock, admin_secret=ADMIN_SECRET) as served:
        yield served


def test_end_user_connects_in_a_browser(
    admin_served: Served, emulator: Emulator, chromium: Browser
) -> None:
    served = admin_served
    emulator.create_user("ada@example.com")
    emulator.consent_interactive()
    with Loopback() as app:
        origin = app.url.rstrip("/")
        served.broker.register_client(served.client, [APP, origin])
        with served.http("connections:manage") as http:
            link = http.post(
                "/v1/connect-links",
                json={
                    "user_id": "user-7",
                    "scopes": ["gmail.readonly"],
                    "return_url": app.done_url,
                },
            ).json()["url"]
        page = chromium.new_page()
        page.set_default_timeout(15_000)
        page.goto(link)
        page.get_by_label("ada@example.com").check()
        page.get_by_role("button", name="Allow").click()
        page.wait_for_url(f"{app.done_url}?*")
        assert LOOPBACK_HEADING in page.content()
        assert "status=connected" in page.url
        assert "user_id=user-7" in page.url
        page.close()
    with served.http() as http:
        assert http.post("/v1/connections/user-7/token", json={}).status_code == 200


def test_admin_finds_and_revokes_a_connection(
    admin_served: Served, emulator: Emulator, chromium: Browser
) -> None:
    served = admin_served
    connect_user(served, emulator, "user-7", "ada@example.com")
    connect_user(served, emulator, "user-8", "bob@example.com")
    context = chromium.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(served.url + "/admin")
    assert page.url.endswith("/admin/login")
    page.get_by_label("Admin secret or admin API key").fill("not the secret")
    page.get_by_role("button", name="Log in").click()
    assert page.get_by_role("alert").is_visible()
    page.get_by_label("Admin secret or admin API key").fill(ADMIN_SECRET)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(served.url + "/admin")
    cookie = next(c for c in context.cookies() if c["name"] == "gtoken_admin")
    assert cookie["httpOnly"]
    assert cookie["sameSite"] == "Strict"
    page.get_by_label("User id or e-mail").fill("ada@")
    page.get_by_role("button", name="Search").click()
    rows = page.locator("tbody tr")
    assert rows.count() == 1
    assert "user-7" in rows.first.inner_text()
    assert "active" in rows.first.inner_text()
    rows.first.get_by_role("button", name="Revoke").click()
    assert "Revoked the connection of user-7" in page.get_by_role("status").inner_text()
    with served.http() as http:
        reply = http.post("/v1/connections/user-7/token", json={"scopes": ["gmail.readonly"]})
        assert reply.status_code == 409
        assert http.post("/v1/connections/user-8/token", json={}).status_code == 200
    # A form posted without the session's CSRF token changes nothing.
    session = {"gtoken_admin": cookie["value"]}
    forged = httpx.post(
        served.url + "/admin/connections/revoke",
        data={"user_id": "user-8", "client_id": served.client_id, "csrf": "guess"},
        cookies=session,
    )
    assert forged.status_code == 303
    assert forged.headers["location"] == "/admin/login"
    with served.http() as http:
        assert http.post("/v1/connections/user-8/token", json={}).status_code == 200
    context.close()
