"""Consent flows for a person at a terminal: loopback, paste-back and the device flow.

:func:`run_login` runs the person through Google's consent and returns the
:class:`~gtoken.oauth.Token` Google granted; it never touches the store. Its I/O (the console,
the browser, the clock, the transport) is handed in.
"""

from __future__ import annotations

from gtoken.flows.browser import can_open_browser, open_in_browser
from gtoken.flows.console import Console, LineReader, Waiting, read_stdin_line
from gtoken.flows.device import check_device_scopes, device_login
from gtoken.flows.login import MAX_PASTE_TRIES, Mode, run_login
from gtoken.flows.loopback import LoopbackReceiver

__all__ = [
    "MAX_PASTE_TRIES",
    "Console",
    "LineReader",
    "LoopbackReceiver",
    "Mode",
    "Waiting",
    "can_open_browser",
    "check_device_scopes",
    "device_login",
    "open_in_browser",
    "read_stdin_line",
    "run_login",
]
