"""Keeps the generated parts of ``docs/cli.md`` in step with the code.

Between ``<!-- generated: WHAT -->`` and ``<!-- end generated -->`` the file holds what the code
says: ``help gtoken login`` is that command's ``--help`` at a fixed width, ``environment`` the
table of :data:`ENVIRONMENT`, ``exit codes`` the table of :data:`gtoken.cli.exits.EXIT_CODES`.
Everything else in the file is prose, left as it is. ``tests/cli/test_docs.py`` fails when the
file is out of date; to bring it up to date::

    python -m gtoken.cli.docs docs/cli.md            # rewrite the generated parts
    python -m gtoken.cli.docs --check docs/cli.md    # exit 1 when they are out of date
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from gtoken.cli.exits import EXIT_CODES
from gtoken.cli.parser import build

__all__ = ["ENVIRONMENT", "WIDTH", "commands", "help_text", "main", "update"]

#: The width the help texts are generated at (``COLUMNS=WIDTH + 2`` gives the same in a shell).
WIDTH = 98

#: Every environment variable the command reads (directly or through the library), and what for.
ENVIRONMENT: tuple[tuple[str, str], ...] = (
    (
        "GTOKEN_HOME",
        "gtoken's directory: the store (`store.sqlite3`) and the key file (`key.json`). Default "
        "`$XDG_DATA_HOME/gtoken`, else `~/.local/share/gtoken`. Created mode 0700; gtoken refuses "
        "files in it that other users can read.",
    ),
    ("XDG_DATA_HOME", "where the default `GTOKEN_HOME` goes (when absolute)."),
    (
        "GTOKEN_KEY",
        "the encryption key, base64 of 32 bytes (`gtoken key new` prints one). When set, "
        "`key.json` is not read or written.",
    ),
    (
        "GTOKEN_KEY_NEW",
        "the key `gtoken key rotate` moves the store to: required when `GTOKEN_KEY` is set, "
        "optional with `key.json` (default: a new random key).",
    ),
    (
        "GTOKEN_CLIENT_SECRETS",
        "the `client_secret.json` for `gtoken login` and `gtoken doctor` when "
        "`--client-secrets` is not given.",
    ),
    (
        "GTOKEN_EMULATOR_HOST",
        "`host:port` of a `gtoken emulator`: every Google endpoint goes there instead.",
    ),
    (
        "GTOKEN_DATABASE_URL",
        "the vault's database for `gtoken vault` commands (and `gtoken.Vault`), and the "
        "broker's for `gtoken serve`, when `--database-url` is not given: `sqlite:///path` or "
        "`postgresql://...`.",
    ),
    (
        "GTOKEN_BROKER_CONFIG",
        "a TOML file of `gtoken serve` settings; each `GTOKEN_BROKER_...` variable sets one "
        "setting, see [broker.md](broker.md).",
    ),
    (
        "GTOKEN_VAULT_KEYS",
        "the vault's keys: base64 keys of 32 bytes, comma-separated, newest first; the newest "
        "seals, all open. No key (here or in `GTOKEN_VAULT_KEY_FILE`): the vault refuses to start.",
    ),
    (
        "GTOKEN_VAULT_KEY_FILE",
        "a `key.json` (the format of the store's key file) holding the vault's keys, used when "
        "`GTOKEN_VAULT_KEYS` is not set.",
    ),
    (
        "GTOKEN_DEBUG",
        "`1` prints the traceback of an error before its message, for a bug report.",
    ),
    (
        "BROWSER",
        "the browser `gtoken login` opens, as Python's `webbrowser` reads it (`%s` stands for "
        "the address).",
    ),
    (
        "DISPLAY, WAYLAND_DISPLAY, SSH_CONNECTION, SSH_TTY",
        "without `BROWSER`, `gtoken login` opens a browser only when there is a display and "
        "no SSH session; otherwise it prints the address and waits for it to be pasted back.",
    ),
    ("NO_COLOR", "any value turns styling off (it is only ever used on a terminal's stderr)."),
    ("TERM", "`dumb` turns styling off too."),
    ("PATH", "where `gtoken curl` finds `curl`."),
)


def commands() -> list[str]:
    """Every command's words, ``gtoken`` itself first."""
    _, found = build(width=WIDTH)
    return ["gtoken", *found]


def help_text(words: str) -> str:
    """``gtoken WORDS --help`` as it prints at :data:`WIDTH` columns."""
    parser, found = build(width=WIDTH)
    return (parser if words == "gtoken" else found[words.removeprefix("gtoken ")]).format_help()


_BLOCK = re.compile(
    r"(?P<open><!-- generated: (?P<what>[^>]+?) -->\n)"
    r"(?P<body>.*?)"
    r"(?P<close><!-- end generated -->)",
    re.DOTALL,
)


def render(what: str) -> str:
    """The content of the generated block ``what``."""
    if what.startswith("help "):
        return f"```text\n{help_text(what.removeprefix('help '))}```\n"
    if what == "environment":
        rows = [
            "| variable | what it does |",
            "|---|---|",
            *(f"| {_names(name)} | {text} |" for name, text in ENVIRONMENT),
        ]
        return "\n".join(rows) + "\n"
    if what == "exit codes":
        rows = ["| code | meaning |", "|---|---|"]
        rows += [f"| {code} | {meaning} |" for code, meaning in EXIT_CODES]
        return "\n".join(rows) + "\n"
    raise ValueError(f"unknown generated block {what!r}")


def _names(names: str) -> str:
    return ", ".join(f"`{name}`" for name in names.split(", "))


def update(text: str) -> str:
    """``text`` with every generated block rewritten."""
    return _BLOCK.sub(lambda m: m.group("open") + render(m.group("what")) + m.group("close"), text)


def generated(text: str) -> list[str]:
    """The names of the generated blocks in ``text``, in order."""
    return [m.group("what") for m in _BLOCK.finditer(text)]


def main(argv: Sequence[str] | None = None) -> int:
    options = argparse.ArgumentParser(prog="python -m gtoken.cli.docs", description=__doc__)
    options.add_argument("--check", action="store_true", help="exit 1 if the file is out of date")
    options.add_argument("path", type=Path, help="docs/cli.md")
    args = options.parse_args(argv)
    text = args.path.read_text(encoding="utf-8")
    fresh = update(text)
    if args.check:
        if fresh != text:
            print(f"{args.path} is out of date: run python -m gtoken.cli.docs {args.path}")
            return 1
        return 0
    if fresh != text:
        args.path.write_text(fresh, encoding="utf-8")
        print(f"updated {args.path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
