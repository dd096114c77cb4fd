"""``gtoken doctor``: check the setup and explain, in plain words, each problem found.

:func:`run_checks` looks at the gtoken home and the permissions of its files
(:mod:`~gtoken.doctor.home`), the encryption key, every stored account
(:mod:`~gtoken.doctor.accounts`), a ``client_secret.json`` when given
(:mod:`~gtoken.doctor.clients`) and ``GTOKEN_EMULATOR_HOST`` (:mod:`~gtoken.doctor.emulator`).
Each check becomes a :class:`Finding` that says what it saw and, when something is wrong, how to
fix it. No finding contains a token, secret or key (key ids only).

Checking changes nothing: no home, key or store is created, no token is refreshed. The store is
opened only when it and its key already exist and are safe to use; opening a store of the
current version writes nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path

from gtoken.accounts import Accounts
from gtoken.doctor.accounts import check_accounts
from gtoken.doctor.clients import check_client_secrets
from gtoken.doctor.emulator import check_emulator
from gtoken.doctor.finding import LOGIN, Finding, Level
from gtoken.doctor.home import check_files, check_home, check_key
from gtoken.endpoints import ENV_EMULATOR
from gtoken.store import STORE_FILE, gtoken_home
from gtoken.transport import RetryPolicy, Transport

__all__ = ["Finding", "Level", "run_checks"]


def _open_accounts(env: Mapping[str, str]) -> Accounts:
    return Accounts(env=env)


def _probe_transport() -> Transport:
    return Transport(RetryPolicy(attempts=1, timeout=2.0))


def run_checks(
    env: Mapping[str, str] = os.environ,
    *,
    client_secrets: Path | None = None,
    accounts_factory: Callable[[Mapping[str, str]], Accounts] = _open_accounts,
    transport: Callable[[], Transport] = _probe_transport,
) -> list[Finding]:
    """Check the setup that ``env`` describes; every finding, in the order checked.

    ``client_secrets``: a ``client_secret.json`` to check for use with ``gtoken login``.
    ``accounts_factory`` opens the accounts (only once the store and its key are known to exist
    and to be safe); ``transport`` makes the HTTP transport for the emulator's health check."""
    emulator, emulator_ok = check_emulator(env, transport)
    home = gtoken_home(env)
    store = home / STORE_FILE
    home_findings, home_ok = check_home(home)
    file_findings, files_ok = check_files(home) if home.is_dir() else ([], False)
    key_findings, key_ok = check_key(env, home)
    if not store.exists():
        accounts = [
            Finding(
                "warning",
                "accounts",
                f"No account has signed in yet (there is no store at {store}).",
                f"Sign one in: {LOGIN} (or adopt a saved token: gtoken import token.json).",
            )
        ]
    elif home_ok and files_ok and key_ok:
        # A malformed emulator setting has its own finding; it must not hide the accounts.
        usable = env if emulator_ok else {k: v for k, v in env.items() if k != ENV_EMULATOR}
        has_emulator = emulator_ok and bool(env.get(ENV_EMULATOR, "").strip())
        accounts = check_accounts(usable, store, accounts_factory, has_emulator=has_emulator)
        if any(f.subject == "key" for f in accounts):  # the store says the key is not its own
            key_findings = []
    else:
        accounts = [
            Finding(
                "warning",
                "accounts",
                "Not checked: the store is not opened until the problems above are fixed.",
                "Fix them, then run gtoken doctor again.",
            )
        ]
    clients = [] if client_secrets is None else check_client_secrets(client_secrets)
    return [*home_findings, *file_findings, *key_findings, *accounts, *clients, *emulator]
