"""The ``gtoken`` command. Thin: parse arguments, call the library, print.

Data goes to stdout, everything else to stderr. Exit codes (also in ``gtoken --help``):

====  =====================================================
0     success
1     an unexpected error
2     usage: the command line is wrong
3     configuration: a file, key or setting is missing or bad
4     consent needed: run ``gtoken login`` again
5     network: Google (or the emulator) could not be reached
====  =====================================================
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from gtoken import __version__

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_CONFIG = 3
EXIT_CONSENT = 4
EXIT_NETWORK = 5

EPILOG = """exit codes: 0 ok, 1 unexpected error, 2 usage, 3 configuration,
4 consent needed (run gtoken login), 5 network"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gtoken",
        description="Google API OAuth 2.0 tokens for programs, kept working.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"gtoken {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    emulator = commands.add_parser(
        "emulator",
        help="run the local Google OAuth emulator",
        description="Run a local fake of Google's OAuth endpoints and of slices of the Gmail, "
        "Drive and Sheets APIs. The first line on stdout is "
        "'gtoken emulator listening on http://HOST:PORT'.",
    )
    emulator.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    emulator.add_argument(
        "--port", type=int, default=8089, help="port to bind; 0 picks a free one (default 8089)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "emulator":
        return _emulator(args.host, args.port)
    return EXIT_USAGE  # pragma: no cover - argparse refuses unknown commands first


def _emulator(host: str, port: int) -> int:
    try:
        from gtoken.emulator.server import serve
    except ImportError as exc:
        print(
            f"gtoken: the emulator needs extra packages ({exc.name} is missing); "
            "install them with: pip install 'gtoken[emulator]'",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    try:
        serve(host, port)
    except OSError as exc:
        print(
            f"gtoken: cannot listen on {host}:{port}: {exc.strerror}; pick another --port "
            "(0 picks a free one)",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    except KeyboardInterrupt:
        pass
    return EXIT_OK
