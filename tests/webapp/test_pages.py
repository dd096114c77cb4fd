"""Mail Glance's pages through an HTTP client acting as the person's browser: the emulator answers
consent at once (as a browser already signed in to Google that has said yes before), and each
unfriendly turn a web app meets is shown as the page a person should see, never as a 500."""

from __future__ import annotations

import html
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qsl, urlsplit

import httpx

from tests.webapp.conftest import (
    ON_BOTH_DATABASES,
    USER,
    MailGlance,
    click,
    latest_subjects,
    sign_in,
    subjects,
)


def connect(
    app: MailGlance, browser: httpx.Client, grant: str | list[str] = "all"
) -> httpx.Response:
    app.emulator.consent_auto(email=USER, grant=grant)  # type: ignore[arg-type]
    page = click(browser, browser.get("/"), "Connect Gmail")
    assert page.status_code == 200, page.text
    return page


@ON_BOTH_DATABASES
def test_connect_shows_the_latest_subjects_with_previews(mail_glance: MailGlance) -> None:
    expected = latest_subjects(mail_glance.emulator)
    with mail_glance.browser() as browser:
        page = sign_in(browser)
        assert 'Signed in as <strong id="user">ada</strong>' in page.text
        assert "<button>Connect Gmail</button>" in page.text

        page = connect(mail_glance, browser)
        assert f'<strong id="email">{USER}</strong>' in page.text
        shown = subjects(page)
        assert [subject for subject, _ in shown] == expected
        assert all(preview for _, preview in shown)
        assert "Show previews" not in page.text
        assert str(page.url) == mail_glance.url + "/"  # the code left the address bar

        again = browser.get("/")  # a later visit: the stored consent, no new one
    assert subjects(again) == shown
    assert mail_glance.emulator.stats()["token"]["authorization_code"] == 2  # ours and the app's


def test_a_scope_left_unticked_gives_subjects_and_an_offer_to_ask_again(
    mail_glance: MailGlance,
) -> None:
    with mail_glance.browser() as browser:
        sign_in(browser)
        page = connect(mail_glance, browser, grant=["gmail.metadata"])
        shown = subjects(page)
        assert len(shown) == 5
        assert not any(preview for _, preview in shown)
        assert "Previews are off" in page.text

        # Incremental consent: only the missing scope is asked for; what was granted stays.
        mail_glance.emulator.consent_auto(email=USER, grant="all")
        with_previews = click(browser, page, "Show previews")
    assert [s for s, _ in subjects(with_previews)] == [s for s, _ in shown]
    assert all(preview for _, preview in subjects(with_previews))
    assert "Previews are off" not in with_previews.text


def test_every_gmail_box_unticked_offers_to_connect_again(mail_glance: MailGlance) -> None:
    with mail_glance.browser() as browser:
        sign_in(browser)
        page = connect(mail_glance, browser, grant=["openid"])
        assert "You left both Gmail boxes unticked" in page.text
        assert "<ul" not in page.text
        page = connect(mail_glance, browser)
    assert len(subjects(page)) == 5


@ON_BOTH_DATABASES
def test_revoked_at_google_offers_reconnect_then_reconnects(mail_glance: MailGlance) -> None:
    emulator = mail_glance.emulator
    with mail_glance.browser() as browser:
        sign_in(browser)
        connect(mail_glance, browser)
        emulator.revoke_user(USER)  # on Google's "Third-party apps with account access" page

        page = browser.get("/")
        assert page.status_code == 200
        assert "Gmail access has stopped" in page.text
        assert "<ul" not in page.text
        link = html.unescape(page.text.split('href="', 2)[1].split('"', 1)[0])
        assert link.startswith(emulator.url + "/o/oauth2/")
        assert dict(parse_qsl(urlsplit(link).query))["login_hint"] == USER

        page = browser.get("/")  # still the same answer on the next visit: no error page
        assert "Reconnect" in page.text

        emulator.consent_auto(email=USER)
        back = browser.get(link)
    assert back.status_code == 200
    assert len(subjects(back)) == 5


def test_twenty_tabs_after_the_token_died_cause_one_refresh(mail_glance: MailGlance) -> None:
    """Ada has the site open in twenty tabs (or twenty workers serve her widgets) when her
    access token dies: Gmail refuses it with 401 in every request, and the twenty refreshes
    asked for become one at Google."""
    emulator = mail_glance.emulator
    with mail_glance.browser() as browser:
        sign_in(browser)
        expected = subjects(connect(mail_glance, browser))
        cookies = browser.cookies
    emulator.advance(3600)  # Google's clock only: the Vault still holds the token as valid

    def tab(_: int) -> list[tuple[str, str]]:
        with mail_glance.browser() as other:
            other.cookies = cookies
            return subjects(other.get("/"))

    with ThreadPoolExecutor(max_workers=20) as pool:
        pages = list(pool.map(tab, range(20)))
    assert pages == [expected] * 20
    assert emulator.stats()["token"].get("refresh_token", 0) == 1


