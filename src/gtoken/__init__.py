"""gtoken: Google API OAuth 2.0 tokens for programs, kept working.

    import gtoken
    creds = gtoken.credentials(["gmail.readonly"], client_secrets="client_secret.json")

Names are loaded on first use, so ``import gtoken`` (and the ``gtoken token`` command) stays fast.
asyncio programs use ``gtoken.aio`` (``import gtoken.aio``).
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: `gtoken token` is hot

__version__ = "0.1.0"

# Public name -> the module that defines it.
_EXPORTS = {
    "credentials": "gtoken.api",
    "build": "gtoken.api",
    "Credentials": "gtoken.adapters.google_auth",
    "HttpxAuth": "gtoken.adapters.httpx_auth",
    "httpx_auth": "gtoken.adapters.httpx_auth",
    "RequestsAuth": "gtoken.adapters.requests_auth",
    "requests_auth": "gtoken.adapters.requests_auth",
    "Accounts": "gtoken.accounts",
    "Account": "gtoken.accounts",
    "Token": "gtoken.oauth.token",
    "ClientSecrets": "gtoken.oauth.clients",
    "GTokenError": "gtoken.errors",
    "ConfigError": "gtoken.errors",
    "ConsentRequired": "gtoken.errors",
    "ScopeNotGranted": "gtoken.errors",
    "AuthorizationError": "gtoken.errors",
    "AccessDenied": "gtoken.errors",
    "LoginTimeout": "gtoken.errors",
    "OAuthError": "gtoken.errors",
    "InvalidGrant": "gtoken.errors",
    "NetworkError": "gtoken.errors",
    "StoreError": "gtoken.errors",
    "StateError": "gtoken.errors",
    "TransientError": "gtoken.errors",
    "Vault": "gtoken.vault.vault",
    "Connection": "gtoken.vault.records",
}

__all__ = [
    "AccessDenied",
    "Account",
    "Accounts",
    "AuthorizationError",
    "ClientSecrets",
    "ConfigError",
    "Connection",
    "ConsentRequired",
    "Credentials",
    "GTokenError",
    "HttpxAuth",
    "InvalidGrant",
    "LoginTimeout",
    "NetworkError",
    "OAuthError",
    "RequestsAuth",
    "ScopeNotGranted",
    "StateError",
    "StoreError",
    "Token",
    "TransientError",
    "Vault",
    "__version__",
    "build",
    "credentials",
    "httpx_auth",
    "requests_auth",
]

if TYPE_CHECKING:
    from gtoken.accounts import Account, Accounts
    from gtoken.adapters.google_auth import Credentials
    from gtoken.adapters.httpx_auth import HttpxAuth, httpx_auth
    from gtoken.adapters.requests_auth import RequestsAuth, requests_auth
    from gtoken.api import build, credentials
    from gtoken.errors import (
        AccessDenied,
        AuthorizationError,
        ConfigError,
        ConsentRequired,
        GTokenError,
        InvalidGrant,
        LoginTimeout,
        NetworkError,
        OAuthError,
        ScopeNotGranted,
        StateError,
        StoreError,
        TransientError,
    )
    from gtoken.oauth.clients import ClientSecrets
    from gtoken.oauth.token import Token
    from gtoken.vault.records import Connection
    from gtoken.vault.vault import Vault


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'gtoken' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
