"""Parse the command line, run the command, turn its error into a message and an exit code."""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable, Sequence

from gtoken.cli.exits import fail
from gtoken.cli.output import Io
from gtoken.cli.parser import build

__all__ = ["Handler", "run"]

Handler = Callable[[argparse.Namespace, Io], int]


def run(argv: Sequence[str], io: Io) -> int:
    """Run ``gtoken ARGV``. argparse exits by itself (2) on a usage error and after ``--help``."""
    parser, _ = build()
    args = parser.parse_args(argv)
    try:
        return _handler(args.handler)(args, io)
    except Exception as error:
        return fail(error, io)


def _handler(name: str) -> Handler:
    module, _, function = name.partition(":")
    handler: Handler = getattr(importlib.import_module(f"gtoken.cli.{module}"), function)
    return handler
