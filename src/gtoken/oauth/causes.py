"""Why Google refused a grant: the documented reasons that fit the context, in plain words.

For a refresh token these are Google's reasons for one to stop working: the user revoked access,
the app is in Testing status (7 days), 6 months unused, a password change with Gmail scopes, more
than 100 refresh tokens for one client, Workspace session control, an administrator's policy.
"""

from __future__ import annotations

from datetime import UTC
from typing import TYPE_CHECKING, Final

from gtoken.oauth import scopes as _scopes

if TYPE_CHECKING:
    from gtoken.oauth.error_bodies import ErrorContext

__all__ = ["likely_causes"]

REVOKED: Final = (
    "the user removed this app's access (Google Account > Security > Third-party connections)"
)
TESTING: Final = (
    "the app's OAuth consent screen is in Testing status, where refresh tokens last 7 days "
    "unless the only scopes are openid, email and profile (publish the app for lasting tokens)"
)
PASSWORD: Final = "the user changed their password, which ends refresh tokens with Gmail scopes"
UNUSED: Final = "the refresh token was not used for 6 months"
TOO_MANY: Final = (
    "more than 100 refresh tokens were issued to this client for this Google account, "
    "and Google dropped the oldest"
)
SESSION_CONTROL: Final = (
    "the Google Workspace session control policy requires the user to sign in again (invalid_rapt)"
)
ADMIN_POLICY: Final = "a Google Workspace administrator restricted this app or these scopes"


def likely_causes(
    error: str | None, description: str | None, subtype: str | None, context: ErrorContext
) -> tuple[str, ...]:
    """Google's documented reasons that fit an ``invalid_grant`` here, likeliest first."""
    description = description or ""
    if subtype == "invalid_rapt" or "invalid_rapt" in description:
        return (SESSION_CONTROL,)
    if error == "admin_policy_enforced":
        return (ADMIN_POLICY,)
    if context.request == "authorization_code":
        return _code_causes(description)
    if context.request == "jwt_bearer":
        return _assertion_causes(description)
    if context.request == "device_code":
        return ("the device code was already used or has expired",)
    return _refresh_causes(context)


def _refresh_causes(context: ErrorContext) -> tuple[str, ...]:
    causes: list[str] = []
    limit = context.refresh_token_expires_at
    if limit is not None and (context.now is None or context.now >= limit):
        causes.append(
            f"the refresh token's time limit ended at {limit.astimezone(UTC):%Y-%m-%d %H:%M} UTC: "
            "apps in Testing status get refresh tokens that last 7 days (as does access granted "
            "for a set time)"
        )
    causes.append(REVOKED)
    sign_in_only = (
        bool(context.scopes) and _scopes.normalize(context.scopes) <= _scopes.SIGN_IN_SCOPES
    )
    if limit is None and not sign_in_only:
        causes.append(TESTING)
    if any(_scopes.is_gmail(scope) for scope in context.scopes):
        causes.append(PASSWORD)
    causes += [UNUSED, TOO_MANY]
    return tuple(causes)


def _code_causes(description: str) -> tuple[str, ...]:
    if description.startswith("Malformed auth code"):
        return ("the code was mangled, often pasted still URL-encoded (4%2F... instead of 4/...)",)
    if "code verifier" in description:
        return ("the code was sent without the PKCE code verifier of its login",)
    return (
        "the code was already used (a code works once)",
        "the code expired (codes last a few minutes)",
        "the PKCE code verifier is not the one of the login that produced the code",
    )


def _assertion_causes(description: str) -> tuple[str, ...]:
    if "Signature" in description:
        return (
            "the service-account key was deleted or disabled, or the key file belongs to "
            "another service account",
        )
    if "short-lived" in description or "iat" in description:
        return (
            "this machine's clock is wrong: the JWT's iat and exp must lie within an hour of "
            "Google's time",
        )
    if "audience" in description:
        return ("the JWT's aud claim is not the token endpoint's URL",)
    return (
        "the service account was deleted or disabled",
        "the user named in sub (domain-wide delegation) does not exist",
    )