def test_google_failing_for_a_moment_says_try_again_and_changes_nothing(
    mail_glance: MailGlance,
) -> None:
    emulator = mail_glance.emulator
    emulator.configure(access_token_lifetime=30)  # every visit refreshes
    with mail_glance.browser() as browser:
        sign_in(browser)
        first = connect(mail_glance, browser)

        emulator.fault("token", status=503, count=50)
        page = browser.get("/")
        assert page.status_code == 200
        assert "Google did not answer just now" in page.text
        assert "try again" in page.text
        assert "Reconnect" not in page.text

        emulator.clear_faults()
        later = browser.get("/")
    assert subjects(later) == subjects(first)


def test_gmail_failing_for_a_moment_says_try_again(mail_glance: MailGlance) -> None:
    with mail_glance.browser() as browser:
        sign_in(browser)
        connect(mail_glance, browser)
        mail_glance.emulator.fault("gmail", status=503, count=20)
        page = browser.get("/")
    assert page.status_code == 200
    assert "Gmail did not answer just now" in page.text


def test_disconnect_revokes_at_google(mail_glance: MailGlance) -> None:
    emulator = mail_glance.emulator
    with mail_glance.browser() as browser:
        sign_in(browser)
        page = connect(mail_glance, browser)
        before = emulator.stats()
        page = click(browser, page, "Disconnect Gmail")
    assert "<button>Connect Gmail</button>" in page.text
    assert "<ul" not in page.text
    assert (
        emulator.stats()["endpoints"].get("revoke", 0) == before["endpoints"].get("revoke", 0) + 1
    )


def test_saying_no_on_the_consent_page(mail_glance: MailGlance) -> None:
    with mail_glance.browser() as browser:
        sign_in(browser)
        page = connect(mail_glance, browser, grant="deny")
        assert "You did not allow access to Gmail." in page.text
        assert "<ul" not in browser.get("/").text


def callback_url(app: MailGlance, browser: httpx.Client) -> str:
    """Where Google sends the browser back to, with state and code, not yet visited."""
    app.emulator.consent_auto(email=USER)
    to_google = browser.post("/connect", follow_redirects=False)
    assert to_google.status_code == 303
    answer = httpx.get(to_google.headers["location"])  # Google's redirect, not followed
    assert answer.status_code == 302
    location: str = answer.headers["location"]
    assert location.startswith(app.url + "/oauth2callback?")
    return location


def test_a_replayed_callback_is_refused_and_keeps_the_connection(mail_glance: MailGlance) -> None:
    with mail_glance.browser() as browser:
        sign_in(browser)
        back = callback_url(mail_glance, browser)
        assert len(subjects(browser.get(back))) == 5
        replay = browser.get(back)
        assert replay.status_code == 400
        assert "That link to Google was not started here, was already used" in replay.text
        assert len(subjects(browser.get("/"))) == 5


def test_a_callback_without_a_session_stores_nothing(mail_glance: MailGlance) -> None:
    with mail_glance.browser() as browser:
        sign_in(browser)
        back = callback_url(mail_glance, browser)
    with mail_glance.browser() as stranger:
        refused = stranger.get(back)
        assert refused.status_code == 403
        assert "Sign in first" in refused.text
    with mail_glance.browser() as browser:
        sign_in(browser)
        assert "<button>Connect Gmail</button>" in browser.get("/").text


def test_a_consent_link_passed_to_another_person_connects_nobody(
    mail_glance: MailGlance,
) -> None:
    """Mallory starts a consent and sends Google's link to Ada: Ada's mail must not end up
    under Mallory's name (nor under Ada's, whose browser did not ask for it)."""
    with mail_glance.browser() as mallory:
        sign_in(mallory, "mallory")
        back = callback_url(mail_glance, mallory)
    with mail_glance.browser() as ada:
        sign_in(ada, "ada")
        page = ada.get(back)
        assert page.status_code == 400
        assert "That link to Google was not started here" in page.text
        assert "<button>Connect Gmail</button>" in ada.get("/").text
    with mail_glance.browser() as mallory:
        sign_in(mallory, "mallory")
        assert "<ul" not in mallory.get("/").text


def test_a_bad_name_is_refused_with_the_rule(mail_glance: MailGlance) -> None:
    with mail_glance.browser() as browser:
        for name in ["", "   ", "x" * 65, "tab\there", "nul\x00"]:
            page = browser.post("/sign-in", data={"name": name})
            assert (page.status_code, name) == (400, name)
            assert "A name is 1 to 64 printable characters." in page.text
            assert "Signed in as" not in browser.get("/").text
        assert "Signed in as" in browser.post("/sign-in", data={"name": "x" * 64}).text


def test_names_and_subjects_are_shown_as_text(mail_glance: MailGlance) -> None:
    with mail_glance.browser() as browser:
        page = sign_in(browser, '<script>alert("x")</script>')
    assert "<script>" not in page.text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page.text


def test_a_forged_session_cookie_is_nobody(mail_glance: MailGlance) -> None:
    with mail_glance.browser() as browser:
        sign_in(browser)
        cookie = browser.cookies["mail_glance"]
        payload, rest = cookie.split(".", 1)
        browser.cookies.set("mail_glance", payload[:-2] + "AA." + rest)
        page = browser.get("/")
    assert "Signed in as" not in page.text
    assert "<button>Sign in</button>" in page.text


def test_sign_out(mail_glance: MailGlance) -> None:
    with mail_glance.browser() as browser:
        page = click(browser, sign_in(browser), "Sign out")
    assert "<button>Sign in</button>" in page.text
