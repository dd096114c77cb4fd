"""When a browser can be opened, and opening one as Python's webbrowser does with BROWSER."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

import pytest

from gtoken.flows import can_open_browser, open_in_browser


@pytest.mark.parametrize(
    ("env", "platform", "expected"),
    [
        ({"DISPLAY": ":0"}, "linux", True),
        ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", True),
        ({}, "linux", False),  # a server, a container, CI
        ({"TERM": "xterm"}, "freebsd13", False),
        ({"BROWSER": "w3m"}, "linux", True),  # the person chose one
        ({"DISPLAY": ":0", "SSH_CONNECTION": "1.2.3.4 5 6.7.8.9 22"}, "linux", False),  # -X
        ({"SSH_TTY": "/dev/pts/1"}, "darwin", False),
        ({"SSH_TTY": "/dev/pts/1", "BROWSER": "echo %s"}, "linux", True),
        ({}, "darwin", True),
        ({}, "win32", True),
        ({"BROWSER": ""}, "linux", False),
    ],
)
def test_can_open_browser(env: dict[str, str], platform: str, expected: bool) -> None:
    assert can_open_browser(env, platform=platform) is expected


def writes_url_to(path: Path) -> str:
    script = "import sys; open(sys.argv[1], 'w').write(sys.argv[2])"
    return shlex.join([sys.executable, "-c", script, str(path)]) + " %s"


def test_browser_commands_are_tried_in_turn(tmp_path: Path) -> None:
    seen = tmp_path / "url"
    commands = ["no-such-browser-anywhere", f"{shlex.quote(sys.executable)} -c 'exit(1)' %s"]
    env = {"BROWSER": os.pathsep.join([*commands, writes_url_to(seen)])}
    assert open_in_browser("http://127.0.0.1:9/?a=1&b=2", env=env)
    assert seen.read_text() == "http://127.0.0.1:9/?a=1&b=2"


def test_no_browser_that_works_is_false() -> None:
    env = {"BROWSER": os.pathsep.join(["no-such-browser-anywhere", "false %s"])}
    assert open_in_browser("http://127.0.0.1:9/", env=env) is False
