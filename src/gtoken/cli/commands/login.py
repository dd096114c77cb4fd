"""``gtoken login``: consent in a browser (or pasted back, or the device flow), then stored."""

from __future__ import annotations

import argparse

from gtoken.accounts import Accounts, LoginMode
from gtoken.cli.output import ENV_CLIENT_SECRETS, Io, client_label, login_command, short_scopes
from gtoken.files.clients import read_client_secrets as read_client_file
from gtoken.flows import Console
from gtoken.oauth import scopes as _scopes
from gtoken.oauth.clients import ClientSecrets


def login(args: argparse.Namespace, io: Io) -> int:
    client = read_client_secrets(args, io)
    mode: LoginMode = "device" if args.device else "paste" if args.no_browser else "auto"
    with Accounts(env=io.env) as accounts:
        account = accounts.login(
            client,
            args.scopes,
            console=Console.for_stream(io.err, env=io.env),
            mode=mode,
            account=args.account,
            timeout=args.timeout,
        )
    io.say(
        f"Signed in as {io.strong(account.label)} "
        f"(client {client_label(account.client_id)}); it is the default account now."
    )
    io.say(f"Granted: {', '.join(short_scopes(account.scopes))}")
    missing = _scopes.missing(account.scopes, args.scopes)
    if missing:
        one = len(missing) == 1
        them = "it" if one else "them"
        again = login_command(
            missing, account=account.email, client_secrets=args.client_secrets, env=io.env
        )
        io.say(
            io.warn(f"Not granted: {', '.join(short_scopes(missing))}.")
            + f" {'Its box was' if one else 'Their boxes were'} left unticked on Google's "
            f"consent page. Programs that need {them} will fail until you sign in again and "
            f"allow {them}: {again}"
        )
    return 0


def read_client_secrets(args: argparse.Namespace, io: Io) -> ClientSecrets:
    """The client of ``--client-secrets`` or ``$GTOKEN_CLIENT_SECRETS``."""
    given: str | None = args.client_secrets or io.env.get(ENV_CLIENT_SECRETS)
    if not given:
        parser: argparse.ArgumentParser = args.parser
        parser.error(
            f"--client-secrets FILE is required (or set {ENV_CLIENT_SECRETS}): the OAuth "
            "client's client_secret.json, downloaded from Google Cloud console"
        )
    return read_client_file(
        given,
        hint="Pass the client_secret.json downloaded from Google Cloud console (APIs & "
        f"Services > Credentials) with --client-secrets or {ENV_CLIENT_SECRETS}.",
    )
