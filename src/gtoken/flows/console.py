"""Where a login talks to the person: a text stream (stderr in the CLI) and a line reader.

Nothing here writes to stdout, which belongs to a program's data. ANSI styling appears only on a
terminal and never when ``NO_COLOR`` is set (https://no-color.org); the spinner only on a terminal.
"""

from __future__ import annotations

import os
import select
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Final, TextIO

__all__ = ["Console", "LineReader", "Waiting", "read_stdin_line"]

#: Reads one line the person typed or pasted, without its line ending; None at end of input or
#: once ``cancelled`` is set (a reader that cannot notice the event may return later: its answer
#: is then ignored).
LineReader = Callable[[threading.Event], str | None]

_FRAMES: Final = "|/-\\"
_BOLD: Final = "\x1b[1m"
_RESET: Final = "\x1b[0m"
_POLL_SECONDS: Final = 0.1


def read_stdin_line(cancelled: threading.Event) -> str | None:
    """A line from ``sys.stdin``. On POSIX the wait is cancellable, so that a login won by the
    loopback leaves no reader behind to swallow the program's next line of input."""
    stdin = sys.stdin
    if stdin is None:
        return None
    try:
        fd: int | None = stdin.fileno()
    except (AttributeError, OSError, ValueError):
        fd = None
    if fd is not None and os.name == "posix":
        while not cancelled.is_set():
            ready, _, _ = select.select([fd], [], [], _POLL_SECONDS)
            if ready:
                break
        else:
            return None
    line = stdin.readline()
    if not line or cancelled.is_set():
        return None
    return line.rstrip("\r\n")


@dataclass(frozen=True, kw_only=True)
class Console:
    """The person's side of a login: messages go to ``stream``, pasted lines come from
    ``read_line``. ``is_tty`` allows the spinner; styling needs ``is_tty`` and not ``no_color``."""

    stream: TextIO
    is_tty: bool = False
    no_color: bool = True
    read_line: LineReader = field(default=read_stdin_line, repr=False)

    @classmethod
    def for_stream(
        cls,
        stream: TextIO | None = None,
        *,
        env: Mapping[str, str] = os.environ,
        read_line: LineReader = read_stdin_line,
    ) -> Console:
        """A console on ``stream`` (default ``sys.stderr``), a TTY or not as it says, with
        colour unless ``NO_COLOR`` is set (to anything but the empty string) or ``TERM=dumb``."""
        stream = stream if stream is not None else sys.stderr
        try:
            is_tty = stream.isatty()
        except (AttributeError, ValueError, OSError):
            is_tty = False
        no_color = bool(env.get("NO_COLOR")) or env.get("TERM") == "dumb"
        return cls(stream=stream, is_tty=is_tty, no_color=no_color, read_line=read_line)

    @property
    def styled(self) -> bool:
        return self.is_tty and not self.no_color

    def strong(self, text: str) -> str:
        """``text`` in bold where styling is allowed, else as it is."""
        return f"{_BOLD}{text}{_RESET}" if self.styled else text

    def say(self, text: str = "") -> None:
        """Write ``text`` as a line."""
        self.write(text + "\n")

    def write(self, text: str) -> None:
        """Write ``text`` as it is (a prompt: no line ending) and flush."""
        try:
            self.stream.write(text)
        except UnicodeEncodeError:  # a terminal that cannot show "…"
            encoding = getattr(self.stream, "encoding", None) or "ascii"
            self.stream.write(text.encode(encoding, "replace").decode(encoding))
        self.stream.flush()


class Waiting:
    """The message shown while the browser is out: a spinner on a terminal, one line elsewhere.

    Use as a context manager and call :meth:`tick` every tenth of a second or so; leaving the
    block clears the spinner's line.
    """

    def __init__(self, console: Console, message: str) -> None:
        self._console = console
        self._message = message
        self._frame = 0

    def __enter__(self) -> Waiting:
        if self._console.is_tty:
            self._draw()
        else:
            self._console.say(self._message)
        return self

    def tick(self) -> None:
        """Advance the spinner (nothing off a terminal)."""
        if self._console.is_tty:
            self._frame += 1
            self._draw()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._console.is_tty:
            self._console.write("\r" + " " * (len(self._message) + 2) + "\r")

    def _draw(self) -> None:
        self._console.write(f"\r{_FRAMES[self._frame % len(_FRAMES)]} {self._message}")
