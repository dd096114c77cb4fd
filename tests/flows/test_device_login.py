"""The device flow: only Google's few allowed scopes, polling at the interval Google says."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from gtoken.errors import AccessDenied, ConfigError, LoginTimeout
from gtoken.flows import Mode, device_login, run_login
from gtoken.oauth import ClientSecrets
from tests.browser import read_form
from tests.flows.conftest import DRIVE_FILE, EMAIL, Google
from tests.flows.fakes import Screen, assert_no_secrets, exception_texts, token_secrets

DEVICE_SCOPES = frozenset({"drive.file", "openid", "email"})


def user_code(screen: Screen) -> str:
    found = re.search(r"enter the code (\S+)", screen.text)
    assert found, screen.text
    return found.group(1)


def allow_on_device_page(google: Google, code: str) -> None:
    """The person types the code at the verification URL and allows access."""
    with httpx.Client(base_url=google.emulator.url) as http:
        form = read_form(http.post("/device", data={"user_code": code}).text)
        data: dict[str, str | list[str]] = {**form.hidden, "account": EMAIL, "action": "allow"}
        for name, boxes in form.checkboxes.items():
            data[name] = [value for value, _ in boxes]
        answer = http.post(form.action, data=data)
        assert "Your device is connected." in answer.text


def test_device_login(google: Google) -> None:
    google.emulator.configure(device_poll_interval=1)
    screen, slept = Screen(), list[float]()
    token = google.login(screen, DEVICE_SCOPES, mode="device", sleep=slept.append)

    assert slept == [1]
    assert token.refresh_token
    assert token.id_token
    assert DRIVE_FILE in token.scopes
    assert google.transport.kinds() == ["device_authorization", "device_code"]
    assert f"{google.emulator.url}/device" in screen.text
    assert re.fullmatch(r"[A-Z]{3}-[A-Z]{3}-[A-Z]{3}", user_code(screen))
    assert_no_secrets([screen.text], google.secrets() | token_secrets(token))


def test_pending_then_slow_down_then_allowed(google: Google) -> None:
    google.emulator.configure(device_poll_interval=1)
    google.emulator.consent_interactive()
    screen, slept = Screen(), list[float]()

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) == 2:
            return  # polls again at once: Google says slow_down
        google.emulator.advance(seconds)
        if len(slept) == 3:
            allow_on_device_page(google, user_code(screen))

    token = google.login(screen, DEVICE_SCOPES, mode="device", sleep=sleep)

    assert slept == [1, 1, 6]  # slow_down added 5 s to the interval
    assert token.refresh_token
    assert google.transport.kinds().count("device_code") == 3


def test_gmail_is_refused_before_anything_is_sent(google: Google) -> None:
    with pytest.raises(ConfigError) as caught:
        google.login(Screen(), frozenset({"gmail.readonly", "mail", "email"}), mode="device")
    message = str(caught.value)
    assert "gmail.readonly" in message
    assert "cannot ask for gmail.readonly, mail: Google allows only" in message
    assert "paste-back" in message
    assert google.transport.sent == []
    assert "device_code" not in google.emulator.stats()["endpoints"]


def test_denied_on_the_device_page(google: Google) -> None:
    google.emulator.configure(device_poll_interval=1)
    google.emulator.consent_auto(email=EMAIL, grant="deny")
    screen = Screen()
    with pytest.raises(AccessDenied) as caught:
        google.login(screen, DEVICE_SCOPES, mode="device", sleep=lambda s: None)
    assert_no_secrets([screen.text, *exception_texts(caught.value)], google.secrets())


def test_the_code_expires(google: Google) -> None:
    google.emulator.configure(device_poll_interval=1, device_code_lifetime=30)
    google.emulator.consent_interactive()
    screen = Screen()
    with pytest.raises(LoginTimeout) as caught:
        device_login(
            google.client,
            DEVICE_SCOPES,
            transport=google.transport,
            console=screen.console,
            device_url=google.device_url,
            sleep=lambda s: google.emulator.advance(31),
        )
    assert "The device code expired" in str(caught.value)
    assert "Run the login again" in str(caught.value)
    assert_no_secrets([screen.text, *exception_texts(caught.value)], google.secrets())


def test_the_timeout_ends_polling(google: Google) -> None:
    google.emulator.configure(device_poll_interval=1)
    google.emulator.consent_interactive()
    start = datetime.now(UTC)
    elapsed: list[float] = [0]

    def sleep(seconds: float) -> None:
        elapsed[0] += seconds
        google.emulator.advance(seconds)

    with pytest.raises(LoginTimeout) as caught:
        google.login(
            Screen(),
            DEVICE_SCOPES,
            mode="device",
            timeout=3,
            sleep=sleep,
            now=lambda: start + timedelta(seconds=elapsed[0]),
        )
    assert "The time given for this sign-in ran out" in str(caught.value)
    assert google.transport.kinds().count("device_code") == 3


@pytest.mark.parametrize("mode", ["device", "paste", "browser"])
def test_a_web_client_is_refused(google: Google, mode: Mode) -> None:
    web = ClientSecrets.from_json(google.emulator.create_client(type="web"))
    screen = Screen()
    with pytest.raises(ConfigError) as caught:
        run_login(
            web,
            DEVICE_SCOPES,
            transport=google.transport,
            console=screen.console,
            device_url=google.device_url,
            mode=mode,
        )
    assert "Desktop app" in str(caught.value)
    assert google.transport.sent == []
    assert screen.text == ""
