"""Which stored account a one-call API means: ``(scopes, client_secrets, account, env)`` to an
:class:`~gtoken.accounts.Accounts` and the account's id.

Shared by :mod:`gtoken.aio` and the plain-HTTP auths' convenience constructors, so that they find
accounts as :func:`gtoken.credentials` does. When the account cannot be used as it is (none signed
in yet, a scope not granted, consent needed again), :func:`gtoken.credentials` itself is called:
it runs consent when it may, or raises the error that says what is missing.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

from gtoken.accounts import Accounts
from gtoken.errors import ConsentRequired, GTokenError
from gtoken.files.reading import read_small
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
_DOWNLOAD = "Download it from Google Cloud console > APIs & Services > Credentials."

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


def load_client(client_secrets: str | os.PathLike[str] | Mapping[str, Any]) -> ClientSecrets:
    """The client of a ``client_secret.json`` (its path, or its parsed JSON)."""
    if isinstance(client_secrets, Mapping):
        return ClientSecrets.from_json(client_secrets)
    path = Path(client_secrets)
    data = read_small(path, what="a client_secret.json", hint=_DOWNLOAD)
    return ClientSecrets.from_json(data.decode("utf-8", "replace"), source=str(path))


def _client_id(client_secrets: ClientSecretsArg) -> str | None:
    return None if client_secrets is None else load_client(client_secrets).client_id


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
    client_id = _client_id(client_secrets)
    record = ready(accounts, wanted, client_id=client_id, account=account)
    if record is not None:
        return accounts, record
    from gtoken.api import credentials

    credentials(wanted, client_secrets=client_secrets, account=account, login=login, env=env)
    record = ready(accounts, wanted, client_id=client_id, account=account)
    if record is None:
        # gtoken.credentials fell back on credentials that are not a stored account (the
        # Application Default Credentials): these auths take stored accounts only.
        raise ConsentRequired(
            account or "gtoken",
            "no account has signed in to gtoken yet",
            hint="Run gtoken login, or pass client_secrets to sign in now.",
        )
    return accounts, record
