"""``GTOKEN_EMULATOR_HOST``: well-formed, and an emulator answering there."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final

from gtoken import endpoints
from gtoken.doctor.finding import Finding
from gtoken.endpoints import ENV_EMULATOR
from gtoken.errors import ConfigError, NetworkError
from gtoken.transport import Transport

__all__ = ["check_emulator"]

_SUBJECT: Final = "emulator"


def check_emulator(
    env: Mapping[str, str], transport: Callable[[], Transport]
) -> tuple[list[Finding], bool]:
    """The emulator's findings (none when it is not set), and whether the setting is usable:
    unset or ``host:port``. Asks ``/_emulator/health`` once."""
    host = env.get(ENV_EMULATOR, "").strip()
    if not host:
        return [], True
    try:
        base = endpoints.emulator(host).emulator
    except ConfigError:
        return [
            Finding(
                "problem",
                _SUBJECT,
                f"{ENV_EMULATOR}={host[:80]!r} is not host:port.",
                f"Set it as gtoken emulator prints it (e.g. {ENV_EMULATOR}=127.0.0.1:8089), or "
                "unset it to use Google.",
            )
        ], False
    name, _, port = host.rpartition(":")
    start = f"Start the emulator (gtoken emulator --host {name.strip('[]')} --port {port})"
    try:
        with transport() as http:
            status = http.request("GET", f"{base}/_emulator/health").status
    except NetworkError:
        return [
            Finding(
                "problem",
                _SUBJECT,
                f"{ENV_EMULATOR} is set, so all Google traffic goes to {base}, but nothing "
                "answers there.",
                f"{start}, or unset {ENV_EMULATOR} to use Google.",
            )
        ], True
    if status != 200:
        return [
            Finding(
                "problem",
                _SUBJECT,
                f"{base} answers HTTP {status} to /_emulator/health: it is not a gtoken emulator, "
                "or not ready.",
                f"{start}, or point {ENV_EMULATOR} at the one that runs.",
            )
        ], True
    return [
        Finding(
            "ok",
            _SUBJECT,
            f"{ENV_EMULATOR} is set: all Google traffic (sign-in, tokens, revocation, tokeninfo, "
            f"APIs) goes to the emulator at {base}, which answers. Its tokens do not work with "
            f"Google; unset {ENV_EMULATOR} to use Google.",
        )
    ], True
