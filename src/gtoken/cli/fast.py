"""``gtoken token`` and ``gtoken header`` when the stored token will do, without argparse.

Reads the few options of the two commands by hand; a command line with anything else in it
(``--help``, an unknown or misspelt option, a value argparse would refuse) is left to the full
parser, which explains it. So is every case :func:`gtoken.cli.cached.cached_token` declines.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping, Sequence

from gtoken.store.format import DEFAULT_MIN_TTL

__all__ = ["TokenOptions", "parse_token_options", "try_cached"]

_OPTIONS = ("--account", "--scope", "--format", "--min-ttl")


class TokenOptions:
    """What ``gtoken token``/``header`` was asked for."""

    __slots__ = ("account", "format", "min_ttl", "scopes")

    def __init__(self, format: str) -> None:
        self.account: str | None = None
        self.scopes: list[str] = []
        self.format = format
        self.min_ttl = DEFAULT_MIN_TTL


def parse_token_options(args: Sequence[str]) -> TokenOptions | None:
    """The options of a plain ``token``/``header`` command line, or None for argparse to read."""
    if not args or args[0] not in ("token", "header"):
        return None
    options = TokenOptions("header" if args[0] == "header" else "bare")
    rest = list(args[1:])
    while rest:
        name, equals, value = rest.pop(0).partition("=")
        if name not in _OPTIONS or (name == "--format" and args[0] == "header"):
            return None
        if not equals:
            if not rest or rest[0].startswith("-"):
                return None
            value = rest.pop(0)
        if not _take(options, name, value):
            return None
    return options


def _take(options: TokenOptions, name: str, value: str) -> bool:
    if name == "--account":
        options.account = value
    elif name == "--scope":
        options.scopes.append(value)
    elif name == "--format":
        if value not in ("bare", "header", "json"):
            return False
        options.format = value
    else:
        try:
            seconds = float(value)
        except ValueError:
            return False
        if not 0 <= seconds < float("inf"):  # also refuses NaN, as the full parser does
            return False
        options.min_ttl = seconds
    return True


def try_cached(args: Sequence[str], env: Mapping[str, str] = os.environ) -> int | None:
    """Print the stored token and return 0, or None when the full command must run."""
    options = parse_token_options(args)
    if options is None:
        return None
    from gtoken.cli.cached import cached_token

    now = time.time()
    cached = cached_token(
        env, account=options.account, scopes=options.scopes, min_ttl=options.min_ttl, now=now
    )
    if cached is None:
        return None
    from gtoken.cli.formats import render_token

    sys.stdout.write(
        render_token(
            options.format,
            cached.access_token,
            expires_at=cached.expires_at,
            scopes=cached.scopes,
            account=cached.account,
            now=now,
        )
    )
    sys.stdout.flush()
    return 0
