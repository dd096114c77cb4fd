"""Handing a stored account out as Google's ``authorized_user`` file (Application Default
Credentials), which ``google.auth.default()`` reads from ``GOOGLE_APPLICATION_CREDENTIALS``."""

from __future__ import annotations

from typing import Final

from gtoken.errors import ConfigError, ConsentRequired
from gtoken.store import AccountRecord

__all__ = ["authorized_user"]

UNIVERSE_DOMAIN: Final = "googleapis.com"


def authorized_user(
    record: AccountRecord, *, quota_project_id: str | None = None
) -> dict[str, str]:
    """``record`` as an ``authorized_user`` document, with the fields and spelling gcloud
    writes: ``type``, ``client_id``, ``client_secret``, ``refresh_token``, ``quota_project_id``
    (only when given), ``account`` (the email, or ``""`` when unknown) and ``universe_domain``.

    The document holds the refresh token and client secret: whoever reads it can act as the
    account. Raises ConfigError when the account has no refresh token or client secret, and
    ConsentRequired when it needs consent again (its refresh token is known to be dead)."""
    who = record.email or record.id
    if record.status != "active":
        raise ConsentRequired(
            who,
            f"it is marked {record.status.replace('_', ' ')}"
            + (f" ({record.status_reason})" if record.status_reason else "")
            + ", so its refresh token would not work anywhere",
            hint="Sign in again with gtoken login, then export.",
        )
    if not record.refresh_token:
        raise ConfigError(
            f"the account {who} has no refresh token, so it cannot be exported: an "
            "authorized_user file is a refresh token with its client",
            hint="Sign in again with gtoken login (a Desktop app client always gets a refresh "
            "token), then export.",
        )
    if not record.client_secret:
        raise ConfigError(
            f"the account {who} has no client secret stored, so it cannot be exported",
            hint="Sign in again with gtoken login --client-secrets client_secret.json, then "
            "export.",
        )
    document = {
        "type": "authorized_user",
        "client_id": record.client_id,
        "client_secret": record.client_secret,
        "refresh_token": record.refresh_token,
    }
    if quota_project_id:
        document["quota_project_id"] = quota_project_id
    document["account"] = record.email or ""
    document["universe_domain"] = UNIVERSE_DOMAIN
    return document
