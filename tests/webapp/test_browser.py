"""Mail Glance in a real browser (headless Chromium through Playwright): a person signs in, connects
Gmail on the emulator's consent page leaving one box unticked, reads their latest subjects, loses
the grant at Google, and reconnects from the "Reconnect" link the app shows instead of an error."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests import services
from tests.webapp.conftest import USER, MailGlance, latest_subjects

GMAIL_READ = "View your email messages and settings"
GMAIL_METADATA = "View your email message metadata such as labels and headers"


@pytest.fixture(scope="module")
def chromium(chromium_path: Path) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium_path), args=services.CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    context = chromium.new_context(viewport={"width": 900, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    yield tab
    context.close()


def consent(page: Page, *, untick: str | None = None) -> None:
    """On the emulator's consent page: choose Ada, untick one scope, Allow."""
    expect(page).to_have_title("Sign in - Mail Glance")
    page.get_by_label(USER).check()
    if untick is not None:
        page.get_by_label(untick).uncheck()
    page.get_by_role("button", name="Allow").click()


@pytest.mark.browser
def test_connect_read_lose_the_grant_and_reconnect(
    mail_glance: MailGlance, page: Page, tmp_path: Path
) -> None:
    emulator = mail_glance.emulator
    expected = latest_subjects(emulator)
    emulator.consent_interactive()  # latest_subjects answered its own consent automatically

    page.goto(mail_glance.url)
    page.get_by_label("Your name").fill("Ada")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#user")).to_have_text("Ada")

    page.get_by_role("button", name="Connect Gmail").click()
    expect(page.get_by_label(GMAIL_METADATA)).to_be_checked()
    consent(page, untick=GMAIL_READ)

    page.wait_for_url(mail_glance.url + "/")
    expect(page.locator("#email")).to_have_text(USER)
    items = page.locator("#messages li")
    assert items.all_inner_texts() == expected  # subjects only: no previews without the scope
    expect(page.get_by_text("Previews are off")).to_be_visible()
    page.screenshot(path=str(tmp_path / "connected.png"), full_page=True)

    emulator.revoke_user(USER)  # Ada removes Mail Glance on her Google Account page
    page.reload()
    expect(page.get_by_text("Gmail access has stopped")).to_be_visible()
    expect(page.locator("#messages")).to_have_count(0)
    reconnect = page.get_by_role("link", name="Reconnect")
    expect(reconnect).to_have_attribute("href", re.compile("^" + re.escape(emulator.url)))

    reconnect.click()
    # Reconnecting asks again for what Ada had granted, not for what she had left out.
    expect(page.get_by_label(GMAIL_METADATA)).to_be_checked()
    expect(page.get_by_label(GMAIL_READ)).to_have_count(0)
    consent(page)
    page.wait_for_url(mail_glance.url + "/")
    expect(page.locator("#email")).to_have_text(USER)
    assert items.all_inner_texts() == expected

    # The scope left out, asked for on its own (incremental consent): previews appear.
    page.get_by_role("button", name="Show previews").click()
    expect(page.get_by_label(GMAIL_READ)).to_be_checked()
    consent(page)
    page.wait_for_url(mail_glance.url + "/")
    previews = page.locator("#messages li small")
    expect(previews).to_have_count(len(expected))
    assert all(text.strip() for text in previews.all_inner_texts())
    expect(page.get_by_text("Previews are off")).to_have_count(0)
