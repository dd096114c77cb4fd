"""Service accounts: tokens for programs that run unattended, from a key file.

    from gtoken.service_accounts import ServiceAccounts, load_key
    key = load_key("key.json")
    token = ServiceAccounts.of(accounts).token(key, ["gmail.readonly"], subject="ada@example.com")

Most programs call ``gtoken.credentials(scopes, service_account="key.json", subject=...)``
instead. The key signs a JWT bearer assertion (:mod:`~gtoken.service_accounts.assertion`),
``subject`` makes it act as a Workspace user (domain-wide delegation), and Google's refusals are
explained (:mod:`~gtoken.service_accounts.explain`). Keys and tokens are stored sealed and
fetched once per expiry (:mod:`~gtoken.service_accounts.tokens`).
"""

from __future__ import annotations

from gtoken.service_accounts.assertion import sign_assertion
from gtoken.service_accounts.explain import explain
from gtoken.service_accounts.keys import ServiceAccountKey, load_key
from gtoken.service_accounts.tokens import (
    KEY_NAMESPACE,
    TOKEN_NAMESPACE,
    ServiceAccounts,
    ServiceAccountSource,
)

__all__ = [
    "KEY_NAMESPACE",
    "TOKEN_NAMESPACE",
    "ServiceAccountKey",
    "ServiceAccountSource",
    "ServiceAccounts",
    "explain",
    "load_key",
    "sign_assertion",
]
