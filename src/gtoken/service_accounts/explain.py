"""Google's refusals of a service account's assertion, explained for the person who can fix them.

Google's own words (``unauthorized_client``, ``Invalid email or User ID``, ``Invalid JWT
Signature.``) say little; here they become what went wrong for this key, this user and these
scopes, and where to put it right. No I/O: the time and Google's ``Date`` header are handed in.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Final

from gtoken.errors import InvalidGrant, OAuthError, UnauthorizedClient
from gtoken.service_accounts.keys import ServiceAccountKey

__all__ = ["explain"]

_CONSOLE_KEYS: Final = "Google Cloud console > IAM & Admin > Service Accounts > {email} > Keys"


def explain(
    error: OAuthError,
    *,
    key: ServiceAccountKey,
    scopes: Iterable[str],
    subject: str | None,
    now: datetime,
    server_date: str | None = None,
) -> OAuthError:
    """``error``, Google's answer to ``key``'s assertion for ``scopes`` (as ``subject``), with a
    message and hint that say what to do; errors this has nothing to add to come back as they
    are."""
    wanted = sorted(scopes)
    if isinstance(error, UnauthorizedClient):
        return _unauthorized(error, key, wanted, subject)
    if not isinstance(error, InvalidGrant):
        return error
    description = error.description or ""
    if "Invalid email or User ID" in description and subject:
        return _grant(
            error,
            f"{subject} is not a user Google knows, so {key.client_email} cannot act as it "
            "(domain-wide delegation)",
            hint="Give as subject the primary email address of an existing user of the Google "
            "Workspace domain that allowed the delegation.",
            causes=(
                "the address is misspelt, or is an alias or a group rather than a user's "
                "primary address",
                "the user was deleted, or belongs to another domain",
                "it is a consumer Google account (gmail.com), which delegation cannot act as",
            ),
        )
    if "short-lived" in description or "iat" in description:
        return _clock(error, key, now, server_date)
    if "Signature" in description:
        return _grant(
            error,
            f"Google refused the signature made with key {key.private_key_id} of "
            f"{key.client_email}: that key was deleted, disabled or rotated in the console, or "
            f"{key.source} is another service account's key",
            hint="Create a new key (" + _CONSOLE_KEYS.format(email=key.client_email) + " > Add "
            "key > Create new key > JSON) and use that file.",
            causes=(
                f"the key {key.private_key_id} was deleted or disabled in the console",
                "the key was rotated and this is the old file",
                "the key file's client_email was changed, or belongs to another service account",
            ),
        )
    if "audience" in description:
        return _grant(
            error,
            f"Google refused the audience of {key.client_email}'s JWT",
            hint="Use the key file as downloaded; if GTOKEN_EMULATOR_HOST is set, check that it "
            "names the emulator the key came from.",
            causes=("the token endpoint is not Google's (or the emulator's) own",),
        )
    return _grant(
        error,
        f"Google does not accept the service account {key.client_email}",
        hint="Check in Google Cloud console > IAM & Admin > Service Accounts that it exists and "
        "is enabled; if it was deleted and created again, download a new key.",
        causes=(
            "the service account was deleted or disabled",
            "the key file belongs to a project that was deleted",
        ),
    )


def _unauthorized(
    error: UnauthorizedClient, key: ServiceAccountKey, scopes: list[str], subject: str | None
) -> OAuthError:
    client_id = key.client_id or "(the service account's numeric Unique ID)"
    if not subject:
        return UnauthorizedClient(
            f"Google says the service account {key.client_email} (client id {client_id}) may not "
            f"get tokens for {', '.join(scopes)}. {_said(error)}",
            error=error.error,
            description=error.description,
            status=error.status,
            subtype=error.subtype,
            hint="Check that the service account is enabled and that its project has the APIs "
            "of these scopes enabled.",
        )
    return UnauthorizedClient(
        f"Domain-wide delegation is not allowed for client id {client_id} "
        f"({key.client_email}) with the scopes {', '.join(scopes)}, so it cannot act as "
        f"{subject}. {_said(error)}",
        error=error.error,
        description=error.description,
        status=error.status,
        subtype=error.subtype,
        hint="A Google Workspace super admin must allow it: Admin console (admin.google.com) > "
        "Security > API controls > Domain-wide delegation > Add new (or edit the entry of this "
        f"client id): client id {client_id}, OAuth scopes {','.join(scopes)}. Every scope of "
        "a request must be allowed; changes can take some minutes to apply.",
    )


def _clock(
    error: InvalidGrant, key: ServiceAccountKey, now: datetime, server_date: str | None
) -> InvalidGrant:
    local = now.astimezone(UTC)
    shown = f"this machine's time is {local:%Y-%m-%d %H:%M:%S} UTC"
    google = _parse_date(server_date)
    if google is None:
        shown += " (Google's answer had no Date header to compare it with)"
    else:
        skew = (local - google).total_seconds()
        shown += f", Google's (its Date header) {google:%Y-%m-%d %H:%M:%S} UTC: "
        if abs(skew) < 60:
            shown += "they agree now, so the clock may have been set right since; retry"
        else:
            ahead = "ahead of" if skew > 0 else "behind"
            shown += f"this machine is {_duration(abs(skew))} {ahead} Google"
    return _grant(
        error,
        f"Google refused {key.client_email}'s JWT as not current (its iat and exp must be "
        f"within an hour of Google's time), so this machine's clock is probably wrong: {shown}",
        hint="Check this machine's clock (timedatectl, or the NTP service), set it right, and "
        "retry.",
        causes=("this machine's clock is wrong (or its time zone is set wrongly)",),
    )


def _grant(error: InvalidGrant, what: str, *, hint: str, causes: tuple[str, ...]) -> InvalidGrant:
    return InvalidGrant(
        f"{what}. {_said(error)}",
        error=error.error,
        description=error.description,
        status=error.status,
        subtype=error.subtype,
        hint=hint,
        likely_causes=causes,
    )


def _said(error: OAuthError) -> str:
    said = f"Google answered HTTP {error.status}, {error.error or 'an error'}"
    if error.description:
        said += f": {error.description.rstrip('.')}"
    return said + "."


def _parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} seconds"  # at least 60: smaller differences are not shown
    if seconds < 7200:
        return f"{seconds / 60:.0f} minutes"
    return f"{seconds / 3600:.1f} hours"
