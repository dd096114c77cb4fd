"""``gtoken export`` and ``gtoken import``: Google's own token files in and out."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from gtoken.accounts import Accounts
from gtoken.cli.output import Io, short_scopes


def export(args: argparse.Namespace, io: Io) -> int:
    from gtoken.files import authorized_user

    with Accounts(env=io.env) as accounts:
        record = accounts.find(args.account)
        document = authorized_user(record)
    io.data(json.dumps(document, indent=2) + "\n")
    io.say(
        f"This is {record.email or record.id}'s refresh token: whoever has it can act as "
        "them. Keep it private."
    )
    return 0


def import_(args: argparse.Namespace, io: Io) -> int:
    from gtoken.files import adopt_imported, read_token_file

    imported = read_token_file(Path(args.file).expanduser())
    with Accounts(env=io.env) as accounts:
        record = adopt_imported(accounts, imported)
    io.say(
        f"Imported {io.strong(record.email or record.id)} "
        f"({', '.join(short_scopes(record.scopes)) or 'no scopes recorded'}); "
        "it is the default account now."
    )
    return 0
