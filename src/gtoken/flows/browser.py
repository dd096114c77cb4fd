"""Whether a browser can be opened here, and opening one.

``BROWSER`` is honoured as Python's :mod:`webbrowser` does: a list of commands separated by
``os.pathsep``, each a browser name or a command line where ``%s`` stands for the URL (a trailing
``&`` runs it in the background).
"""

from __future__ import annotations

import os
import sys
import webbrowser
from collections.abc import Mapping

__all__ = ["can_open_browser", "open_in_browser"]


def _browser_commands(env: Mapping[str, str]) -> list[str]:
    return [command for command in env.get("BROWSER", "").split(os.pathsep) if command.strip()]


def can_open_browser(env: Mapping[str, str] = os.environ, *, platform: str = sys.platform) -> bool:
    """Whether a browser the person can see is likely to open from here.

    ``BROWSER`` set: yes, the person chose one. Otherwise no over SSH (``SSH_CONNECTION`` or
    ``SSH_TTY``), and no on Linux and other Unixes without a display (``DISPLAY`` or
    ``WAYLAND_DISPLAY``): containers, servers, CI. macOS and Windows: yes.
    """
    if _browser_commands(env):
        return True
    if env.get("SSH_CONNECTION") or env.get("SSH_TTY"):
        return False
    if platform in ("darwin", "win32"):
        return True
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


def open_in_browser(url: str, *, env: Mapping[str, str] = os.environ) -> bool:
    """Open ``url`` in a browser; False when none could be started (then print it instead).

    The commands of ``env["BROWSER"]`` are tried in turn; without it, :func:`webbrowser.open`
    chooses. A command that fails to start counts as no browser.
    """
    commands = _browser_commands(env)
    try:
        if not commands:
            return webbrowser.open(url)
        for command in commands:
            try:
                browser = webbrowser.get(command)
            except webbrowser.Error:
                continue
            if browser.open(url):
                return True
    except (webbrowser.Error, OSError):
        return False
    return False
