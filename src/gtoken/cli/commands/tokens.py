"""``gtoken token``, ``header``, ``curl`` and ``info``: a valid access token, and what it is."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import time
from datetime import UTC, datetime
from typing import BinaryIO

from gtoken.accounts import Accounts
from gtoken.cli.formats import iso_utc, render_token
from gtoken.cli.output import Io, client_label, relative_time, short_scopes
from gtoken.errors import ConfigError
from gtoken.oauth.token import Token
from gtoken.redact import fingerprint
from gtoken.store.format import DEFAULT_MIN_TTL


def token(args: argparse.Namespace, io: Io) -> int:
    label, fresh = _fresh_token(args, io)
    expires_at = None if fresh.expires_at is None else fresh.expires_at.timestamp()
    io.data(
        render_token(
            args.format,
            fresh.access_token,
            expires_at=expires_at,
            scopes=fresh.scopes,
            account=label,
            now=time.time(),
        )
    )
    return 0


def header(args: argparse.Namespace, io: Io) -> int:
    args.format = "header"
    return token(args, io)


def curl(args: argparse.Namespace, io: Io) -> int:
    program = shutil.which("curl", path=io.env.get("PATH"))
    if program is None:
        raise ConfigError(
            "curl is not installed (or not on PATH)",
            hint='Install curl, or pass the header to another client: -H "$(gtoken header)".',
        )
    _, fresh = _fresh_token(args, io)
    # The header goes through a pipe as a curl config file (-K), so that the token is neither on
    # curl's command line (visible in ps) nor in its stdin (which stays the caller's, for -d @-).
    read, write = os.pipe()
    try:
        with os.fdopen(write, "w", encoding="ascii") as config:
            config.write(f'header = "Authorization: Bearer {_quoted(fresh.access_token)}"\n')
        command = [program, "-K", f"/dev/fd/{read}", args.url, *args.curl_args]
        # curl from PATH, with the person's own arguments: what this command is for. Its stderr
        # comes through gtoken, because -v shows the header gtoken supplied.
        with subprocess.Popen(command, pass_fds=(read,), stderr=subprocess.PIPE) as proc:  # noqa: S603
            os.close(read)
            read = -1
            assert proc.stderr is not None
            _relay_redacted(proc.stderr.fileno(), io, fresh.access_token)
            code = proc.wait()
        return code if code >= 0 else 128 - code  # killed by a signal: as a shell says it
    finally:
        if read >= 0:
            os.close(read)


def _relay_redacted(fd: int, io: Io, token: str) -> None:
    """Copy what arrives on ``fd`` to stderr as it comes, with ``token`` shown as its
    fingerprint. Held back only up to the end of a line (or of curl's progress-meter update),
    so that a token cannot be split between two writes."""
    secret, shown = token.encode(), fingerprint(token).encode()
    out = getattr(io.err, "buffer", None)
    pending = b""
    while chunk := os.read(fd, 65536):
        pending = (pending + chunk).replace(secret, shown)
        cut = max(pending.rfind(b"\n"), pending.rfind(b"\r")) + 1
        if cut == 0:
            if len(pending) < 65536:
                continue
            cut = len(pending) - len(secret) + 1  # what is left cannot hold a whole token
        _write_err(io, out, pending[:cut])
        pending = pending[cut:]
    _write_err(io, out, pending)


def _write_err(io: Io, out: BinaryIO | None, data: bytes) -> None:
    if not data:
        return
    if out is None:
        io.err.write(data.decode("utf-8", "replace"))
        io.err.flush()
    else:
        io.err.flush()
        out.write(data)
        out.flush()


def info(args: argparse.Namespace, io: Io) -> int:
    from gtoken.tokeninfo import tokeninfo

    with Accounts(env=io.env) as accounts:
        record = accounts.find(args.account)
        about = tokeninfo(accounts, record.id)
    label = record.email or record.id
    if args.json:
        document = {
            "account": about.email or label,
            "client_id": about.client_id,
            "scopes": sorted(about.scopes),
            "expires_at": None
            if about.expires_at is None
            else iso_utc(about.expires_at.timestamp()),
            "access_type": about.access_type,
        }
        io.data(json.dumps(document, indent=2) + "\n")
        return 0
    now = datetime.now(UTC)
    expiry = relative_time(about.expires_at, now)
    if about.expires_at is not None:
        expiry += f" ({iso_utc(about.expires_at.timestamp())})"
    lines = [
        ("account", about.email or label),
        ("client", client_label(about.client_id) if about.client_id else "unknown"),
        ("scopes", ", ".join(short_scopes(about.scopes))),
        ("expires", expiry),
    ]
    if about.access_type:
        lines.append(("access type", about.access_type))
    io.data("".join(f"{name + ':':<13}{value}\n" for name, value in lines))
    return 0


def _fresh_token(args: argparse.Namespace, io: Io) -> tuple[str, Token]:
    """The account's label and a token valid for ``--min-ttl`` more seconds."""
    if getattr(args, "service_account", None):
        return _service_account_token(args, io)
    if getattr(args, "subject", None):
        raise ConfigError(
            "--subject names the user a service account acts as",
            hint="Give the key with --service-account KEY too.",
        )
    with Accounts(env=io.env) as accounts:
        record = accounts.find(args.account)
        fresh = accounts.token(
            record.id,
            scopes=args.scopes or None,
            min_ttl=getattr(args, "min_ttl", DEFAULT_MIN_TTL),
        )
    return record.email or record.id, fresh


def _service_account_token(args: argparse.Namespace, io: Io) -> tuple[str, Token]:
    from gtoken.oauth.scopes import expand
    from gtoken.service_accounts import ServiceAccounts, load_key

    if args.account:
        raise ConfigError(
            "--account and --service-account name two different identities",
            hint="Give one of them.",
        )
    if not args.scopes:
        raise ConfigError(
            "a service-account token needs the scopes it is for",
            hint="Add --scope, e.g. --scope drive.readonly.",
        )
    key = load_key(args.service_account)
    with Accounts(env=io.env) as accounts:
        fresh = ServiceAccounts.of(accounts).token(
            key,
            [expand(s) for s in args.scopes],
            subject=args.subject,
            min_ttl=getattr(args, "min_ttl", DEFAULT_MIN_TTL),
        )
    label = key.client_email if not args.subject else f"{args.subject} (via {key.client_email})"
    return label, fresh


def _quoted(value: str) -> str:
    """``value`` inside a double-quoted curl config string."""
    return value.replace("\\", "\\\\").replace('"', '\\"')
