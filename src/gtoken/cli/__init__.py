"""The ``gtoken`` command. Thin: parse arguments, call the library, print.

Data goes to stdout, everything else to stderr. Exit codes (also in ``gtoken --help``; the
mapping from gtoken's errors is in :mod:`gtoken.cli.exits`):

====  =====================================================
0     success
1     an unexpected error
2     usage: the command line is wrong
3     configuration: a file, key or setting is missing or bad
4     consent needed: run ``gtoken login`` again
5     network: Google (or the emulator) could not be reached
130   interrupted (Ctrl-C)
====  =====================================================

``gtoken token`` and ``gtoken header`` answer from the store without loading the rest of gtoken
when the stored token will do (:mod:`gtoken.cli.fast`); this module imports nothing else before
that, so keep its imports to ``os`` and ``sys``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

__all__ = ["main"]

_INTERRUPTED = 130


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``gtoken`` with ``argv`` (default: the process's arguments); returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        from gtoken.cli.fast import try_cached

        done = try_cached(args)
        if done is not None:
            return done
        from gtoken.cli.app import run
        from gtoken.cli.output import Io

        return run(args, Io())
    except KeyboardInterrupt:
        return _INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`gtoken accounts | head -1`): not an error worth a word.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
