"""The console: messages on the given stream, a spinner only on a terminal, NO_COLOR honoured."""

from __future__ import annotations

import io
import subprocess
import sys
import time

from gtoken.flows import Console, Waiting
from tests.flows.conftest import Google
from tests.flows.fakes import FakeBrowser, Screen

WAITING = "Waiting for you to finish in the browser… (Ctrl-C to cancel)"


def test_for_stream_reads_the_environment() -> None:
    stream = io.StringIO()
    console = Console.for_stream(stream, env={})
    assert console.stream is stream
    assert not console.is_tty
    assert not console.no_color
    assert Console.for_stream(stream, env={"NO_COLOR": "1"}).no_color
    assert not Console.for_stream(stream, env={"NO_COLOR": ""}).no_color
    assert Console.for_stream(stream, env={"TERM": "dumb"}).no_color
    assert Console.for_stream(env={}).stream is sys.stderr


def test_styling_only_on_a_terminal_without_no_color() -> None:
    stream = io.StringIO()
    assert Console(stream=stream, is_tty=True, no_color=False).strong("x") == "\x1b[1mx\x1b[0m"
    assert Console(stream=stream, is_tty=True, no_color=True).strong("x") == "x"
    assert Console(stream=stream, is_tty=False, no_color=False).strong("x") == "x"


def test_waiting_spins_on_a_terminal_and_clears_its_line() -> None:
    stream = io.StringIO()
    with Waiting(Console(stream=stream, is_tty=True), "Waiting") as waiting:
        waiting.tick()
        waiting.tick()
    assert stream.getvalue() == "\r| Waiting\r/ Waiting\r- Waiting\r         \r"


def test_waiting_is_one_line_elsewhere() -> None:
    stream = io.StringIO()
    with Waiting(Console(stream=stream, is_tty=False), "Waiting") as waiting:
        waiting.tick()
    assert stream.getvalue() == "Waiting\n"


def test_a_login_on_a_terminal_spins_without_colour_when_asked(google: Google) -> None:
    plain = Screen(is_tty=True, no_color=True)
    google.login(plain, open_browser=FakeBrowser())
    assert f"\r| {WAITING}" in plain.text
    assert "\x1b[" not in plain.text

    coloured = Screen(is_tty=True, no_color=False)
    google.login(coloured, open_browser=FakeBrowser())
    assert "\x1b[1mhttp://" in coloured.text


def test_read_stdin_line_reads_a_line_and_can_be_cancelled() -> None:
    program = (
        "import threading, time; from gtoken.flows import read_stdin_line\n"
        "print(repr(read_stdin_line(threading.Event())), flush=True)\n"
        "cancelled = threading.Event(); threading.Timer(0.2, cancelled.set).start()\n"
        "started = time.monotonic(); line = read_stdin_line(cancelled)\n"
        "print(repr(line), time.monotonic() - started < 2, flush=True)\n"
    )
    with subprocess.Popen(
        [sys.executable, "-c", program],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as child:
        assert child.stdin is not None
        assert child.stdout is not None
        child.stdin.write("http://127.0.0.1:1/?code=x\r\n")
        child.stdin.flush()
        assert child.stdout.readline() == "'http://127.0.0.1:1/?code=x'\n"
        started = time.monotonic()
        assert child.stdout.readline() == "None True\n"  # stdin still open: cancelled
        assert time.monotonic() - started < 2
        child.stdin.close()
        assert child.wait(5) == 0
