"""``gtoken emulator``."""

from __future__ import annotations

import argparse

from gtoken.cli.output import Io
from gtoken.errors import ConfigError


def emulator(args: argparse.Namespace, io: Io) -> int:
    try:
        from gtoken.emulator.server import serve
    except ImportError as exc:
        raise ConfigError(
            f"the emulator needs extra packages ({exc.name} is missing)",
            hint="Install them with: pip install 'gtoken[emulator]'",
        ) from None
    try:
        serve(args.host, args.port)
    except OSError as exc:
        raise ConfigError(
            f"cannot listen on {args.host}:{args.port}: {exc.strerror}",
            hint="Pick another --port (0 picks a free one).",
        ) from None
    except KeyboardInterrupt:
        pass
    return 0
