"""gtoken's errors: one tree for the whole library.

Every error gtoken raises on purpose is a :class:`GTokenError`. Each knows whether trying again can
help (``retryable``) and what the person should do (``hint``, one sentence, also the end of
``str(error)``). Misuse of gtoken's own API raises ``ValueError`` or ``TypeError`` instead.

No message contains a token, code, verifier, client secret or key: only fingerprints (see
:mod:`gtoken.redact`). Text from Google is redacted before it is shown.

The tree::

    GTokenError
    ├── ConfigError                  bad client secrets, files, settings or keys
    │   ├── WrongKey †               the encryption key does not decrypt the store
    │   ├── InvalidClient *          Google does not know the client id or secret
    │   └── UnauthorizedClient *     the client may not use this grant (or this refresh token)
    ├── AuthorizationError           the consent step failed
    │   ├── AccessDenied             the person (or Google, for a Testing app) said no
    │   │   └── DeviceAccessDenied * ... on the device page
    │   ├── WrongAccount             someone else signed in than the account asked for
    │   ├── StateError               a callback's state is unknown, used, expired or foreign
    │   │   └── StateMismatch        the redirect's state is not this login's
    │   └── LoginTimeout             nobody finished the consent in time
    ├── OAuthError                   Google answered with an error body
    │   ├── InvalidGrant             code, refresh token or assertion refused: consent needed
    │   ├── InvalidScope
    │   ├── InvalidRequest
    │   ├── RedirectUriMismatch
    │   ├── InvalidToken             a token given to revoke or tokeninfo is not valid
    │   ├── DeviceFlowPending        keep polling (retryable)
    │   │   ├── AuthorizationPending
    │   │   └── SlowDown
    │   ├── DeviceCodeExpired
    │   └── ServerError              Google is overloaded or failing (retryable)
    ├── ProtocolError                an answer that does not follow the protocol
    ├── ConsentRequired              an account needs consent again (.url: where to send them)
    │   └── NoAccount                no account has signed in yet
    ├── ScopeNotGranted              the account lacks scopes that were asked for
    ├── TransientError               a passing failure; nothing stored changed (retryable)
    │   ├── NetworkError             the transport failed after its retries
    │   └── ServerError ‡            Google is overloaded or failing (5xx, 429)
    └── StoreError                   stored data is unreadable

    * also an OAuthError    † also a StoreError    ‡ also an OAuthError (listed there too)

:func:`gtoken.oauth.error_bodies.error_from_response` turns Google's error bodies into these
classes through one table of Google's ``error`` codes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

__all__ = [
    "AccessDenied",
    "AuthorizationError",
    "AuthorizationPending",
    "ConfigError",
    "ConsentRequired",
    "DeviceAccessDenied",
    "DeviceCodeExpired",
    "DeviceFlowPending",
    "GTokenError",
    "InvalidClient",
    "InvalidGrant",
    "InvalidRequest",
    "InvalidScope",
    "InvalidToken",
    "LoginTimeout",
    "NetworkError",
    "NoAccount",
    "OAuthError",
    "ProtocolError",
    "RedirectUriMismatch",
    "ScopeNotGranted",
    "ServerError",
    "SlowDown",
    "StateError",
    "StateMismatch",
    "StoreError",
    "TransientError",
    "UnauthorizedClient",
    "WrongAccount",
    "WrongKey",
]


def _rebuild(cls: type[GTokenError], args: tuple[Any, ...], state: dict[str, Any]) -> GTokenError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class GTokenError(Exception):
    """Base of every error gtoken raises on purpose."""

    retryable: bool = False
    hint: str = ""

    def __init__(self, message: str, *, hint: str | None = None, retryable: bool | None = None):
        super().__init__(message)
        self.message = message
        if hint is not None:
            self.hint = hint
        if retryable is not None:
            self.retryable = retryable

    def __str__(self) -> str:
        if not self.hint:
            return self.message
        sep = " " if self.message.endswith((".", "!", "?")) else ". "
        return f"{self.message}{sep}{self.hint}"

    def __reduce__(self) -> tuple[Any, ...]:
        # Subclasses take other arguments than Exception's; pickle (multiprocessing) rebuilds
        # them from their state instead of calling __init__.
        return (_rebuild, (type(self), self.args, self.__dict__))


class ConfigError(GTokenError):
    """A client secrets file, token file, setting or key is wrong."""

    hint = "Fix the file or setting named above."


class AuthorizationError(GTokenError):
    """The consent step failed."""

    hint = "Start the login again."


class AccessDenied(AuthorizationError):
    """The person declined, or Google refused them (a Testing app and an account that is not a
    test user)."""

    hint = (
        "Sign in again and allow access; for an app in Testing status, add the account as a "
        "test user on the OAuth consent screen first."
    )


class StateError(AuthorizationError):
    """A consent callback's ``state`` is not one this application issued and still waits for:
    unknown or forged, already used, expired, or issued for another user or client."""

    hint = "Start the consent again from the application."


class StateMismatch(StateError):
    """The redirect's ``state`` is missing or belongs to another login."""

    hint = "Start the login again and finish it in the browser window this login opened."


