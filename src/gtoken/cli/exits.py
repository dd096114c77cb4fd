"""Exit codes, and the one place where an error becomes a message and a code.

====  ==========================================================================================
0     success
1     an unexpected error (a bug: run again with ``GTOKEN_DEBUG=1`` for the traceback)
2     usage: the command line is wrong
3     configuration: a file, key or setting is missing or bad (``ConfigError``, ``StoreError``)
4     consent needed: sign in (again), or ask for more scopes (``ConsentRequired``,
      ``InvalidGrant``, ``ScopeNotGranted``, ``AuthorizationError``)
5     network: Google (or the emulator) could not be reached, or failed for now
      (``NetworkError`` and every error that says retrying can help)
130   interrupted (Ctrl-C)
====  ==========================================================================================

Every error is printed to stderr as ``gtoken: <message>`` and, on the next line, ``hint: <what
to do>``. Messages come from gtoken's error tree (:mod:`gtoken.errors`), which never puts a
secret in one; the text of an unexpected exception is redacted before it is shown.
"""

from __future__ import annotations

import traceback
from collections.abc import Mapping

from gtoken.cli.output import Io, login_command
from gtoken.errors import (
    AuthorizationError,
    ConfigError,
    ConsentRequired,
    GTokenError,
    InvalidGrant,
    NetworkError,
    ScopeNotGranted,
    StoreError,
)

__all__ = [
    "EXIT_CODES",
    "EXIT_CONFIG",
    "EXIT_CONSENT",
    "EXIT_ERROR",
    "EXIT_INTERRUPTED",
    "EXIT_NETWORK",
    "EXIT_OK",
    "EXIT_USAGE",
    "exit_code",
    "fail",
]

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_CONFIG = 3
EXIT_CONSENT = 4
EXIT_NETWORK = 5
EXIT_INTERRUPTED = 130

#: Every exit code and what it means, for the docs.
EXIT_CODES: tuple[tuple[int, str], ...] = (
    (EXIT_OK, "success"),
    (
        EXIT_ERROR,
        "an unexpected error, a bug: run again with `GTOKEN_DEBUG=1` and report what it shows",
    ),
    (EXIT_USAGE, "usage: the command line is wrong"),
    (
        EXIT_CONFIG,
        "configuration: a file, key or setting is missing or bad (`ConfigError`, `StoreError`); "
        "also `gtoken doctor` when it finds a problem",
    ),
    (
        EXIT_CONSENT,
        "consent needed: sign in (again), or ask for more scopes (`ConsentRequired`, "
        "`InvalidGrant`, `ScopeNotGranted`, `AuthorizationError`)",
    ),
    (
        EXIT_NETWORK,
        "network: Google (or the emulator) could not be reached, or failed for now "
        "(`NetworkError`, and every error that says retrying can help)",
    ),
    (EXIT_INTERRUPTED, "interrupted (Ctrl-C)"),
)

_CONSENT = (ConsentRequired, InvalidGrant, ScopeNotGranted, AuthorizationError)


def exit_code(error: BaseException) -> int:
    """The exit code for ``error``."""
    if isinstance(error, ConfigError | StoreError):
        return EXIT_CONFIG
    if isinstance(error, _CONSENT):
        return EXIT_CONSENT
    if isinstance(error, NetworkError) or (isinstance(error, GTokenError) and error.retryable):
        return EXIT_NETWORK
    return EXIT_ERROR


def fail(error: Exception, io: Io) -> int:
    """Tell the person about ``error`` on stderr; returns the exit code."""
    if isinstance(error, GTokenError):
        message, hint = error.message, _hint(error, io.env)
    else:
        message = f"unexpected error: {type(error).__name__}: {_redacted(error)}"
        hint = "This is a bug in gtoken; run again with GTOKEN_DEBUG=1 and report what it shows."
    if io.env.get("GTOKEN_DEBUG") == "1":
        io.err.write("".join(traceback.format_exception(error)))
    io.say(f"{io.bad('gtoken:')} {message}")
    if hint:
        io.say(f"{io.strong('hint:')} {hint}")
    return exit_code(error)


def _hint(error: GTokenError, env: Mapping[str, str]) -> str:
    if isinstance(error, ScopeNotGranted):
        return _more_scopes(error, env)
    return error.hint


def _more_scopes(error: ScopeNotGranted, env: Mapping[str, str]) -> str:
    command = login_command(error.missing, account=error.account, env=env)
    them = "it" if len(error.missing) == 1 else "them"
    return f"Add {them} with: {command} (and leave the boxes ticked on Google's consent page)."


def _redacted(error: BaseException) -> str:
    from gtoken.redact import redact

    text = " ".join(str(error).split())
    return redact(text) if text else "(no message)"
