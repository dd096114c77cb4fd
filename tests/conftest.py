"""Fixtures every test shares: a real emulator over loopback HTTP, PostgreSQL, a real browser.

Services a test needs are found or started here. When one cannot be had, its tests are skipped
with one loud line at the end of the run; with ``GTOKEN_TEST_STRICT=1`` (set by ``.ci/run``) they
fail instead.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from gtoken.accounts import Accounts
from gtoken.emulator.client import Emulator
from tests import services
from tests.browser import launch_chromium
from tests.support import Clock, no_wait

if TYPE_CHECKING:  # Playwright is imported when a browser test launches Chromium
    from playwright.sync_api import Browser

STRICT = os.environ.get("GTOKEN_TEST_STRICT") == "1"
_unavailable: dict[str, str] = {}


def unavailable(what: str, why: str) -> None:
    """Skip (or, in strict mode, fail) because ``what`` cannot be had here."""
    _unavailable[what] = why
    if STRICT:
        pytest.fail(f"{what} unavailable and GTOKEN_TEST_STRICT=1: {why}")
    pytest.skip(f"{what} unavailable: {why}")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for what, why in _unavailable.items():
        terminalreporter.write_line(
            f"!!! TESTS SKIPPED: {what} unavailable ({why}); see README, 'Tests'", red=True
        )


@pytest.fixture(scope="session")
def emulator_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``gtoken emulator --port 0`` as a subprocess, for the whole session; yields its URL.

    Its stderr goes to a file; an emulator that logged an unexpected error (a 500 it answered)
    fails the session, so a bug in the emulator cannot hide behind a test that expected a 4xx."""
    log = tmp_path_factory.mktemp("emulator") / "stderr.log"
    with log.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gtoken", "emulator", "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("gtoken emulator listening on "):
        proc.kill()
        proc.wait(timeout=10)
        pytest.fail(f"the emulator did not start: {line!r} {log.read_text()}")
    try:
        yield line.split()[-1]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        logged = log.read_text()
        assert "unexpected error" not in logged, logged[-4000:]
        assert "Traceback" not in logged, logged[-4000:]


@pytest.fixture
def emulator(emulator_process: str) -> Iterator[Emulator]:
    """The session's emulator, emptied before each test."""
    with Emulator(emulator_process) as emu:
        emu.reset()
        yield emu


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Fail a test whose output or logs show a secret the emulator issued (DESIGN invariant 1).

    Looks at everything pytest captured for the test: stdout, stderr and log records."""
    report = yield
    url = getattr(item, "funcargs", {}).get("emulator_process")
    if call.when != "call" or url is None or report.failed:
        return report
    captured = "\n".join(text for _, text in report.sections)
    if not captured:
        return report
    with Emulator(url) as emu:
        leaked = [s for s in emu.issued() if len(s) >= 16 and s in captured]
    if leaked:
        report.outcome = "failed"
        report.longrepr = (
            f"{len(leaked)} secret(s) issued by the emulator appear in this test's captured "
            "output or logs (shown here only by length: "
            f"{', '.join(str(len(s)) for s in leaked)} characters)"
        )
    return report


@pytest.fixture(autouse=True)
def _capture_all_logs(caplog: pytest.LogCaptureFixture) -> None:
    """Every log record, at every level, is captured and so searched for secrets; except the
    HTTP clients' own, which record what the tests themselves send as a browser would (codes in
    redirects, tokens in tokeninfo URLs). gtoken's traffic through them is checked on its own
    (tests/test_refresh.py). Also except google-auth-oauthlib's and requests-oauthlib's, which log
    the callback's code at INFO and whole token responses at DEBUG when tests run Google's own
    flow against the emulator: leaks gtoken exists to avoid."""
    caplog.set_level(logging.DEBUG)
    noisy_loggers = (
        "httpx",
        "httpcore",
        "urllib3",
        "googleapiclient.discovery",
        "google_auth_oauthlib",
        "requests_oauthlib",
    )
    for noisy in noisy_loggers:
        caplog.set_level(logging.WARNING, logger=noisy)


@pytest.fixture
def env(tmp_path: Path, emulator: Emulator) -> dict[str, str]:
    """A fresh gtoken home, with every Google endpoint sent to the emulator."""
    return {"GTOKEN_HOME": str(tmp_path / "home"), "GTOKEN_EMULATOR_HOST": emulator.host}


@pytest.fixture
def clock(emulator: Emulator) -> Clock:
    """gtoken's clock, moved forward with the emulator's."""
    return Clock(emulator)


@pytest.fixture
def accounts(env: dict[str, str], clock: Clock) -> Iterator[Accounts]:
    """The accounts of ``env``'s home, on ``clock``, retrying without sleeping."""
    with Accounts(env=env, clock=clock, transport=no_wait) as accounts:
        yield accounts


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL: ``GTOKEN_TEST_DATABASE_URL``, else a throwaway server from the machine's
    binaries, else skipped loudly."""
    given = os.environ.get("GTOKEN_TEST_DATABASE_URL")
    if given:
        yield given
        return
    binaries = services.postgres_binaries()
    if binaries is None:
        unavailable("PostgreSQL", "no GTOKEN_TEST_DATABASE_URL and no initdb on this machine")
    assert binaries is not None
    with services.throwaway_postgres(binaries) as url:
        yield url


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    path = services.chromium()
    if path is None:
        unavailable("Chromium", "no chromium on PATH (apt-get install chromium)")
    assert path is not None
    return path


@pytest.fixture(scope="module")
def chromium(chromium_path: Path) -> Iterator[Browser]:
    """Headless Chromium, one per test module."""
    with launch_chromium(chromium_path) as browser:
        yield browser
