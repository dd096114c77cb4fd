"""Every stored account: its status, its access token, a Testing app's 7-day limit, and whether
it belongs to the Google that ``GTOKEN_EMULATOR_HOST`` selects."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

from gtoken.accounts import Accounts
from gtoken.doctor.finding import LOGIN, Finding, sentence, span, when
from gtoken.doctor.home import insecure, wrong_key
from gtoken.endpoints import ENV_EMULATOR
from gtoken.errors import ConfigError, StoreError
from gtoken.store import AccountRecord, DamagedAccount, InsecurePermissions, WrongKey

__all__ = ["TESTING_WARNING", "check_accounts"]

#: A Testing app's refresh token this close to its end is worth a warning.
TESTING_WARNING: Final = 2 * 24 * 3600
_TESTING: Final = (
    "Google ends the refresh tokens of apps whose OAuth consent screen is in Testing status 7 days "
    "after consent (unless the only scopes are openid, email and profile)"
)
_PUBLISH: Final = (
    "Publish the app (Google Cloud console > APIs & Services > OAuth consent screen > Publish "
    "app), then sign in again with {login}; until it is published, sign in again every 7 days."
)


def check_accounts(
    env: Mapping[str, str],
    store: Path,
    factory: Callable[[Mapping[str, str]], Accounts],
    *,
    has_emulator: bool,
) -> list[Finding]:
    """Open the store through ``factory`` and describe every account in it."""
    try:
        with factory(env) as accounts:
            records = accounts.store.survey()
            now = accounts.clock()
    except WrongKey as exc:
        return [wrong_key(env, exc, store.parent)]
    except InsecurePermissions as exc:
        return [insecure("store", exc.path, exc, mode="600")]
    except (StoreError, ConfigError) as exc:
        return [Finding("problem", "store", f"{store} cannot be read: {exc.message}", exc.hint)]
    if not records:
        return [
            Finding(
                "warning",
                "accounts",
                f"The store {store} holds no account.",
                f"Sign one in: {LOGIN} (or adopt a saved token: gtoken import token.json).",
            )
        ]
    return [f for record in records for f in _account(record, now, has_emulator=has_emulator)]


def _account(
    record: AccountRecord | DamagedAccount, now: float, *, has_emulator: bool
) -> Iterator[Finding]:
    who = record.email or record.id
    subject = f"account {who}"
    if isinstance(record, DamagedAccount):
        yield Finding(
            "problem",
            subject,
            f"Its stored data is damaged, so it cannot be used: {sentence(record.problem)}",
            f"Forget it with gtoken logout --account {who}, then sign in again: "
            f"gtoken login --client-secrets client_secret.json --account {who}",
        )
        return
    login = f"gtoken login --client-secrets client_secret.json --account {who}"
    limit = record.refresh_token_expires_at
    if record.status == "needs_consent":
        yield Finding(
            "problem",
            subject,
            f"Needs consent again: {record.status_reason or 'no reason was recorded'}.",
            f"Sign in again: {login}",
        )
    elif record.status == "revoked":
        reason = f" ({record.status_reason})" if record.status_reason else ""
        yield Finding(
            "problem",
            subject,
            f"Its access was revoked{reason}.",
            f"Sign in again ({login}), or forget it: gtoken logout --account {who}",
        )
    elif not record.refresh_token:
        yield Finding(
            "warning",
            subject,
            "It has no refresh token: once its access token expires, it needs a new sign-in. "
            + _access(record, now),
            f"Sign in again with a Desktop app client, which always gets one: {login}",
        )
    elif limit is not None and limit - now <= TESTING_WARNING:
        yield _testing_limit(limit, now, subject, login)
    else:
        lasts = "" if limit is None else f" Its refresh token lasts until {when(limit)}."
        yield Finding(
            "ok",
            subject,
            f"Active (client {record.client_id}; {len(record.scopes)} scopes). "
            f"{_access(record, now)}{lasts}",
        )
    yield from _endpoint_mismatch(record, subject, has_emulator=has_emulator)


def _access(record: AccountRecord, now: float) -> str:
    if record.expires_at is None or not record.access_token:
        return "No access token is stored yet; one is fetched on first use."
    if record.expires_at > now:
        return f"Its access token is valid until {when(record.expires_at)}."
    return (
        f"Its access token expired at {when(record.expires_at)}; gtoken refreshes it on next use."
    )


def _testing_limit(limit: int, now: float, subject: str, login: str) -> Finding:
    """A Testing app's refresh token that has ended, or ends within two days."""
    fix = _PUBLISH.format(login=login)
    if limit <= now:
        return Finding(
            "problem",
            subject,
            f"Its refresh token stopped working at {when(limit)}: {_TESTING}.",
            fix,
        )
    return Finding(
        "warning",
        subject,
        f"Its refresh token stops working at {when(limit)}, in {span(limit - now)}: {_TESTING}.",
        fix,
    )


def _endpoint_mismatch(
    record: AccountRecord, subject: str, *, has_emulator: bool
) -> Iterator[Finding]:
    """An account of Google used with the emulator, or one of an emulator used with Google."""
    of_google = _is_google(record.token_uri)
    if has_emulator and of_google:
        yield Finding(
            "warning",
            subject,
            f"It was signed in with Google, but {ENV_EMULATOR} is set: gtoken would send its "
            "refresh token to the emulator, which refuses it, and mark the account as needing "
            "consent.",
            f"Give the emulator its own GTOKEN_HOME, or unset {ENV_EMULATOR}.",
        )
    elif not has_emulator and not of_google:
        yield Finding(
            "warning",
            subject,
            f"It was signed in with the token endpoint {record.token_uri}, not Google's; with "
            f"{ENV_EMULATOR} unset, gtoken refreshes it there.",
            f"If that was an emulator, set {ENV_EMULATOR} again, or forget the account: "
            f"gtoken logout --account {record.email or record.id}",
        )


def _is_google(url: str) -> bool:
    parts = urlsplit(url)
    host = parts.hostname or ""
    return parts.scheme == "https" and host.endswith((".googleapis.com", ".google.com"))
