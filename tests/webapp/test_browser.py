"""Mail Glance in a real browser (headless Chromium through Playwright): a person signs in, connects
Gmail on the emulator's consent page leaving one box unticked, reads their latest subjects, loses
the grant at Google, and reconnects from the "Reconnect" link the app shows instead of an error."""

from __future__ import annotations

import re
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser import LocalServer, open_tab, send_page
from tests.webapp.conftest import USER, MailGlance, latest_subjects

GMAIL_READ = "View your email messages and settings"
GMAIL_METADATA = "View your email message metadata such as labels and headers"


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    with open_tab(chromium, timeout_ms=15_000) as tab:
        yield tab


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


class AttackerSite(LocalServer):
    """Another web site (``http://localhost:PORT``, a different site from ``127.0.0.1`` to a
    browser) whose page makes the visitor's browser post a form to ``action`` at once."""

    def __init__(self, action: str) -> None:
        body = (
            "<!doctype html><title>Win a prize</title>"
            f'<form method="post" action="{action}"></form>'
            "<script>document.forms[0].submit()</script>"
        ).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                send_page(self, body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        super().__init__(Handler)
        self.url = f"http://localhost:{self.port}/"


@pytest.mark.browser
def test_another_site_cannot_disconnect_gmail(mail_glance: MailGlance, page: Page) -> None:
    """The session cookie is SameSite=Lax: a form another site posts to /disconnect arrives
    without it, and nothing is revoked. (The same form from the same site does disconnect.)"""
    emulator = mail_glance.emulator
    page.goto(mail_glance.url)
    page.get_by_label("Your name").fill("Ada")
    page.get_by_role("button", name="Sign in").click()
    emulator.consent_auto(email=USER)
    page.get_by_role("button", name="Connect Gmail").click()
    page.wait_for_url(mail_glance.url + "/")
    expect(page.locator("#messages li")).to_have_count(5)

    with AttackerSite(mail_glance.url + "/disconnect") as attacker:
        page.goto(attacker.url)
        page.wait_for_url(mail_glance.url + "/")  # the post reached the site, then home
        expect(page.locator("#messages li")).to_have_count(5)
        assert emulator.stats()["endpoints"].get("revoke", 0) == 0

        page.goto(attacker.url.replace("localhost", "127.0.0.1"))  # same site: the cookie goes
        page.wait_for_url(mail_glance.url + "/")
        expect(page.get_by_role("button", name="Connect Gmail")).to_be_visible()
        assert emulator.stats()["endpoints"].get("revoke", 0) == 1
