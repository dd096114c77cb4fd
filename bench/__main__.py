"""``python -m bench``: run every benchmark, print the tables, update docs/benchmarks.md.

Exits 1 when a benchmark misses its target or its numbers cannot be trusted, 2 on bad options.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bench import emulator_token, report
from bench.load import generator


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Run gtoken's benchmarks against 127.0.0.1, print the results and write "
        "them to docs/benchmarks.md with the machine and the date.",
    )
    parser.add_argument(
        "--seconds",
        type=int,
        default=5,
        choices=range(1, 31),
        metavar="1-30",
        help="how long each measurement runs (default 5)",
    )
    parser.add_argument(
        "--connections",
        type=int,
        default=32,
        choices=range(1, 257),
        metavar="1-256",
        help="concurrent keep-alive connections (default 32)",
    )
    parser.add_argument(
        "--load",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="load generator: wrk (installed with apt-get when missing and root), the Python "
        "one (a lower bound), or auto: wrk when it can be had (default)",
    )
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite docs/benchmarks.md")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    options = emulator_token.Options(seconds=args.seconds, connections=args.connections)
    try:
        outcome = emulator_token.run(generator(args.load), options)
    except RuntimeError as exc:  # could not set up or measure: no numbers to trust
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    print(emulator_token.text(outcome), flush=True)
    if not args.no_docs:
        report.write_section(
            emulator_token.NAME, emulator_token.markdown(outcome, report.machine())
        )
        print(f"bench: wrote {report.DOCS}", file=sys.stderr)
    return 0 if outcome.ok else 1


if __name__ == "__main__":
    sys.exit(main())
