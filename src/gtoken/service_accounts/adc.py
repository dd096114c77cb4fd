"""Application Default Credentials: the credentials ``google.auth.default()`` would find.

``gtoken.credentials(scopes)`` falls back to them when no account is signed in to gtoken and
neither ``client_secrets`` nor ``service_account`` is given. The places, in google-auth's order:

1. the file ``GOOGLE_APPLICATION_CREDENTIALS`` names (an error if it names no file);
2. gcloud's ``application_default_credentials.json``, in ``CLOUDSDK_CONFIG`` when that is set,
   else in ``$HOME/.config/gcloud`` (what ``gcloud auth application-default login`` writes).

A service-account key found there gets its tokens as ``service_account=`` would. An
``authorized_user`` file is used where it lies: gtoken reads its refresh token on each
``credentials()`` call and never stores it or writes the file, so the file stays its only copy
(nothing gtoken does can lose it; a new ``gcloud auth application-default login`` is picked up at
once). Access tokens are cached sealed in the store like every other, by client id and a hash of
the refresh token, so processes share one refresh per expiry. (To keep such a grant in gtoken's
store instead, adopt it with ``gtoken import``.) Google Cloud's metadata server and the other
credential types google-auth knows (external accounts, impersonation) are not looked for.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Final

from gtoken.errors import ConfigError, ConsentRequired, InvalidGrant, ScopeNotGranted
from gtoken.files import Imported, read_token_file
from gtoken.oauth import scopes as _scopes
from gtoken.oauth.token import Token
from gtoken.refresh import DEFAULT_MIN_TTL, consent_reason, refresh_answer
from gtoken.service_accounts.cache import TokenCache
from gtoken.service_accounts.keys import ServiceAccountKey, read_json_object
from gtoken.service_accounts.tokens import ServiceAccounts

if TYPE_CHECKING:
    from gtoken.accounts import Accounts
    from gtoken.adapters.google_auth import TokenSource

__all__ = [
    "ENV_CLOUDSDK_CONFIG",
    "ENV_CREDENTIALS",
    "GCLOUD_FILE",
    "TOKEN_NAMESPACE",
    "AuthorizedUserSource",
    "Found",
    "default_source",
    "find",
    "gcloud_file",
]

ENV_CREDENTIALS: Final = "GOOGLE_APPLICATION_CREDENTIALS"
ENV_CLOUDSDK_CONFIG: Final = "CLOUDSDK_CONFIG"
GCLOUD_FILE: Final = "application_default_credentials.json"
TOKEN_NAMESPACE: Final = "adc-token"

log = logging.getLogger("gtoken")


@dataclass(frozen=True)
class Found:
    """An Application Default Credentials file, and which place named it."""

    path: Path
    via: str  # ENV_CREDENTIALS or "gcloud"

    @property
    def label(self) -> str:
        if self.via == ENV_CREDENTIALS:
            return f"{ENV_CREDENTIALS}={self.path}"
        return f"gcloud's application default credentials {self.path}"


def gcloud_file(env: Mapping[str, str]) -> Path | None:
    """Where gcloud keeps its ADC file (None when neither CLOUDSDK_CONFIG nor HOME is set)."""
    config = env.get(ENV_CLOUDSDK_CONFIG, "")
    if config:
        return Path(config) / GCLOUD_FILE
    home = env.get("HOME", "")
    return Path(home) / ".config" / "gcloud" / GCLOUD_FILE if home else None


def find(env: Mapping[str, str]) -> Found | None:
    """The ADC file, in google-auth's order; None when there is none. Raises ConfigError when
    ``GOOGLE_APPLICATION_CREDENTIALS`` names no file (google-auth does too: a typo there must not
    quietly fall through to other credentials)."""
    named = env.get(ENV_CREDENTIALS, "")
    if named:
        path = Path(named)
        if not path.is_file():
            raise ConfigError(
                f"{ENV_CREDENTIALS} is set to {named!r}, which is not a file",
                hint="Point it at a service-account key or authorized_user file, or unset it.",
            )
        return Found(path, ENV_CREDENTIALS)
    gcloud = gcloud_file(env)
    if gcloud is not None and gcloud.is_file():
        return Found(gcloud, "gcloud")
    return None


def default_source(
    accounts: Accounts, scopes: Iterable[str], env: Mapping[str, str]
) -> TokenSource:
    """The tokens of the Application Default Credentials for ``scopes``, through ``accounts``'
    store. Logs the source at INFO on the ``gtoken`` logger.

    Raises ConsentRequired naming every place looked when there are none, and ConfigError for a
    file that is not a service-account key or an ``authorized_user`` file."""
    found = find(env)
    if found is None:
        raise _nothing_found(accounts, env)
    source = _source_of(accounts, found, scopes)
    log.info("gtoken: using Application Default Credentials from %s", source.source)
    return source


def _source_of(accounts: Accounts, found: Found, scopes: Iterable[str]) -> TokenSource:
    doc = read_json_object(found.path, "a credentials")
    if "installed" in doc or "web" in doc:
        raise ConfigError(
            f"{found.label} is an OAuth client (client_secret.json), which is no credentials by "
            "itself: a person signs in with it",
            hint="Sign in with it (gtoken.credentials(scopes, client_secrets=...), or gtoken "
            f"login --client-secrets ...), and point {ENV_CREDENTIALS} elsewhere or unset it.",
        )
    kind = doc.get("type")
    if kind == "service_account":
        key = ServiceAccountKey.from_info(doc, source=str(found.path))
        wanted = _scopes.canonical(scopes)
        if not wanted:
            raise ValueError(
                f"{found.label} is a service-account key, which gets tokens for given scopes "
                "only: pass them, as in gtoken.credentials(['gmail.readonly'])"
            )
        described = f"{found.label} (service account {key.client_email})"
        return ServiceAccounts.of(accounts).source(key, wanted, source=described)
    if kind == "authorized_user":
        imported = read_token_file(found.path)
        who = f", {imported.email}" if imported.email else ""
        described = f"{found.label} (authorized_user{who})"
        return AuthorizedUserSource(accounts, imported, scopes, found=found, source=described)
    shown = repr(kind[:60]) if isinstance(kind, str) else "no type"
    raise ConfigError(
        f"{found.label} holds credentials of {shown}; gtoken uses service_account and "
        "authorized_user files only",
        hint="Call google.auth.default() for other credential types, or point "
        f"{ENV_CREDENTIALS} at a service-account key.",
    )


def _nothing_found(accounts: Accounts, env: Mapping[str, str]) -> ConsentRequired:
    gcloud = gcloud_file(env)
    where = (
        f"gcloud's {gcloud} (not there)"
        if gcloud is not None
        else f"gcloud's {GCLOUD_FILE} (neither {ENV_CLOUDSDK_CONFIG} nor HOME is set)"
    )
    return ConsentRequired(
        "gtoken",
        "no account has signed in yet, and there are no Application Default Credentials. "
        f"Looked in: the gtoken store {accounts.store.path} (no account); {ENV_CREDENTIALS} "
        f"(not set); {where}",
        hint="Sign in once with gtoken login --client-secrets client_secret.json --scope ..., "
        f"or set {ENV_CREDENTIALS} to a service-account key file.",
    )


class AuthorizedUserSource:
    """A person's grant in an ``authorized_user`` file, refreshed where it lies.

    The refresh token stays in the file alone; access tokens are cached sealed in the store,
    shared by every process that reads the same file. Asking for scopes the grant lacks is a
    :class:`~gtoken.errors.ScopeNotGranted` at the first token, not a 403 later."""

    def __init__(
        self,
        accounts: Accounts,
        imported: Imported,
        scopes: Iterable[str],
        *,
        found: Found,
        source: str,
    ) -> None:
        self._accounts = accounts
        self._imported = imported
        self._found = found
        self._wanted = _scopes.canonical(scopes)
        self._cache = TokenCache(
            accounts.store, locks=accounts.refresher.locks, clock=accounts.clock
        )
        digest = hashlib.sha256(imported.refresh_token.encode()).hexdigest()[:16]
        self._cache_key = json.dumps([imported.client.client_id, digest])
        self.source = source
        self.account = imported.email or ""
        self.quota_project_id = imported.quota_project_id

    def fresh(self, *, min_ttl: float = DEFAULT_MIN_TTL, rejected: str | None = None) -> Token:
        """A token valid ``min_ttl`` more seconds (and not ``rejected``)."""
        token = self._cache.get(
            TOKEN_NAMESPACE, self._cache_key, self._refresh, min_ttl=min_ttl, rejected=rejected
        )
        missing = _scopes.missing(token.scopes, self._wanted) if token.scopes else frozenset()
        if missing:
            raise self._not_granted(missing, token.scopes)
        return token

    def _refresh(self) -> Token:
        try:
            return refresh_answer(
                self._accounts.refresher.transport(),
                self._accounts.endpoints.client(self._imported.client),
                self._imported.refresh_token,
                now=datetime.fromtimestamp(self._accounts.clock(), UTC),
                scopes=self._imported.scopes or (),
            )
        except InvalidGrant as exc:
            refused = f"Google refused the refresh token in {self._found.label}"
            raise ConsentRequired(
                self.account or str(self._found.path),
                consent_reason(exc, refused),
                likely_causes=exc.likely_causes,
                hint=f"Sign in again: {self._login_command(self._wanted)}. gtoken has not "
                "changed the file.",
            ) from exc

    def _not_granted(self, missing: frozenset[str], granted: frozenset[str]) -> ScopeNotGranted:
        error = ScopeNotGranted(
            missing, account=self.account or f"the grant in {self._found.path}", granted=granted
        )
        error.hint = (
            f"{self._found.label} lacks them: sign in again asking for them "
            f"({self._login_command(granted | self._wanted)})."
        )
        return error

    def _login_command(self, scopes: frozenset[str]) -> str:
        if self._found.via == "gcloud":
            listed = ",".join(sorted(s for s in scopes if s.startswith("https://")))
            return "gcloud auth application-default login" + (
                f" --scopes={listed}" if listed else ""
            )
        return (
            "gtoken login --client-secrets client_secret.json, then gtoken export > "
            f"{self._found.path}"
        )
