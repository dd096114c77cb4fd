"""``gtoken vault migrate``, ``gtoken vault rekey``, ``gtoken vault import``: a web app's vault
from the command line (deploy steps and maintenance; the application itself uses the library)."""

from __future__ import annotations

import argparse
import csv
import io as _io
from pathlib import Path

from gtoken.cli.output import Io
from gtoken.errors import ConfigError

ENV_DATABASE_URL = "GTOKEN_DATABASE_URL"


def _url(args: argparse.Namespace, io: Io) -> str:
    url: str = args.database_url or io.env.get(ENV_DATABASE_URL, "")
    if not url:
        raise ConfigError(
            "no vault database given",
            hint=f"Pass --database-url URL or set {ENV_DATABASE_URL}.",
        )
    return url


def migrate(args: argparse.Namespace, io: Io) -> int:
    from gtoken.vault.database import open_database
    from gtoken.vault.migrations import SCHEMA_VERSION
    from gtoken.vault.migrations import migrate as run

    db = open_database(_url(args, io))
    try:
        applied = run(db)
    finally:
        db.close()
    if applied:
        io.say(f"Migrated {db.name} to schema {SCHEMA_VERSION} (applied {applied}).")
    else:
        io.say(f"{db.name} is at schema {SCHEMA_VERSION} already; nothing to do.")
    return 0


def rekey(args: argparse.Namespace, io: Io) -> int:
    from gtoken.vault.vault import Vault

    with Vault(_url(args, io), env=io.env) as vault:
        count = vault.rekey()
        current = vault.sealing_key_id
        older = sorted(vault.key_ids_in_use() - {current})
    io.say(f"Re-sealed {count} rows with key {current}.")
    if older:
        io.say(f"Values still sealed with {', '.join(older)} (written meanwhile?): run again.")
    else:
        io.say("No value uses an older key now: the older keys can be dropped.")
    return 0


def import_tokens(args: argparse.Namespace, io: Io) -> int:
    from gtoken.vault.vault import Vault

    rows = _read_rows(Path(args.file))
    with Vault(_url(args, io), client_secrets=args.client_secrets, env=io.env) as vault:
        added, skipped = vault.import_refresh_tokens(rows)
    io.say(f"Imported {added} connections; {skipped} users were in the vault already (kept).")
    return 0


def _read_rows(path: Path) -> list[tuple[str, str]]:
    """``user_id,refresh_token`` lines (a header line naming them is skipped)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        raise ConfigError(f"{path} does not exist", hint="Check the path.") from None
    except OSError as exc:
        raise ConfigError(f"{path} cannot be read: {exc.strerror}") from None
    rows: list[tuple[str, str]] = []
    for n, row in enumerate(csv.reader(_io.StringIO(text)), 1):
        if not row or not "".join(row).strip():
            continue
        if n == 1 and [c.strip() for c in row[:2]] == ["user_id", "refresh_token"]:
            continue
        if len(row) != 2 or not row[0].strip() or not row[1].strip():
            raise ConfigError(
                f"{path} line {n} is not 'user_id,refresh_token' ({len(row)} fields)",
                hint="Write one user per line: the application's user id, a comma, the token.",
            )
        rows.append((row[0].strip(), row[1].strip()))
    return rows
