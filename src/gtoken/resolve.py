"""Which stored account a one-call API means: ``(scopes, client_secrets, account, env)`` to an
:class:`~gtoken.accounts.Accounts` and the account's id.

Shared by :mod:`gtoken.aio` and the plain-HTTP auths' convenience constructors, so that they find
accounts as :func:`gtoken.credentials` does. When the account cannot be used as it is (none signed
in yet, a scope not granted, consent needed again), :func:`gtoken.credentials` itself is called:
it runs consent when it may, or raises the error that says what is missing.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterable, Mapping
from typing import Any, Literal, NoReturn

from gtoken.accounts import Accounts
from gtoken.errors import ConsentRequired, GTokenError
from gtoken.files.clients import read_client_secrets
from gtoken.oauth import scopes as _scopes
from gtoken.oauth.clients import ClientSecrets
from gtoken.store import AccountRecord

__all__ = [
    "ClientSecretsArg",
    "Login",
    "accounts_for",
    "cached_accounts",
    "env_key",
    "ready",
    "resolve",
    "wanted_scopes",
]

Login = Literal["auto", "never"]
ClientSecretsArg = str | os.PathLike[str] | Mapping[str, Any] | None

_lock = threading.Lock()
_accounts: dict[str, Accounts] = {}


def env_key(env: Mapping[str, str]) -> str:
    """What tells gtoken homes apart in ``env``: the home and the emulator setting."""
    return f"{env.get('GTOKEN_HOME', '')}\0{env.get('GTOKEN_EMULATOR_HOST', '')}"


def cached_accounts(env: Mapping[str, str]) -> Accounts | None:
    """The Accounts :func:`accounts_for` made for ``env``, if it made one (never blocks)."""
    return _accounts.get(env_key(env))


def accounts_for(env: Mapping[str, str]) -> Accounts:
    """One Accounts per gtoken home and emulator setting in this process, shared by callers.
    The first call opens the store (and may create it and its key)."""
    key = env_key(env)
    with _lock:
        if key not in _accounts:
            _accounts[key] = Accounts(env=env)
        return _accounts[key]


def wanted_scopes(scopes: Iterable[str]) -> frozenset[str]:
    if isinstance(scopes, str):
        raise TypeError("scopes is a collection of scope names, not a str")
    return frozenset(_scopes.expand(s) for s in scopes)


def ready(
    accounts: Accounts,
    scopes: frozenset[str],
    *,
    client_id: str | None,
    account: str | None,
) -> AccountRecord | None:
    """The stored account that is usable without consent (active, with every scope in
    ``scopes``), or None. Reads the store only."""
    try:
        record = accounts.find(account, client_id=client_id)
        accounts.check_scopes(record, scopes)
    except GTokenError:
        return None  # gtoken.credentials says what is wrong, or runs consent
    return record if record.status == "active" else None


def stored_account(
    accounts: Accounts,
    wanted: frozenset[str],
    *,
    client: ClientSecrets | None,
    account: str | None,
    login: Login,
    env: Mapping[str, str],
) -> AccountRecord | None:
    """The stored account to use for ``wanted``, running consent when it needs to and may (this
    blocks: consent waits for a person). None when nothing names an account (no client, no
    account) and none is stored: then the Application Default Credentials are the way. Raises
    the error that says what is missing when consent is needed and cannot run."""
    record = ready(
        accounts, wanted, client_id=client.client_id if client else None, account=account
    )
    if record is not None:
        return record
    if client is None and account is None and not accounts.store.heads(limit=1):
        return None
    if client is None or login == "never" or not _can_interact(env):
        _explain_missing(accounts, client, account, wanted)
    from gtoken.flows import Console

    signed_in = accounts.login(
        client, wanted, console=Console.for_stream(sys.stderr), account=account
    )
    record = accounts.find(signed_in.id)
    accounts.check_scopes(record, wanted)  # the person may have unticked a scope
    return record


def _can_interact(env: Mapping[str, str]) -> bool:
    from gtoken.flows import can_open_browser

    return can_open_browser(env) or sys.stdin.isatty()


def _explain_missing(
    accounts: Accounts, client: ClientSecrets | None, account: str | None, wanted: frozenset[str]
) -> NoReturn:
    """Raise the error that says why no usable account is there."""
    record = accounts.find(account, client_id=client.client_id if client else None)
    if record.status != "active":
        raise ConsentRequired(record.email or record.id, record.status_reason or record.status)
    accounts.check_scopes(record, wanted)
    raise AssertionError("unreachable: the account was usable")  # pragma: no cover


def resolve(
    scopes: Iterable[str] = (),
    *,
    client_secrets: ClientSecretsArg = None,
    account: str | None = None,
    login: Login = "auto",
    env: Mapping[str, str] | None = None,
) -> tuple[Accounts, AccountRecord]:
    """The account :func:`gtoken.credentials` with these arguments would use, running consent
    when it needs to and may (this blocks: consent waits for a person)."""
    env = os.environ if env is None else env
    wanted = wanted_scopes(scopes)
    accounts = accounts_for(env)
    client = None if client_secrets is None else read_client_secrets(client_secrets)
    record = stored_account(accounts, wanted, client=client, account=account, login=login, env=env)
    if record is None:
        # gtoken.credentials would use the Application Default Credentials (and say where it
        # looked when there are none); these auths take stored accounts only.
        from gtoken.service_accounts.adc import default_source

        default_source(accounts, wanted, env)
        raise ConsentRequired(
            account or "gtoken",
            "no account has signed in to gtoken yet",
            hint="Run gtoken login, or pass client_secrets to sign in now.",
        )
    return accounts, record
