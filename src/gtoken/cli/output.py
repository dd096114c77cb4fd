"""Where a command writes, and how what it writes reads: data on stdout, words on stderr.

Styling (bold, colour) appears only on stderr, only when it is a terminal, and never when
``NO_COLOR`` is set to anything (https://no-color.org) or ``TERM=dumb``. Stdout stays plain: it
is for programs.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TextIO

__all__ = [
    "ENV_CLIENT_SECRETS",
    "Io",
    "client_label",
    "login_command",
    "relative_time",
    "short_scope",
    "short_scopes",
    "table",
]

#: Where ``gtoken login`` and ``gtoken doctor`` find client_secret.json without --client-secrets.
ENV_CLIENT_SECRETS = "GTOKEN_CLIENT_SECRETS"

_AUTH_PREFIX = "https://www.googleapis.com/auth/"
_SHORT_WORDS = {
    "https://mail.google.com/": "mail",
    _AUTH_PREFIX + "userinfo.email": "email",
    _AUTH_PREFIX + "userinfo.profile": "profile",
}
_CLIENT_SUFFIX = ".apps.googleusercontent.com"
_CLIENT_WIDTH = 18

_RED_BOLD = "\x1b[1;31m"
_YELLOW = "\x1b[33m"
_BOLD = "\x1b[1m"
_RESET = "\x1b[0m"


@dataclass(frozen=True)
class Io:
    """A command's streams and environment."""

    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)
    env: Mapping[str, str] = field(default_factory=lambda: os.environ)

    @property
    def styled(self) -> bool:
        """Whether stderr may carry ANSI styling."""
        if self.env.get("NO_COLOR") or self.env.get("TERM") == "dumb":
            return False
        try:
            return self.err.isatty()
        except (AttributeError, ValueError, OSError):
            return False

    def say(self, text: str = "") -> None:
        """A line for the person, on stderr."""
        self.err.write(text + "\n")
        self.err.flush()

    def data(self, text: str) -> None:
        """Output for programs, on stdout, as it is."""
        self.out.write(text)
        self.out.flush()

    def strong(self, text: str) -> str:
        return f"{_BOLD}{text}{_RESET}" if self.styled else text

    def bad(self, text: str) -> str:
        return f"{_RED_BOLD}{text}{_RESET}" if self.styled else text

    def warn(self, text: str) -> str:
        return f"{_YELLOW}{text}{_RESET}" if self.styled else text


def short_scope(scope: str) -> str:
    """How people write ``scope``: ``gmail.readonly`` for its URL, ``mail`` for Gmail's full
    access, ``email`` and ``profile`` for the userinfo scopes."""
    return _SHORT_WORDS.get(scope) or scope.removeprefix(_AUTH_PREFIX)


def short_scopes(scopes: Iterable[str]) -> list[str]:
    return sorted({short_scope(s) for s in scopes})


def login_command(
    scopes: Iterable[str],
    *,
    account: str | None,
    env: Mapping[str, str],
    client_secrets: str | None = None,
) -> str:
    """The ``gtoken login`` that asks for ``scopes`` (earlier grants are kept)."""
    command = ["gtoken", "login"]
    if client_secrets:
        command += ["--client-secrets", client_secrets]
    elif not env.get(ENV_CLIENT_SECRETS):
        command += ["--client-secrets", "CLIENT_SECRET_JSON"]
    for scope in short_scopes(scopes):
        command += ["--scope", scope]
    if account:
        command += ["--account", account]
    return shlex.join(command)


def client_label(client_id: str) -> str:
    """A client id short enough for a table: ``123456789012-abcd…``."""
    name = client_id.removesuffix(_CLIENT_SUFFIX)
    return name if len(name) <= _CLIENT_WIDTH else name[: _CLIENT_WIDTH - 1] + "…"


def relative_time(moment: datetime | None, now: datetime) -> str:
    """``in 42 min``, ``expired 3 h ago``, or ``unknown``."""
    if moment is None:
        return "unknown"
    seconds = (moment - now).total_seconds()
    span = _span(abs(seconds))
    return f"in {span}" if seconds > 0 else f"expired {span} ago"


def _span(seconds: float) -> str:
    if seconds < 60:
        return f"{int(seconds)} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min"
    if seconds < 2 * 86400:
        return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60)} min"
    return f"{int(seconds // 86400)} days"


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """Columns aligned with two spaces between them; the last column is not padded."""
    rows = [list(header), *(list(r) for r in rows)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = []
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=False)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return "\n".join(lines) + "\n"