class WrongAccount(AuthorizationError):
    """The login ended signed in as another account than the one asked for. Nothing was stored;
    the grant just made was revoked (``revoked``) when the server allowed it."""

    def __init__(self, *, asked: str, signed_in: str | None, revoked: bool, server: str) -> None:
        who = signed_in or "an account whose e-mail address the server did not say"
        undone = (
            "the access it just granted was revoked"
            if revoked
            else f"the access it just granted could not be revoked at {server}: remove it in "
            "that account's security settings"
        )
        super().__init__(
            f"{asked} was asked for, but the sign-in ended as {who}; nothing was stored and "
            f"{undone}.",
            hint=f"Sign in again and choose {asked} on the consent page (or leave out --account "
            "to keep whoever signs in).",
        )
        self.asked = asked
        self.signed_in = signed_in
        self.revoked = revoked


class LoginTimeout(AuthorizationError):
    """Nobody finished the consent in time."""

    hint = "Run the login again and finish on Google's page before the time runs out."


class StoreError(GTokenError):
    """Stored data cannot be read."""

    hint = "The store may be damaged; sign in again to replace the unreadable account."


class WrongKey(ConfigError, StoreError):
    """The encryption key does not decrypt the store: stored values were sealed with a key
    whose id (``key_id``, when known) the keyring does not hold."""

    hint = (
        "Use the key the store was written with (GTOKEN_KEY, or the key file in GTOKEN_HOME); "
        "without it the stored tokens cannot be read, and signing in again is the way out."
    )

    def __init__(self, message: str, *, key_id: str | None = None, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.key_id = key_id


class TransientError(GTokenError):
    """A failure that passes (the network, Google overloaded, a lock held too long): nothing
    stored was changed, and the same call may succeed later."""

    retryable = True
    hint = "Try again in a moment."


class NetworkError(TransientError):
    """The transport failed after its retries."""

    retryable = True
    hint = "Check the network connection (and any proxy), then try again."


class ProtocolError(GTokenError):
    """An answer, said to be from Google, does not follow the protocol."""

    hint = (
        "Check that the endpoint URL really is Google's (or the emulator's) and not a proxy page."
    )


class ConsentRequired(GTokenError):
    """An account needs consent again. ``reason`` says why (with the likely causes), and ``url``,
    when known (a :class:`gtoken.Vault` connection), is the consent page to send the user to."""

    hint = "Sign in again with this account to give consent (for example: gtoken login)."
    url: str | None = None

    def __init__(
        self,
        account: str,
        reason: str,
        *,
        likely_causes: Iterable[str] = (),
        hint: str | None = None,
        url: str | None = None,
    ):
        self.account = account
        self.reason = reason
        self.likely_causes = tuple(likely_causes)
        self.url = url
        super().__init__(f"{account} needs consent again: {reason}", hint=hint)


class NoAccount(ConsentRequired):
    """No Google account has signed in yet (in this gtoken home, or through this client)."""

    hint = "Sign one in: gtoken login --client-secrets client_secret.json --scope SCOPE."

    def __init__(self, where: str) -> None:
        self.account = ""
        self.reason = "no account has signed in yet"
        self.likely_causes = ()
        GTokenError.__init__(self, f"No Google account has signed in yet {where}.")


class ScopeNotGranted(GTokenError):
    """The account lacks scopes that were asked for."""

    hint = "Sign in again asking for these scopes, and leave their boxes ticked on Google's page."

    def __init__(
        self,
        missing: Iterable[str],
        *,
        account: str | None = None,
        granted: Iterable[str] = (),
    ):
        self.missing = frozenset(missing)
        self.granted = frozenset(granted)
        self.account = account
        who = account or "the account"
        super().__init__(f"{who} has not granted {', '.join(sorted(self.missing))}.")


class OAuthError(GTokenError):
    """Google answered with an error body.

    ``error``, ``description`` (redacted) and ``subtype`` are Google's ``error``,
    ``error_description`` and ``error_subtype``; ``status`` is the HTTP status.
    """

    summary: ClassVar[str] = "Google refused the request."
    hint = "Check the message above; if it persists, report it with this message."

    def __init__(
        self,
        message: str,
        *,
        error: str | None,
        description: str | None = None,
        status: int,
        subtype: str | None = None,
        hint: str | None = None,
        retryable: bool | None = None,
    ):
        self.error = error
        self.description = description
        self.status = status
        self.subtype = subtype
        super().__init__(message, hint=hint, retryable=retryable)


class InvalidClient(OAuthError, ConfigError):
    """Google does not know the client id, or the client secret is wrong."""

    summary = "Google does not accept the OAuth client (client id or secret)."
    hint = (
        "Download client_secret.json again from Google Cloud console (APIs & Services > "
        "Credentials); the secret may have been reset or the client deleted."
    )


class UnauthorizedClient(OAuthError, ConfigError):
    """The client may not use this grant: a refresh token issued to another client, or
    domain-wide delegation not allowed for these scopes."""

    summary = "Google says this client may not get tokens this way."
    hint = (
        "Use the client_secret.json the refresh token was issued with, or sign in again with "
        "this client."
    )


class InvalidScope(OAuthError):
    """A scope is unknown, not granted (on refresh), or not allowed in the device flow."""

    summary = "Google refused the scopes."
    hint = (
        "Check the scope names (for example gmail.readonly); a refresh may only ask for "
        "scopes already granted."
    )


class InvalidRequest(OAuthError):
    """Google could not accept the request's parameters."""

    summary = "Google refused the request as malformed."


class RedirectUriMismatch(OAuthError):
    """The code exchange's redirect_uri differs from the authorization request's."""

    summary = "Google says the redirect URI does not match."
    hint = (
        "Exchange the code with the redirect URI of its authorization request; for a web client "
        "that URI must also be listed on the client in Google Cloud console."
    )


class InvalidToken(OAuthError):
    """A token handed to revoke or tokeninfo is expired, revoked or unknown."""

    summary = "Google says the token is not valid (expired, revoked or unknown)."
    hint = "Get a fresh token; if the token was being revoked, it already is."


class DeviceFlowPending(OAuthError):
    """The device flow is still waiting for the person: keep polling."""

    retryable = True
    summary = "The device sign-in is still waiting for the person."
    hint = "Keep polling at the given interval."


class AuthorizationPending(DeviceFlowPending):
    """The person has not approved on the device page yet."""

    summary = "The person has not approved on the device page yet."


class SlowDown(DeviceFlowPending):
    """Polling too fast: add 5 seconds to the interval."""

    summary = "Google asks to poll more slowly."
    hint = "Add 5 seconds to the polling interval and keep polling."


class DeviceAccessDenied(OAuthError, AccessDenied):
    """The person declined on the device page."""

    summary = "The person declined on the device page."
    hint = "Start the device sign-in again and choose Allow."


class DeviceCodeExpired(OAuthError):
    """The device code expired before the person approved."""

    summary = "The device code expired before the person approved."
    hint = "Start the device sign-in again and approve within its time limit."


class ServerError(OAuthError, TransientError):
    """Google is overloaded or failing; trying again later can help."""

    retryable = True
    summary = "Google's token service had a temporary problem."
    hint = "Try again in a moment."


class InvalidGrant(OAuthError):
    """Google refused the code, refresh token or assertion: for a refresh token, the account
    needs consent again. ``likely_causes`` lists Google's documented reasons that fit."""

    summary = "Google refused the grant."
    hint = "Sign in again to give consent (for example: gtoken login)."

    def __init__(
        self,
        message: str,
        *,
        error: str | None,
        description: str | None = None,
        status: int,
        subtype: str | None = None,
        hint: str | None = None,
        likely_causes: Iterable[str] = (),
    ):
        self.likely_causes = tuple(likely_causes)
        super().__init__(
            message, error=error, description=description, status=status, subtype=subtype, hint=hint
        )
