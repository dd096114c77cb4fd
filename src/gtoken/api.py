"""The one-call library API: ``gtoken.credentials(...)`` and ``gtoken.build(...)``.

    creds = gtoken.credentials(["gmail.readonly"], client_secrets="client_secret.json")
    gmail = gtoken.build("gmail", "v1", scopes=["gmail.readonly"], client_secrets=...)

The first call on a machine runs consent (a browser, or paste-back over SSH); later calls, in any
process, reuse the stored account and refresh its token when needed. When the account lacks a
scope, consent runs again for it (incremental: earlier grants are kept); when consent cannot run
(``login="never"``, or no terminal and no browser), a clear error says what is missing.

Unattended programs use a service account instead, acting as a Workspace user with ``subject``
(domain-wide delegation):

    gmail = gtoken.build("gmail", "v1", scopes=["gmail.readonly"],
                         service_account="key.json", subject="ada@example.com")

With no client secrets, no service account and no account signed in to gtoken, the Application
Default Credentials are used, found as ``google.auth.default()`` finds them (see
:mod:`gtoken.service_accounts.adc`); the credentials' ``source`` says which were used.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal

from gtoken.accounts import Accounts
from gtoken.adapters.google_auth import Credentials
from gtoken.errors import ConfigError
from gtoken.files.clients import read_client_secrets
from gtoken.oauth import scopes as _scopes
from gtoken.resolve import accounts_for, stored_account

if TYPE_CHECKING:
    from gtoken.adapters.google_auth import TokenSource

Login = Literal["auto", "never"]
#: A service-account key: its file's path, or its parsed JSON.
ServiceAccountKeyFile = str | os.PathLike[str] | Mapping[str, Any]


def credentials(
    scopes: Iterable[str] = (),
    *,
    client_secrets: str | os.PathLike[str] | Mapping[str, Any] | None = None,
    account: str | None = None,
    login: Login = "auto",
    env: Mapping[str, str] | None = None,
    service_account: ServiceAccountKeyFile | None = None,
    subject: str | None = None,
) -> Credentials:
    """google-auth Credentials for ``account`` (default: the default account) with ``scopes``
    (short forms like ``gmail.readonly`` or full URLs), running consent when needed and allowed.

    Without ``client_secrets`` only accounts already signed in (``gtoken login``) are used, and
    when there are none, the Application Default Credentials (``GOOGLE_APPLICATION_CREDENTIALS``,
    then gcloud's file). With ``service_account`` (a key file's path or parsed JSON) the tokens
    are the service account's, acting as the Workspace user ``subject`` when given.
    Raises ConsentRequired or ScopeNotGranted when consent is needed and cannot run."""
    env = os.environ if env is None else env
    wanted = frozenset(_scopes.expand(s) for s in scopes)
    accounts = accounts_for(env)
    if service_account is not None:
        if client_secrets is not None or account is not None:
            raise ValueError("give service_account, or client_secrets and account, not both")
        return Credentials(
            _service_account(accounts, service_account, wanted, subject), scopes=wanted
        )
    if subject is not None:
        raise ValueError(
            "subject (domain-wide delegation) is for service accounts: give service_account too"
        )
    client = read_client_secrets(client_secrets) if client_secrets is not None else None
    record = stored_account(accounts, wanted, client=client, account=account, login=login, env=env)
    if record is None:
        return Credentials(_application_default(accounts, wanted, env), scopes=wanted)
    return Credentials(accounts, record.id, scopes=wanted, email=record.email)


def _service_account(
    accounts: Accounts,
    key_file: ServiceAccountKeyFile,
    wanted: frozenset[str],
    subject: str | None,
) -> TokenSource:
    from gtoken.service_accounts import ServiceAccounts, load_key

    return ServiceAccounts.of(accounts).source(load_key(key_file), wanted, subject=subject)


def _application_default(
    accounts: Accounts, wanted: frozenset[str], env: Mapping[str, str]
) -> TokenSource:
    from gtoken.service_accounts.adc import default_source

    return default_source(accounts, wanted, env)


def build(
    api: str,
    version: str,
    *,
    scopes: Iterable[str] = (),
    client_secrets: str | os.PathLike[str] | Mapping[str, Any] | None = None,
    account: str | None = None,
    login: Login = "auto",
    env: Mapping[str, str] | None = None,
    service_account: ServiceAccountKeyFile | None = None,
    subject: str | None = None,
    **kwargs: Any,
) -> Any:
    """``googleapiclient.discovery.build(api, version)`` with the credentials of
    :func:`credentials` (same arguments); sent to the emulator when ``GTOKEN_EMULATOR_HOST`` is
    set. Other keyword arguments go to ``build``."""
    try:
        from googleapiclient.discovery import build as discovery_build
    except ImportError:
        raise ConfigError(
            "gtoken.build needs Google's API client library, which is not installed",
            hint="Install it: pip install 'gtoken[build]' (or google-api-python-client).",
        ) from None

    env = os.environ if env is None else env
    creds = credentials(
        scopes,
        client_secrets=client_secrets,
        account=account,
        login=login,
        env=env,
        service_account=service_account,
        subject=subject,
    )
    endpoint = accounts_for(env).endpoints.api_endpoint(api)
    if endpoint is not None:
        options = dict(kwargs.pop("client_options", None) or {})
        options.setdefault("api_endpoint", endpoint)
        kwargs["client_options"] = options
    kwargs.setdefault("static_discovery", True)
    return discovery_build(api, version, credentials=creds, **kwargs)
