"""What the doctor reports: one :class:`Finding` per thing it looked at, in plain words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, Literal

__all__ = ["LOGIN", "Finding", "Level", "sentence", "span", "when"]

Level = Literal["ok", "warning", "problem"]

#: The command that signs an account in, as the fixes show it.
LOGIN: Final = "gtoken login --client-secrets client_secret.json --scope SCOPE"


@dataclass(frozen=True)
class Finding:
    """One thing the doctor saw: ``ok``, a ``warning`` (works, but will not for long or not as
    meant) or a ``problem`` (does not work); ``fix`` says what to do about the last two."""

    level: Level
    subject: str
    detail: str
    fix: str | None = None


def when(seconds: float) -> str:
    """A moment as people read it, in UTC."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M UTC")


def span(seconds: float) -> str:
    """A stretch of time, rounded to what matters: minutes, hours or days."""
    minutes = max(1, int(seconds // 60))
    if minutes < 120:
        return f"{minutes} minutes"
    hours = minutes // 60
    return f"{hours} hours" if hours < 48 else f"{hours // 24} days"


def sentence(text: str) -> str:
    """``text`` with a capital first letter and a full stop."""
    text = text.strip().rstrip(".;")
    return text[:1].upper() + text[1:] + "."
