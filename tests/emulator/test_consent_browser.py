"""The emulator's pages as a person meets them: the consent page in a real browser (headless
Chromium through Playwright), and the device flow's code-entry page in the browser and through
plain HTML forms.

No assertion shows a token or a code: failures name parameters and scopes, never values.
"""

from __future__ import annotations

import html
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from playwright.sync_api import Browser, Page

from gtoken.emulator.client import Emulator
from tests.browser import (
    LOOPBACK_HEADING,
    ClientSecrets,
    Loopback,
    open_tab,
    read_form,
)
from tests.support import exchange, pkce_pair, refresh

AUTH = "https://www.googleapis.com/auth/"
GMAIL_RO = AUTH + "gmail.readonly"
DRIVE_RO = AUTH + "drive.readonly"
DRIVE_FILE = AUTH + "drive.file"
EMAIL = AUTH + "userinfo.email"
APP_NAME = "Ada's Mail Sorter"
DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code"
PENDING = (428, "authorization_pending", "Precondition Required")


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    with open_tab(chromium, timeout_ms=10_000) as tab:
        yield tab


class Login:
    """An app's authorization request with state and PKCE, and what it needs to finish it."""

    def __init__(self, emu: Emulator, client: dict[str, Any], scope: str, redirect_uri: str):
        self.emu, self.client, self.redirect_uri = emu, client, redirect_uri
        self.state = secrets.token_urlsafe(16)
        self.verifier, challenge = pkce_pair()
        params = {
            "client_id": client["installed"]["client_id"],
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": scope,
            "state": self.state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "access_type": "offline",
        }
        self.url = str(httpx.URL(f"{emu.url}/o/oauth2/v2/auth", params=params))

    def exchange(self, code: str) -> dict[str, Any]:
        response = exchange(
            self.emu, self.client, code, verifier=self.verifier, redirect_uri=self.redirect_uri
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture
def app(emulator: Emulator) -> dict[str, Any]:
    """A Desktop client with two people who could sign in, and the consent page switched on."""
    client = ClientSecrets(emulator.create_client(type="installed", name=APP_NAME))
    emulator.create_user("ada@example.com", "Ada Lovelace")
    emulator.create_user("grace@example.com", "Grace Hopper")
    emulator.consent_interactive()
    return client


def unverified_claims(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


# -- the consent page ---------------------------------------------------------------------------


@pytest.mark.browser
def test_person_picks_an_account_and_unticks_a_scope(
    emulator: Emulator, app: dict[str, Any], page: Page, tmp_path: Path
) -> None:
    with Loopback() as loopback:
        login = Login(emulator, app, f"openid email {GMAIL_RO} {DRIVE_RO}", loopback.url)
        page.goto(login.url)

        assert page.title() == f"Sign in - {APP_NAME}"
        assert APP_NAME in page.get_by_role("heading").inner_text()
        gmail = page.get_by_label("View your email messages and settings")
        drive = page.get_by_label("See and download all your Google Drive files")
        assert gmail.is_checked()
        assert drive.is_checked()
        assert page.get_by_text("See your primary Google Account email address").is_visible()
        shot = tmp_path / "consent.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")

        page.get_by_label("grace@example.com").check()
        drive.uncheck()
        page.get_by_role("button", name="Allow").click()
        page.wait_for_url(loopback.done_url)
        params = loopback.wait()
        raw_query = loopback.raw_query

    assert page.inner_text("h1") == LOOPBACK_HEADING
    assert params.get("error") is None
    assert params["state"] == login.state
    assert params["iss"] == "https://accounts.google.com"
    assert set(params["scope"].split()) == {"openid", "email", EMAIL, GMAIL_RO}
    # Google leaves the code's slash unescaped, so the code a person copies from the address bar
    # works as it is. (Computed first so that a failure cannot print the query and its code.)
    code_unescaped_in_the_address = "code=4/" in raw_query
    assert code_unescaped_in_the_address

    tokens = login.exchange(params["code"])
    assert set(tokens["scope"].split()) == {"openid", EMAIL, GMAIL_RO}
    assert tokens.get("refresh_token") is not None
    claims = unverified_claims(tokens["id_token"])
    assert claims["email"] == "grace@example.com"


@pytest.mark.browser
def test_cancel_sends_access_denied_back_with_the_state(
    emulator: Emulator, app: dict[str, Any], page: Page
) -> None:
    with Loopback() as loopback:
        login = Login(emulator, app, GMAIL_RO, loopback.url)
        page.goto(login.url)
        page.get_by_label("ada@example.com").check()
        page.get_by_role("button", name="Cancel").click()
        params = loopback.wait()

    names = sorted(params)
    assert names == ["error", "state"]
    assert (params["error"], params["state"]) == ("access_denied", login.state)


@pytest.mark.browser
def test_allow_without_an_account_explains_and_back_lets_the_person_choose(
    emulator: Emulator, app: dict[str, Any], page: Page
) -> None:
    with Loopback() as loopback:
        login = Login(emulator, app, GMAIL_RO, loopback.url)
        page.goto(login.url)
        page.get_by_role("button", name="Allow").click()

        assert page.locator("#error-description").inner_text() == "Choose an account to continue."

        page.go_back()
        page.get_by_label("ada@example.com").check()
        page.get_by_role("button", name="Allow").click()
        params = loopback.wait()

    assert params["state"] == login.state
    tokens = login.exchange(params["code"])
    assert tokens["scope"] == GMAIL_RO


@pytest.mark.browser
def test_a_consent_page_answers_once(emulator: Emulator, app: dict[str, Any], page: Page) -> None:
    with Loopback() as loopback:
        login = Login(emulator, app, GMAIL_RO, loopback.url)
        page.goto(login.url)
        consent_id = page.locator("input[name=consent_id]").get_attribute("value")
        page.get_by_label("ada@example.com").check()
        page.get_by_role("button", name="Allow").click()
        loopback.wait()

    # The same answer sent again (a double click, a replayed form) finds the session used.
    again = httpx.post(
        f"{emulator.url}/o/oauth2/consent",
        data={"consent_id": consent_id, "account": "ada@example.com", "action": "allow"},
    )
    assert again.status_code == 400
    assert "This sign-in session has expired or was used" in again.text


# -- the device flow ----------------------------------------------------------------------------


def start_device(emu: Emulator, client: dict[str, Any], scope: str) -> dict[str, Any]:
    response = httpx.post(
        f"{emu.url}/device/code",
        data={"client_id": client["installed"]["client_id"], "scope": scope},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def poll(emu: Emulator, client: dict[str, Any], device_code: str) -> httpx.Response:
    info = client["installed"]
    return httpx.post(
        info["token_uri"],
        data={
            "grant_type": DEVICE_CODE,
            "device_code": device_code,
            "client_id": info["client_id"],
            "client_secret": info["client_secret"],
        },
    )


def assert_error(response: httpx.Response, status: int, error: str, description: str) -> None:
    """The answer is this error (compared without the body, which could hold tokens)."""
    body = response.json()
    answer = (response.status_code, body.get("error"), body.get("error_description"))
    assert answer == (status, error, description)


def test_device_flow_through_the_code_page_with_plain_forms(
    emulator: Emulator, app: dict[str, Any]
) -> None:
    emulator.configure(device_poll_interval=3)
    device = start_device(emulator, app, f"openid email {DRIVE_FILE}")
    assert device["interval"] == 3
    assert device["verification_url"] == f"{emulator.url}/device"

    assert_error(poll(emulator, app, device["device_code"]), *PENDING)
    assert_error(poll(emulator, app, device["device_code"]), 403, "slow_down", "Forbidden")
    emulator.advance(3)
    assert_error(poll(emulator, app, device["device_code"]), *PENDING)

    with httpx.Client(base_url=emulator.url) as person:
        entry = person.get("/device")
        assert entry.status_code == 200
        assert "Enter the code displayed on your device" in entry.text
        assert read_form(entry.text).text == ["user_code"]
        wrong = person.post("/device", data={"user_code": "AAA-AAA-AAA"})
        assert wrong.status_code == 400
        assert "That code is not valid or has expired" in wrong.text

        consent = person.post("/device", data={"user_code": device["user_code"].lower()})
        assert consent.status_code == 200
        assert APP_NAME in html.unescape(consent.text)
        form = read_form(consent.text)
        assert form.radios == {"account": ["ada@example.com", "grace@example.com"]}
        assert form.checkboxes == {"scope": [(DRIVE_FILE, True)]}
        done = person.post(
            form.action,
            data={
                **form.hidden,
                "account": "grace@example.com",
                "scope": DRIVE_FILE,
                "action": "allow",
            },
        )
        assert done.status_code == 200
        assert "Your device is connected." in done.text

    assert_error(poll(emulator, app, device["device_code"]), 403, "slow_down", "Forbidden")
    emulator.advance(3)
    answer = poll(emulator, app, device["device_code"])
    assert answer.status_code == 200, answer.text
    tokens = answer.json()
    assert set(tokens["scope"].split()) == {"openid", EMAIL, DRIVE_FILE}
    claims = unverified_claims(tokens["id_token"])
    assert claims["email"] == "grace@example.com"
    refreshed = refresh(emulator, app, tokens["refresh_token"])
    assert refreshed.status_code == 200, refreshed.text
    emulator.advance(3)
    assert_error(poll(emulator, app, device["device_code"]), 400, "invalid_grant", "Bad Request")


def test_device_flow_denied_on_the_page(emulator: Emulator, app: dict[str, Any]) -> None:
    device = start_device(emulator, app, DRIVE_FILE)
    with httpx.Client(base_url=emulator.url) as person:
        form = read_form(person.post("/device", data={"user_code": device["user_code"]}).text)
        denied = person.post(form.action, data={**form.hidden, "action": "cancel"})
    assert "You denied access to the device." in denied.text
    assert_error(poll(emulator, app, device["device_code"]), 403, "access_denied", "Forbidden")


@pytest.mark.browser
def test_device_flow_with_the_code_typed_into_a_browser(
    emulator: Emulator, app: dict[str, Any], page: Page
) -> None:
    device = start_device(emulator, app, f"email {DRIVE_FILE}")

    page.goto(device["verification_url"])
    page.get_by_label("Code").fill(device["user_code"])
    page.get_by_role("button", name="Next").click()
    assert APP_NAME in page.get_by_role("heading").inner_text()
    assert page.get_by_label("See, edit, create, and delete only the Drive files").is_checked()
    page.get_by_label("ada@example.com").check()
    page.get_by_role("button", name="Allow").click()
    assert page.get_by_role("heading").inner_text() == "Your device is connected."

    emulator.advance(device["interval"])
    answer = poll(emulator, app, device["device_code"])
    assert answer.status_code == 200, answer.text
    tokens = answer.json()
    assert tokens.get("refresh_token") is not None
    assert set(tokens["scope"].split()) == {"openid", EMAIL, DRIVE_FILE}
