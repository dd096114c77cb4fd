"""``gtoken accounts``, ``revoke`` and ``logout``: the stored accounts."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime

from gtoken.accounts import Account, Accounts
from gtoken.cli.formats import iso_utc
from gtoken.cli.output import Io, client_label, relative_time, short_scopes, table


def accounts(args: argparse.Namespace, io: Io) -> int:
    with Accounts(env=io.env) as store:
        listed = store.list()
    if args.json:
        io.data(json.dumps([_document(a) for a in listed], indent=2) + "\n")
        return 0
    if not listed:
        io.say("No accounts yet: sign in with gtoken login.")
        return 0
    now = datetime.now(UTC)
    rows = [
        [
            "*" if a.is_default else "",
            a.email or a.id,
            client_label(a.client_id),
            ", ".join(short_scopes(a.scopes)),
            a.status.replace("_", " "),
            relative_time(a.expires_at, now),
        ]
        for a in listed
    ]
    io.data(table(["", "ACCOUNT", "CLIENT", "SCOPES", "STATUS", "TOKEN EXPIRES"], rows))
    for a in listed:
        if a.status != "active" and a.status_reason:
            io.data(f"\n{a.email or a.id}: {a.status.replace('_', ' ')}: {a.status_reason}\n")
    return 0


def revoke(args: argparse.Namespace, io: Io) -> int:
    with Accounts(env=io.env) as store:
        gone = store.revoke(args.account)
    io.say(
        f"Revoked {gone.label}'s grant at its issuer (its tokens stop working everywhere) and "
        "removed the account from this machine."
    )
    return 0


def logout(args: argparse.Namespace, io: Io) -> int:
    with Accounts(env=io.env) as store:
        gone = store.forget(args.account)
    io.say(
        f"Removed {gone.label} from this machine. Its grant at its issuer stays; "
        "gtoken revoke would also revoke it there."
    )
    return 0


def _document(account: Account) -> dict[str, object]:
    return {
        "id": account.id,
        "email": account.email,
        "client_id": account.client_id,
        "scopes": sorted(account.scopes),
        "status": account.status,
        "status_reason": account.status_reason,
        "default": account.is_default,
        "expires_at": None
        if account.expires_at is None
        else iso_utc(account.expires_at.timestamp()),
    }
