"""``python -m bench [NAME ...]``: run the benchmarks (all, or those named), print the tables,
update docs/benchmarks.md.

Exits 1 when a benchmark misses its target or its numbers cannot be trusted, 2 on bad options.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from bench import (
    accounts_scale,
    async_storm,
    broker,
    credentials_overhead,
    emulator_token,
    refresh_storm,
    report,
    token_cli,
    vault,
)
from bench.load import generator


class Outcome(Protocol):
    @property
    def ok(self) -> bool: ...


OutcomeT = TypeVar("OutcomeT", bound=Outcome)


@dataclass(frozen=True)
class Benchmark:
    name: str
    target: str  # one line, for --help and the docs' introduction
    run: Callable[[argparse.Namespace, report.Machine], report.Told]


def _told(
    outcome: OutcomeT,
    text: Callable[[OutcomeT], str],
    markdown: Callable[[OutcomeT, report.Machine], str],
    machine: report.Machine,
) -> report.Told:
    return report.Told(outcome.ok, text(outcome), markdown(outcome, machine))


def _emulator_token(args: argparse.Namespace, machine: report.Machine) -> report.Told:
    options = emulator_token.Options(seconds=args.seconds, connections=args.connections)
    outcome = emulator_token.run(generator(args.load), options)
    return _told(outcome, emulator_token.text, emulator_token.markdown, machine)


def _token_cli(args: argparse.Namespace, machine: report.Machine) -> report.Told:
    return _told(token_cli.run(), token_cli.text, token_cli.markdown, machine)


def _refresh_storm(args: argparse.Namespace, machine: report.Machine) -> report.Told:
    return _told(refresh_storm.run(), refresh_storm.text, refresh_storm.markdown, machine)


def _credentials_overhead(args: argparse.Namespace, machine: report.Machine) -> report.Told:
    outcome = credentials_overhead.run()
    return _told(outcome, credentials_overhead.text, credentials_overhead.markdown, machine)


def _async_storm(args: argparse.Namespace, machine: report.Machine) -> report.Told:
    return _told(async_storm.run(), async_storm.text, async_storm.markdown, machine)


def _accounts_scale(args: argparse.Namespace, machine: report.Machine) -> report.Told:
    outcome = accounts_scale.run()
    return _told(outcome, accounts_scale.text, accounts_scale.markdown, machine)


def _vault_access(args: argparse.Namespace, machine: report.Machine) -> report.Told:
    return _told(vault.run_access(), vault.access_text, vault.access_markdown, machine)


def _vault_storm(args: argparse.Namespace, machine: report.Machine) -> report.Told:
    return _told(vault.run_storm(), vault.storm_text, vault.storm_markdown, machine)


def _vault_due(args: argparse.Namespace, machine: report.Machine) -> report.Told:
    return _told(vault.run_due(), vault.due_text, vault.due_markdown, machine)


def _broker_tokens(args: argparse.Namespace, machine: report.Machine) -> report.Told:
    outcome = broker.run_tokens(
        generator(args.load), seconds=args.seconds, connections=args.connections
    )
    return _told(outcome, broker.tokens_text, broker.tokens_markdown, machine)


def _broker_storm(args: argparse.Namespace, machine: report.Machine) -> report.Told:
    return _told(broker.run_storm(), broker.storm_text, broker.storm_markdown, machine)


def _broker_due(args: argparse.Namespace, machine: report.Machine) -> report.Told:
    return _told(broker.run_due(), broker.due_text, broker.due_markdown, machine)


def _broker_webhooks(args: argparse.Namespace, machine: report.Machine) -> report.Told:
    return _told(broker.run_webhooks(), broker.webhooks_text, broker.webhooks_markdown, machine)


BENCHMARKS = [
    Benchmark(
        emulator_token.NAME,
        "the emulator's token endpoint serves at least 1,000 requests/s, for every grant",
        _emulator_token,
    ),
    Benchmark(
        token_cli.NAME,
        "`gtoken token` with a valid stored token, whole process: at most 0.25 × the time of "
        "the quickstart's `token.json` script",
        _token_cli,
    ),
    Benchmark(
        refresh_storm.NAME,
        "8 processes × 16 threads, one account's token just expired: exactly 1 refresh, every "
        "caller gets its token, all within 3 × one refresh round trip",
        _refresh_storm,
    ),
    Benchmark(
        credentials_overhead.NAME,
        "gtoken's google-auth Credentials with a valid token add under 5 µs per request "
        "to what google-auth's own Credentials cost",
        _credentials_overhead,
    ),
    Benchmark(
        async_storm.NAME,
        "1,000 asyncio tasks, one account's token just expired: exactly 1 refresh (and the time "
        "to serve them all)",
        _async_storm,
    ),
    Benchmark(
        accounts_scale.NAME,
        "1,000 stored accounts: a token lookup (library and `gtoken token`) and adding an "
        "account within 1.3 × what they take with one",
        _accounts_scale,
    ),
    Benchmark(
        vault.ACCESS,
        "Vault.access_token for a valid token: calls/s on SQLite and PostgreSQL; with 1,000,000 "
        "stored connections at most 1.5 × the time with 1,000 (PostgreSQL)",
        _vault_access,
    ),
    Benchmark(
        vault.STORM,
        "3 processes × 50 threads, one user's expired token, PostgreSQL vault: exactly 1 refresh, "
        "150 equal tokens",
        _vault_storm,
    ),
    Benchmark(
        vault.DUE,
        "10,000 connections due, refresh_due in 3 processes at once (PostgreSQL): all refreshed "
        "within 60 s, none twice",
        _vault_due,
    ),
    Benchmark(
        broker.TOKENS,
        "gtoken serve, token requests for users with valid tokens (PostgreSQL): at least 1,500 "
        "requests/s, p99 under 50 ms, and at least half the throughput of the same stack "
        "answering a constant JSON body",
        _broker_tokens,
    ),
    Benchmark(
        broker.STORM,
        "500 concurrent requests for one expired token over 3 broker processes: exactly 1 "
        "refresh, all 500 answered with the new token",
        _broker_storm,
    ),
    Benchmark(
        broker.DUE,
        "10,000 connections falling due, 3 broker replicas running the worker: all refreshed "
        "within 60 s, none twice",
        _broker_due,
    ),
    Benchmark(
        broker.WEBHOOKS,
        "1,000 webhooks, a receiver failing a third of the time: all delivered, none lost, "
        "duplicates only after a failed attempt",
        _broker_webhooks,
    ),
]
NAMES = [b.name for b in BENCHMARKS]


def _parser() -> argparse.ArgumentParser:
    listing = "\n".join(
        textwrap.fill(
            b.target.replace("`", ""),
            width=100,
            initial_indent=f"  {b.name:<22}",
            subsequent_indent=" " * 24,
        )
        for b in BENCHMARKS
    )
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Run gtoken's benchmarks against 127.0.0.1, print the results and write\n"
        "them to docs/benchmarks.md with the machine and the date.",
        epilog=f"benchmarks (all by default, in this order):\n{listing}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help=f"run only these benchmarks ({', '.join(NAMES)})",
    )
    parser.add_argument(
        "--seconds",
        type=int,
        default=5,
        choices=range(1, 31),
        metavar="1-30",
        help="emulator_token, broker_tokens: how long each measurement runs (default 5)",
    )
    parser.add_argument(
        "--connections",
        type=int,
        default=32,
        choices=range(1, 257),
        metavar="1-256",
        help="emulator_token, broker_tokens: concurrent keep-alive connections (default 32)",
    )
    parser.add_argument(
        "--load",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="emulator_token's and broker_tokens' load generator: wrk (installed with apt-get "
        "when missing and root), the Python one (a lower bound), or auto: wrk when it can be "
        "had (default)",
    )
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite docs/benchmarks.md")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in NAMES]
    if unknown:
        parser.error(f"no benchmark {', '.join(unknown)} (there are: {', '.join(NAMES)})")
    chosen = [b for b in BENCHMARKS if not args.names or b.name in args.names]
    machine = report.machine()
    if not args.no_docs:
        report.write_head(report.docs_head([(b.name, b.target) for b in BENCHMARKS]))
    missed: list[str] = []
    began = time.monotonic()
    for bench in chosen:
        print(f"bench: {bench.name}", file=sys.stderr, flush=True)
        try:
            told = bench.run(args, machine)
        except RuntimeError as exc:  # could not set up or measure: no numbers to trust
            print(f"bench: {bench.name}: {exc}", file=sys.stderr)
            missed.append(bench.name)
            continue
        print(told.text + "\n", flush=True)
        if not args.no_docs:
            report.write_section(bench.name, told.markdown)
        if not told.ok:
            missed.append(bench.name)
    took = time.monotonic() - began
    if not args.no_docs:
        print(f"bench: wrote {report.DOCS}", file=sys.stderr)
    if missed:
        print(f"bench: missed in {took:.0f} s: {', '.join(missed)}", file=sys.stderr)
        return 1
    print(f"bench: {len(chosen)} benchmark(s) met their targets in {took:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
