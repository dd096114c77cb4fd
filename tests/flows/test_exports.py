"""gtoken.flows exports what its docs name, and nothing else."""

from __future__ import annotations

import gtoken.flows

PUBLIC = {
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
}


def test_public_names() -> None:
    assert set(gtoken.flows.__all__) == PUBLIC
    for name in PUBLIC:
        assert getattr(gtoken.flows, name) is not None
