"""Requests to Google's token, device and revoke endpoints, as values.

Nothing here sends anything: the transport sends a :class:`TokenRequest` as it is (a form POST)
and hands the answer's status, headers and body to a function of :mod:`gtoken.oauth.responses`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal
from urllib.parse import urlencode

from gtoken.oauth import scopes as _scopes
from gtoken.oauth.clients import ClientSecrets
from gtoken.oauth.error_bodies import RequestKind
from gtoken.oauth.pkce import Pkce
from gtoken.redact import fingerprint

__all__ = [
    "TokenRequest",
    "code_exchange",
    "device_authorization",
    "device_poll",
    "jwt_bearer",
    "refresh",
    "revoke",
]

JWT_BEARER: Final = "urn:ietf:params:oauth:grant-type:jwt-bearer"
DEVICE_CODE: Final = "urn:ietf:params:oauth:grant-type:device_code"
_FORM_HEADERS: Final = (
    ("Content-Type", "application/x-www-form-urlencoded"),
    ("Accept", "application/json"),
)
_SECRET_FIELDS: Final = frozenset(
    {
        "client_secret",
        "code",
        "code_verifier",
        "refresh_token",
        "assertion",
        "token",
        "device_code",
        "access_token",
    }
)


@dataclass(frozen=True, kw_only=True)
class TokenRequest:
    """A form POST to one of Google's endpoints. ``repr`` shows secret fields as fingerprints."""

    kind: RequestKind
    url: str
    form: tuple[tuple[str, str], ...]
    method: Literal["POST"] = "POST"
    headers: tuple[tuple[str, str], ...] = _FORM_HEADERS

    @property
    def body(self) -> bytes:
        """The form, URL-encoded."""
        return urlencode(self.form).encode("ascii")

    def __repr__(self) -> str:
        form = ", ".join(
            f"{name}={fingerprint(value) if name in _SECRET_FIELDS else repr(value)}"
            for name, value in self.form
        )
        return f"TokenRequest({self.method} {self.url}, kind={self.kind!r}, form=({form}))"

    __str__ = __repr__


def _nonempty(name: str, value: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty str")
    return value


def code_exchange(
    client: ClientSecrets, *, code: str, redirect_uri: str, pkce: Pkce
) -> TokenRequest:
    """Exchange an authorization code, with the redirect URI and PKCE of its own login."""
    return TokenRequest(
        kind="authorization_code",
        url=client.token_uri,
        form=(
            ("grant_type", "authorization_code"),
            ("code", _nonempty("code", code)),
            ("client_id", client.client_id),
            ("client_secret", client.client_secret),
            ("redirect_uri", _nonempty("redirect_uri", redirect_uri)),
            ("code_verifier", pkce.verifier),
        ),
    )


def refresh(
    client: ClientSecrets, refresh_token: str, *, scopes: Iterable[str] | None = None
) -> TokenRequest:
    """Refresh an access token; ``scopes``, when given, narrows it to granted scopes."""
    form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", _nonempty("refresh_token", refresh_token)),
        ("client_id", client.client_id),
        ("client_secret", client.client_secret),
    ]
    if scopes is not None:
        param = _scopes.to_param(scopes)
        if not param:
            raise ValueError("scopes, when given, must not be empty (None means all granted)")
        form.append(("scope", param))
    return TokenRequest(kind="refresh_token", url=client.token_uri, form=tuple(form))


def jwt_bearer(*, token_uri: str, assertion: str) -> TokenRequest:
    """Trade a signed service-account JWT for an access token."""
    return TokenRequest(
        kind="jwt_bearer",
        url=_nonempty("token_uri", token_uri),
        form=(("grant_type", JWT_BEARER), ("assertion", _nonempty("assertion", assertion))),
    )


def device_authorization(
    client: ClientSecrets, scopes: Iterable[str], *, device_url: str
) -> TokenRequest:
    """Start the device flow. Raises ValueError for scopes Google does not allow there."""
    wanted = _scopes.canonical(scopes)
    refused = _scopes.missing(_scopes.DEVICE_FLOW_SCOPES, wanted)
    if not wanted or refused:
        raise ValueError(
            f"the device flow does not allow {sorted(refused) or 'an empty scope list'}; "
            "it allows only openid, email, profile, drive.appdata, drive.file, youtube, "
            "youtube.readonly"
        )
    return TokenRequest(
        kind="device_authorization",
        url=_nonempty("device_url", device_url),
        form=(("client_id", client.client_id), ("scope", _scopes.to_param(wanted))),
    )


def device_poll(client: ClientSecrets, device_code: str) -> TokenRequest:
    """Ask whether the person has approved the device code yet."""
    return TokenRequest(
        kind="device_code",
        url=client.token_uri,
        form=(
            ("grant_type", DEVICE_CODE),
            ("device_code", _nonempty("device_code", device_code)),
            ("client_id", client.client_id),
            ("client_secret", client.client_secret),
        ),
    )


def revoke(token: str, *, revoke_url: str, client: ClientSecrets | None = None) -> TokenRequest:
    """Revoke a token; revoking an access token revokes its refresh token too. Google's endpoint
    takes the token alone; other servers (RFC 7009) want the ``client`` to authenticate."""
    form = [("token", _nonempty("token", token))]
    if client is not None:
        form += [("client_id", client.client_id), ("client_secret", client.client_secret)]
    return TokenRequest(kind="revoke", url=_nonempty("revoke_url", revoke_url), form=tuple(form))
