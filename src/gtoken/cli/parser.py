"""The ``gtoken`` command line: every command, option and help text, and nothing else.

Each command names the function that runs it (``module:function`` under :mod:`gtoken.cli`),
imported only when that command runs, so that a command loads what it uses and no more.
"""

from __future__ import annotations

import argparse
import functools
import math
from collections.abc import Callable
from typing import Any

from gtoken import __version__
from gtoken.cli.formats import FORMATS
from gtoken.store.format import DEFAULT_MIN_TTL

__all__ = ["EPILOG", "build"]

EPILOG = """\
exit codes: 0 ok, 1 unexpected error, 2 usage, 3 configuration,
4 consent needed (run gtoken login), 5 network, 130 interrupted

environment: GTOKEN_HOME, GTOKEN_KEY, GTOKEN_KEY_NEW, GTOKEN_CLIENT_SECRETS,
GTOKEN_EMULATOR_HOST, GTOKEN_DATABASE_URL, GTOKEN_VAULT_KEYS, GTOKEN_DEBUG, BROWSER,
NO_COLOR (see docs/cli.md)"""

_ACCOUNT_HELP = "the account, by e-mail or id (default: the default account)"

Parser = argparse.ArgumentParser


def build(*, width: int | None = None) -> tuple[Parser, dict[str, Parser]]:
    """The ``gtoken`` parser, and every command's parser by its words (``"key rotate"``).

    ``width`` fixes the help text's width (the docs use it); by default it follows the terminal.
    """
    formatter: Callable[..., argparse.HelpFormatter] = (
        argparse.RawDescriptionHelpFormatter
        if width is None
        else functools.partial(argparse.RawDescriptionHelpFormatter, width=width)
    )
    parser = Parser(
        prog="gtoken",
        description="Google API OAuth 2.0 tokens for programs, kept working.",
        epilog=EPILOG,
        formatter_class=formatter,
        allow_abbrev=False,
    )
    parser.add_argument("--version", action="version", version=f"gtoken {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    commands.required = True
    found: dict[str, Parser] = {}

    def command(
        name: str, handler: str, help: str, description: str, group: Any = commands
    ) -> Parser:
        sub: Parser = group.add_parser(
            name,
            help=help,
            description=description,
            formatter_class=formatter,
            allow_abbrev=False,
        )
        sub.set_defaults(handler=handler, parser=sub)
        found[sub.prog.removeprefix("gtoken ")] = sub
        return sub

    _login(command)
    _token(command)
    _header(command)
    _curl(command)
    _info(command)
    _accounts(command)
    _revoke(command)
    _logout(command)
    _export(command)
    _import(command)
    _doctor(command)
    _key(command)
    _vault(command)
    _serve(command)
    _emulator(command)
    return parser, found


# -- value types ----------------------------------------------------------------------------------


def _scope(word: str) -> str:
    """A scope as typed, after checking that it is one (short form or URL)."""
    from gtoken.oauth.scopes import expand

    try:
        expand(word)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return word.strip()


def _seconds(text: str, *, positive: bool = False) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        kind = "a positive" if positive else "a non-negative"
        raise argparse.ArgumentTypeError(f"{text!r} is not {kind} number of seconds")
    return value


def _positive_seconds(text: str) -> float:
    return _seconds(text, positive=True)


def _account(parser: Parser, what: str = _ACCOUNT_HELP) -> None:
    parser.add_argument("--account", metavar="ACCOUNT", help=what)


def _service_account(parser: Parser) -> None:
    parser.add_argument(
        "--service-account",
        metavar="KEY",
        help="a service-account key file: its token instead of a signed-in account's "
        "(needs --scope)",
    )
    parser.add_argument(
        "--subject",
        metavar="EMAIL",
        help="with --service-account: act as this Workspace user (domain-wide delegation)",
    )


def _scopes(parser: Parser, help: str, *, required: bool = False) -> None:
    parser.add_argument(
        "--scope",
        dest="scopes",
        action="append",
        type=_scope,
        metavar="SCOPE",
        required=required,
        default=[],
        help=help,
    )


def _min_ttl(parser: Parser) -> None:
    parser.add_argument(
        "--min-ttl",
        type=_seconds,
        default=DEFAULT_MIN_TTL,
        metavar="SECONDS",
        help="refresh first if the token expires within this many seconds "
        f"(default {DEFAULT_MIN_TTL:g})",
    )


_CHECK_SCOPES = (
    "fail (exit 4) unless the account has granted this scope; repeat for more (short form, "
    "e.g. gmail.readonly, or a full scope URL)"
)

# -- commands -------------------------------------------------------------------------------------

Command = Callable[..., Parser]


def _login(command: Command) -> None:
    sub = command(
        "login",
        "commands.login:login",
        "sign in with Google and store the account",
        "Sign in with Google in a browser and store the account, encrypted, as the default.\n\n"
        "The browser opens on this machine (or $BROWSER); with --no-browser, or when no browser\n"
        "can open here (SSH, containers), gtoken prints the address to open anywhere and you\n"
        "paste back the address the browser ends on. --device uses Google's device flow, which\n"
        "Google allows only for a few scopes (drive.file, youtube, sign-in).\n\n"
        "Google may grant fewer scopes than asked (the person can untick them): the login says\n"
        "which were not granted and still succeeds. Signing in again for one more scope keeps\n"
        "the earlier ones.",
    )
    sub.add_argument(
        "--client-secrets",
        metavar="FILE",
        help="the OAuth client's client_secret.json, as downloaded from Google Cloud console "
        "(default: $GTOKEN_CLIENT_SECRETS)",
    )
    _scopes(
        sub,
        "a scope to ask for; repeat for more. Short forms (gmail.readonly, drive.file, mail, "
        "openid, email, profile) or full scope URLs. openid and email are always added.",
        required=True,
    )
    sub.add_argument(
        "--account",
        metavar="EMAIL",
        help="the Google account to sign in with (Google preselects it)",
    )
    how = sub.add_mutually_exclusive_group()
    how.add_argument(
        "--no-browser",
        action="store_true",
        help="do not open a browser: print the address and read the pasted redirect address",
    )
    how.add_argument("--device", action="store_true", help="use the device flow (few scopes)")
    sub.add_argument(
        "--timeout",
        type=_positive_seconds,
        default=300.0,
        metavar="SECONDS",
        help="how long to wait for the sign-in to finish (default 300)",
    )


def _token(command: Command) -> None:
    sub = command(
        "token",
        "commands.tokens:token",
        "print a valid access token",
        "Print a valid access token of the account, refreshing it first when it expires within\n"
        "--min-ttl seconds.\n\n"
        "Formats: bare, the token alone on one line (default); header, 'Authorization: Bearer\n"
        "TOKEN'; json, an object with access_token, expires_at (ISO 8601, UTC), expires_in\n"
        "(seconds), scopes, account and token_type.",
    )
    _account(sub)
    _service_account(sub)
    _scopes(sub, _CHECK_SCOPES)
    sub.add_argument(
        "--format", choices=FORMATS, default="bare", help="how to print it (default bare)"
    )
    _min_ttl(sub)


def _header(command: Command) -> None:
    sub = command(
        "header",
        "commands.tokens:header",
        "print 'Authorization: Bearer TOKEN'",
        "Print the HTTP header that carries a valid access token: the same as\n"
        'gtoken token --format header. For example: curl -H "$(gtoken header)" URL',
    )
    _account(sub)
    _service_account(sub)
    _scopes(sub, _CHECK_SCOPES)
    _min_ttl(sub)


def _curl(command: Command) -> None:
    sub = command(
        "curl",
        "commands.tokens:curl",
        "run curl with the Authorization header added",
        "Run curl on URL with a valid access token in an Authorization header, and exit with\n"
        "curl's exit code. gtoken's options go before URL; everything after URL goes to curl\n"
        "as it is. The header reaches curl through a pipe, never its command line, so the\n"
        "token does not show in the process list.",
    )
    _account(sub)
    _service_account(sub)
    _scopes(sub, _CHECK_SCOPES)
    sub.add_argument("url", metavar="URL", help="the URL to fetch")
    sub.add_argument(
        "curl_args", nargs=argparse.REMAINDER, metavar="CURL_ARGS", help="passed to curl"
    )


def _info(command: Command) -> None:
    sub = command(
        "info",
        "commands.tokens:info",
        "ask Google about the current token",
        "Ask Google's tokeninfo endpoint about the account's current access token (refreshing\n"
        "it first if needed): the account, the client it was issued to, its scopes and when it\n"
        "expires.",
    )
    _account(sub)
    sub.add_argument("--json", action="store_true", help="print a JSON object")


def _accounts(command: Command) -> None:
    sub = command(
        "accounts",
        "commands.accounts:accounts",
        "list the stored accounts",
        "List the accounts in the store: e-mail, client, granted scopes, status (active,\n"
        "needs_consent with the reason, revoked, damaged with what is wrong) and when the\n"
        "access token expires. '*' marks the default account.",
    )
    sub.add_argument("--json", action="store_true", help="print a JSON list")


def _revoke(command: Command) -> None:
    sub = command(
        "revoke",
        "commands.accounts:revoke",
        "revoke the account's access at its issuer, then forget it",
        "Revoke the account's grant at the issuer of its tokens (Google, or the server named by\n"
        "its token_uri): its refresh and access tokens stop working everywhere. Then remove it\n"
        "from the store.",
    )
    _account(sub)


def _logout(command: Command) -> None:
    sub = command(
        "logout",
        "commands.accounts:logout",
        "forget the account (its issuer is not told)",
        "Remove the account from the store. Its grant at the issuer of its tokens stays;\n"
        "gtoken revoke also revokes it there.",
    )
    _account(sub)


def _export(command: Command) -> None:
    sub = command(
        "export",
        "commands.portable:export",
        "print the account as an authorized_user JSON (ADC format)",
        "Print the account as Google's authorized_user JSON on stdout, the format of\n"
        "Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS) and of\n"
        "google.oauth2.credentials.Credentials.from_authorized_user_file. It holds the refresh\n"
        "token: keep it private.",
    )
    _account(sub)


def _import(command: Command) -> None:
    sub = command(
        "import",
        "commands.portable:import_",
        "adopt a token.json, authorized_user file or token.pickle",
        "Adopt the account in a quickstart token.json, an authorized_user (ADC) JSON file or a\n"
        "token.pickle into the store, as the default account. Pickles are read without running\n"
        "any of their code.",
    )
    sub.add_argument("file", metavar="FILE", help="the file to import")


def _doctor(command: Command) -> None:
    sub = command(
        "doctor",
        "commands.doctor:doctor",
        "check the setup and explain each problem",
        "Check gtoken's setup (home, key, store, accounts, client secrets, network) and print\n"
        "each finding: ok, warning or problem, with how to fix it. Exits 3 when there is a\n"
        "problem.",
    )
    sub.add_argument(
        "--client-secrets",
        metavar="FILE",
        help="also check this client_secret.json (default: $GTOKEN_CLIENT_SECRETS)",
    )
    sub.add_argument("--json", action="store_true", help="print a JSON list")


def _key(command: Command) -> None:
    sub = command(
        "key",
        "",
        "manage the store's encryption key",
        "Manage the key that encrypts the store.",
    )
    keys = sub.add_subparsers(dest="key_command", metavar="KEY_COMMAND", title="key commands")
    keys.required = True
    rotate = command(
        "rotate",
        "commands.keys:rotate",
        "re-encrypt the store with a new key",
        "Re-encrypt every stored secret with a new key.\n\n"
        "With the key file (key.json in GTOKEN_HOME, the default): adds a new random key to it\n"
        "(or GTOKEN_KEY_NEW's key when set), re-encrypts, then removes the old keys no value\n"
        "uses any more (unless --keep-old).\n\n"
        "With GTOKEN_KEY: gtoken cannot change your environment, so make a key with\n"
        "gtoken key new, run  GTOKEN_KEY_NEW=<new key> gtoken key rotate  (GTOKEN_KEY still the\n"
        "old key), then set GTOKEN_KEY to the new key wherever gtoken runs.\n\n"
        "Programs that have the store open keep working: with key.json they read the new key\n"
        "from it when they next need it. A program given the old key in GTOKEN_KEY can no\n"
        "longer read or write the store (its writes are refused): restart it with the new key.",
        group=keys,
    )
    rotate.add_argument(
        "--keep-old",
        action="store_true",
        help="keep the old keys in key.json (to go back to, or for copies of the store)",
    )
    command(
        "new",
        "commands.keys:new",
        "print a new random key",
        "Print a new random key (base64 of 32 bytes), for GTOKEN_KEY or GTOKEN_KEY_NEW.",
        group=keys,
    )


def _vault(command: Command) -> None:
    sub = command(
        "vault",
        "",
        "maintain a web application's vault",
        "Maintain the vault a web application keeps its users' Google consent in\n"
        "(gtoken.Vault). The database comes from --database-url or GTOKEN_DATABASE_URL\n"
        "(sqlite:///path or postgresql://...), the keys from GTOKEN_VAULT_KEYS or\n"
        "GTOKEN_VAULT_KEY_FILE.",
    )
    group = sub.add_subparsers(dest="vault_command", metavar="VAULT_COMMAND", title="commands")
    group.required = True

    def database(parser: Parser) -> None:
        parser.add_argument(
            "--database-url", metavar="URL", help="the vault's database (GTOKEN_DATABASE_URL)"
        )

    database(
        command(
            "migrate",
            "commands.vault:migrate",
            "create or update the vault's tables",
            "Create the vault's tables, or bring them up to this gtoken's schema. Safe to run\n"
            "while the application runs, and from several deploys at once. Refuses a database\n"
            "written by a newer gtoken.",
            group=group,
        )
    )
    database(
        command(
            "rekey",
            "commands.vault:rekey",
            "re-seal the vault with its newest key",
            "Re-seal every value sealed with an older key with the newest one, row by row while\n"
            "the application serves. Rotation: put the new key first in GTOKEN_VAULT_KEYS\n"
            "(new,old) wherever the vault runs, run this, then drop the old key.",
            group=group,
        )
    )
    adopt = command(
        "import",
        "commands.vault:import_tokens",
        "adopt refresh tokens from a hand-written table",
        "Adopt the refresh tokens of a hand-written table: FILE is CSV, one\n"
        "'user_id,refresh_token' line per user (a header line naming them is skipped), the\n"
        "tokens issued to the client of --client-secrets. Users already in the vault are kept\n"
        "as they are. Each connection is refreshed, and its scopes learnt, on first use.",
        group=group,
    )
    adopt.add_argument("file", metavar="FILE", help="CSV of user_id,refresh_token")
    adopt.add_argument(
        "--client-secrets",
        metavar="FILE",
        required=True,
        help="the web client's client_secret.json the tokens were issued to",
    )
    database(adopt)


_METAVARS = {
    "client_secrets": "FILE",
    "return_origins": "ORIGINS",
    "link_ttl": "SECONDS",
    "key_cache": "SECONDS",
}


def _serve(command: Command) -> None:
    from gtoken.broker.settings import SETTINGS

    sub = command(
        "serve",
        "commands.serve:serve",
        "run the token broker",
        "Run the token broker: an HTTP API that hands other services (in any language) fresh\n"
        "access tokens for their end users, with connect links, webhooks, an admin page at\n"
        "/admin and metrics. With no database given it keeps everything in SQLite in\n"
        "GTOKEN_HOME; give --database-url postgresql://... to run several replicas on one\n"
        "PostgreSQL. Keys: GTOKEN_VAULT_KEYS or GTOKEN_VAULT_KEY_FILE. The first line on\n"
        "stdout is 'gtoken serve listening on http://HOST:PORT'. Each setting is a flag, an\n"
        "environment variable, or an entry of a TOML file (--config); see docs/broker.md.",
    )

    def config(parser: Parser) -> None:
        parser.add_argument(
            "--config",
            metavar="FILE",
            default=argparse.SUPPRESS,
            help="a TOML file of settings (GTOKEN_BROKER_CONFIG)",
        )

    def database(parser: Parser) -> None:
        parser.add_argument(
            "--database-url",
            metavar="URL",
            default=argparse.SUPPRESS,
            help="the broker's database (GTOKEN_DATABASE_URL)",
        )
        config(parser)

    for setting in SETTINGS:
        if setting.name == "worker":
            sub.add_argument(
                setting.flag,
                dest="worker",
                action="store_false",
                default=argparse.SUPPRESS,
                help=f"do not run the background worker in this process ({setting.env}=false)",
            )
            continue
        if setting.default is False:
            sub.add_argument(
                setting.flag,
                dest=setting.name,
                action="store_true",
                default=argparse.SUPPRESS,
                help=f"{setting.help} ({setting.env}=true)",
            )
            continue
        sub.add_argument(
            setting.flag,
            metavar=_METAVARS.get(setting.name, setting.name.split("_")[-1].upper()),
            default=argparse.SUPPRESS,
            help=f"{setting.help} ({setting.env})",
        )
    config(sub)
    group = sub.add_subparsers(dest="serve_command", metavar="SERVE_COMMAND", title="commands")
    database(
        command(
            "migrate",
            "commands.serve:migrate",
            "create or update the broker's tables",
            "Create the broker's and the vault's tables, or bring them up to this gtoken's\n"
            "schema. Safe to run while replicas serve, and from several deploys at once.",
            group=group,
        )
    )
    database(
        command(
            "rekey",
            "commands.serve:rekey",
            "re-seal the broker's data with its newest key",
            "Re-seal every value sealed with an older key (tokens, client secrets, webhook\n"
            "secrets) with the newest one, row by row while the replicas serve. Rotation: put\n"
            "the new key first in GTOKEN_VAULT_KEYS (new,old) wherever the broker runs and\n"
            "restart the replicas, run this, then drop the old key.",
            group=group,
        )
    )
    keys = command(
        "keys",
        "",
        "create, list and revoke API keys",
        "API keys for the services that call the broker. Each is limited to what it may do:\n"
        "tokens:read (access tokens), connections:manage (connect links, connection status,\n"
        "listing and deleting connections), admin (everything, and the admin page); and\n"
        "optionally to one client. A key is shown once, when created, and stored hashed.",
        group=group,
    )
    key_group = keys.add_subparsers(dest="keys_command", metavar="KEYS_COMMAND", title="commands")
    key_group.required = True
    create = command(
        "create",
        "commands.serve:create_key",
        "create an API key and print it once",
        "Create an API key and print it on stdout (it is not shown again).",
        group=key_group,
    )
    create.add_argument("--name", required=True, help="what the key is for (shown in lists)")
    create.add_argument(
        "--permission",
        action="append",
        required=True,
        choices=["tokens:read", "connections:manage", "admin"],
        help="what the key may do (repeat for several)",
    )
    create.add_argument("--client", metavar="CLIENT_ID", help="limit the key to one client")
    database(create)
    listing = command(
        "list",
        "commands.serve:list_keys",
        "list the API keys",
        "List the API keys: id, name, permissions, client, created, revoked.",
        group=key_group,
    )
    listing.add_argument("--json", action="store_true", help="print JSON")
    database(listing)
    revoke = command(
        "revoke",
        "commands.serve:revoke_key",
        "revoke an API key",
        "Revoke an API key by its id; requests with it are refused (401) from then on.",
        group=key_group,
    )
    revoke.add_argument("key_id", metavar="KEY_ID", help="the key's id (gtoken serve keys list)")
    database(revoke)


def _emulator(command: Command) -> None:
    sub = command(
        "emulator",
        "commands.emulator:emulator",
        "run the local Google OAuth emulator",
        "Run a local fake of Google's OAuth endpoints and of slices of the Gmail, Drive and\n"
        "Sheets APIs. The first line on stdout is 'gtoken emulator listening on\n"
        "http://HOST:PORT'. Point gtoken at it with GTOKEN_EMULATOR_HOST=HOST:PORT.",
    )
    sub.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    sub.add_argument(
        "--port", type=int, default=8089, help="port to bind; 0 picks a free one (default 8089)"
    )
