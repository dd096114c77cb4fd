"""The authorization request (the consent page's URL) and the redirect that comes back from it."""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass, field
from typing import Final, Literal
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

from gtoken.errors import AccessDenied, AuthorizationError, ConfigError, StateMismatch
from gtoken.oauth import scopes as _scopes
from gtoken.oauth.clients import ClientSecrets
from gtoken.oauth.pkce import Pkce
from gtoken.redact import fingerprint, redact

__all__ = ["OOB_REDIRECT_URIS", "AuthorizationRequest", "new_state", "parse_redirect"]

#: The out-of-band redirect URIs Google blocked for all clients on 2023-01-31.
OOB_REDIRECT_URIS: Final = frozenset(
    {"urn:ietf:wg:oauth:2.0:oob", "urn:ietf:wg:oauth:2.0:oob:auto", "oob"}
)
_PROMPTS: Final = frozenset({"none", "consent", "select_account"})
_ERROR_CODE = re.compile(r"[A-Za-z0-9_.-]{1,64}")
# What a code may hold: Google's are ``4/0A`` and URL-safe base64, well under 1 KiB.
_CODE = re.compile(r"[A-Za-z0-9/_.~+=-]{1,1024}")
_PASTE_HINT = (
    "Paste the whole address your browser ended on after you allowed access (it starts with "
    "http:// and contains code=)."
)


def new_state() -> str:
    """A fresh random ``state`` for an authorization request."""
    return secrets.token_urlsafe(32)


@dataclass(frozen=True, kw_only=True)
class AuthorizationRequest:
    """One login's request to Google's consent page: scopes, state and PKCE.

    ``scopes`` may be given in any form :func:`gtoken.oauth.scopes.expand` takes and are kept
    canonical. ``state`` and ``pkce`` are fresh random values unless given. ``repr`` shows only
    fingerprints of the state and the verifier.
    """

    client: ClientSecrets
    redirect_uri: str
    scopes: frozenset[str]
    state: str = field(default_factory=new_state)
    pkce: Pkce = field(default_factory=Pkce.new)
    access_type: Literal["offline", "online"] = "offline"
    prompt: tuple[str, ...] = ()
    login_hint: str | None = None
    include_granted_scopes: bool = False
    #: OpenID Connect's ``nonce``: Google copies it into the ID token, which ties that token to
    #: this request.
    nonce: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "scopes", _scopes.canonical(self.scopes))
        if not self.scopes:
            raise ValueError("an authorization request needs at least one scope")
        if self.redirect_uri in OOB_REDIRECT_URIS:
            raise ConfigError(
                f"The redirect URI {self.redirect_uri!r} is the out-of-band flow, which Google "
                "blocked on 2023-01-31.",
                hint="Use a loopback redirect (http://127.0.0.1:PORT) or the paste-back flow.",
            )
        parts = urlsplit(self.redirect_uri)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"redirect_uri must be an absolute http(s) URL: {self.redirect_uri!r}")
        if not self.state:
            raise ValueError("state must not be empty")
        if self.access_type not in ("offline", "online"):
            raise ValueError(f"access_type is 'offline' or 'online', not {self.access_type!r}")
        if isinstance(self.prompt, str):
            raise TypeError("prompt is a tuple of words, such as ('consent',)")
        object.__setattr__(self, "prompt", tuple(self.prompt))
        unknown = set(self.prompt) - _PROMPTS
        if unknown:
            raise ValueError(f"unknown prompt {sorted(unknown)}: use none, consent, select_account")
        if "none" in self.prompt and len(self.prompt) > 1:
            raise ValueError("prompt 'none' must be alone")

    def url(self) -> str:
        """The consent page's URL, on ``client.auth_uri``."""
        params = [
            ("client_id", self.client.client_id),
            ("redirect_uri", self.redirect_uri),
            ("response_type", "code"),
            ("scope", _scopes.to_param(self.scopes)),
            ("state", self.state),
            ("access_type", self.access_type),
            ("code_challenge", self.pkce.challenge),
            ("code_challenge_method", self.pkce.method),
        ]
        if self.prompt:
            params.append(("prompt", " ".join(self.prompt)))
        if self.login_hint:
            params.append(("login_hint", self.login_hint))
        if self.include_granted_scopes:
            params.append(("include_granted_scopes", "true"))
        if self.nonce:
            params.append(("nonce", self.nonce))
        base = self.client.auth_uri
        sep = "&" if "?" in base else "?"
        return base + sep + urlencode(params, quote_via=quote)

    def __repr__(self) -> str:
        return (
            f"AuthorizationRequest(client_id={self.client.client_id!r}, "
            f"redirect_uri={self.redirect_uri!r}, scopes={sorted(self.scopes)}, "
            f"state={fingerprint(self.state)}, pkce={self.pkce!r}, "
            f"access_type={self.access_type!r}, prompt={self.prompt!r})"
        )

    __str__ = __repr__


