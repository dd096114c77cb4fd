"""How the emulator says no, in the three ways Google does.

- :class:`TokenError`: a JSON body ``{"error": ..., "error_description": ...}`` with a 4xx status,
  from the token, device, revoke and tokeninfo endpoints.
- :class:`PageError`: an HTML page on Google's own site (``redirect_uri_mismatch``,
  ``invalid_client``, the blocked out-of-band flow...); the browser is *not* sent back to the app.
- :class:`RedirectError`: the browser is sent back to the app's redirect URI with ``?error=...``
  (``access_denied``, ``consent_required``...).
"""

from __future__ import annotations


class EmulatorError(Exception):
    """Base of every refusal the emulator answers with."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.status = status
        self.error = error
        self.description = description


class TokenError(EmulatorError):
    """Answered as Google's JSON error body."""

    def __init__(
        self, status: int, error: str, description: str, *, extra: dict[str, str] | None = None
    ) -> None:
        super().__init__(status, error, description)
        self.extra = extra or {}

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description, **self.extra}


class PageError(EmulatorError):
    """Shown on the emulator's own page instead of redirecting."""


class RedirectError(EmulatorError):
    """Sent back to the application's redirect URI."""

    def __init__(self, error: str, description: str = "") -> None:
        super().__init__(302, error, description)


def bad_request(description: str) -> TokenError:
    return TokenError(400, "invalid_request", description)


def invalid_grant(description: str = "Bad Request", **extra: str) -> TokenError:
    return TokenError(400, "invalid_grant", description, extra=extra)


EXPIRED_OR_REVOKED = "Token has been expired or revoked."