def parse_redirect(response: str, *, expected_state: str, allow_bare_code: bool = False) -> str:
    """The authorization code from Google's redirect back.

    ``response`` is the redirected URL, its query string, or (only with ``allow_bare_code``, for
    paste-back, where the state cannot be checked) the code alone. A code still URL-encoded
    (``4%2F0A...``) is decoded. Raises AccessDenied when the person declined, AuthorizationError
    for other errors and unusable input, and StateMismatch when the state is missing or wrong.
    """
    text = response.strip().strip("\"'<>").strip()
    if not text:
        raise AuthorizationError("Nothing was given as the redirect.", hint=_PASTE_HINT)
    params = _query(text)
    if params is None:
        if not allow_bare_code:
            raise AuthorizationError(
                "This is not a redirect address: it has no query (?code=...&state=...).",
                hint=_PASTE_HINT,
            )
        return _clean_code(text)
    if not params:
        raise AuthorizationError("This address carries no code, state or error.", hint=_PASTE_HINT)
    _check_state(params.get("state"), expected_state)
    error = params.get("error")
    if error is not None:
        raise _redirect_error(error, params.get("error_description"))
    code = params.get("code")
    if not code:
        raise AuthorizationError(
            "The redirect carries neither a code nor an error.", hint=_PASTE_HINT
        )
    return _clean_code(code)


def _query(text: str) -> dict[str, str] | None:
    """The redirect's parameters (first value of each), or None when ``text`` is a bare code."""
    if "?" in text:
        query = text.split("?", 1)[1]
    elif text.lower().startswith(("http://", "https://")):
        return {}
    elif "=" in text:
        query = text
    else:
        return None
    query = query.split("#", 1)[0]
    return {name: values[0] for name, values in parse_qs(query, keep_blank_values=True).items()}


def _check_state(got: str | None, expected: str) -> None:
    if got is None:
        raise StateMismatch(
            "The redirect has no state, so it cannot be matched to this login "
            "(a forged or truncated address)."
        )
    if not hmac.compare_digest(got.encode(), expected.encode()):
        raise StateMismatch(
            f"The redirect's state ({fingerprint(got)}) is not this login's "
            f"({fingerprint(expected)}): the address belongs to another login attempt, or was "
            "forged."
        )


def _redirect_error(error: str, description: str | None) -> AuthorizationError:
    readable = _ERROR_CODE.fullmatch(error) and redact(error) == error
    code = error if readable else "an unreadable error"
    said = f"Google's consent page answered {code}"
    if description:
        said += f": {redact(' '.join(description.split()))[:300]}"
    if code == "access_denied":
        return AccessDenied(
            said + ". The person declined, or the app is in Testing status and the account is "
            "not one of its test users."
        )
    return AuthorizationError(said + ".")


def _clean_code(code: str) -> str:
    if "%" in code:
        code = unquote(code)
    if not _CODE.fullmatch(code):
        raise AuthorizationError(
            "This is not an authorization code (it has spaces, odd characters or is too long).",
            hint=_PASTE_HINT,
        )
    return code
