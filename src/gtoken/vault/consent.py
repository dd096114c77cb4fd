"""Consent for one of the application's users: the consent page's URL, and the callback.

The state (256 random bits) and the PKCE verifier stay in the vault's database, never in a cookie
the user could swap: the database keeps the state's SHA-256 only, and the verifier sealed. A state
is bound to the user id and the client it was issued for, is used once (taken in a transaction:
of two callbacks racing with it, one wins), and expires after :data:`STATE_TTL` seconds.
Every consent asks for ``openid email`` besides the application's scopes, and a nonce: the ID
token that comes back names the Google account, and is checked against Google's keys.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import parse_qs, urlsplit

from gtoken.errors import ProtocolError, StateError
from gtoken.oauth import scopes as _scopes
from gtoken.oauth.authorization import AuthorizationRequest, parse_redirect
from gtoken.oauth.clients import ClientSecrets
from gtoken.oauth.grants import code_exchange
from gtoken.oauth.pkce import Pkce
from gtoken.oauth.responses import parse_token_response
from gtoken.oauth.token import Token
from gtoken.redact import fingerprint
from gtoken.vault.pending import PendingConsent, add_state, take_state

if TYPE_CHECKING:
    from gtoken.transport import Transport
    from gtoken.vault.idtokens import IdTokenVerifier
    from gtoken.vault.storage import Storage

__all__ = ["IDENTITY_SCOPES", "STATE_TTL", "Finished", "finish", "start", "state_hash"]

#: Seconds a consent may take, from its URL to its callback.
STATE_TTL: Final = 600
#: Asked with every consent: who the Google account is.
IDENTITY_SCOPES: Final = _scopes.canonical(["openid", "email"])


def state_hash(state: str) -> str:
    return hashlib.sha256(state.encode("utf-8", "surrogatepass")).hexdigest()


def start(
    storage: Storage,
    client: ClientSecrets,
    *,
    redirect_uri: str,
    user_id: str,
    scopes: Iterable[str],
    login_hint: str | None = None,
    prompt: tuple[str, ...] = (),
) -> str:
    """Record a new consent for ``user_id`` and return its consent page URL."""
    request = AuthorizationRequest(
        client=client,
        redirect_uri=redirect_uri,
        scopes=frozenset(scopes) | IDENTITY_SCOPES,
        prompt=prompt,
        login_hint=login_hint,
        # Incremental consent: the token covers what the user granted before, too.
        include_granted_scopes=True,
        nonce=secrets.token_urlsafe(24),
    )
    assert request.nonce is not None
    add_state(
        storage,
        state_hash=state_hash(request.state),
        client_id=client.client_id,
        user_id=user_id,
        redirect_uri=redirect_uri,
        scopes=request.scopes,
        nonce=request.nonce,
        verifier=request.pkce.verifier,
        ttl=STATE_TTL,
    )
    return request.url()


class Finished:
    """A consent's outcome, before it is stored: whose, and what Google granted."""

    def __init__(self, pending: PendingConsent, token: Token, claims: dict[str, Any]) -> None:
        self.pending = pending
        self.token = token
        self.sub: str = claims["sub"]
        email = claims.get("email")
        self.email: str | None = email if isinstance(email, str) else None


def finish(
    storage: Storage,
    callback_url: str,
    *,
    clients: dict[str, ClientSecrets],
    transport: Transport,
    verifier: IdTokenVerifier,
    user_id: str | None = None,
) -> Finished:
    """Check and consume the callback's state, exchange its code (with the consent's PKCE
    verifier and redirect URI), and verify the ID token. Raises StateError for a state that is
    missing, unknown, used, expired or another user's; the consent page's own errors
    (AccessDenied...) and the token endpoint's otherwise."""
    if not isinstance(callback_url, str):
        raise TypeError("callback_url is the URL (or query string) the user came back with")
    state = _state_of(callback_url)
    pending = take_state(storage, state_hash(state), lambda p: _check_user(p, user_id, state))
    if pending is None:
        raise StateError(
            f"The callback's state ({fingerprint(state)}) is not one this application is "
            "waiting for: it was already used, or never issued (a forged or stale link)."
        )
    if pending.expires_at < storage.now():
        raise StateError(
            f"The consent of user {pending.user_id!r} expired: it must be finished within "
            f"{STATE_TTL // 60} minutes of its start."
        )
    client = clients.get(pending.client_id)
    if client is None:
        raise StateError(
            f"The consent was started for the client {pending.client_id}, which this vault was "
            "not given."
        )
    code = parse_redirect(callback_url, expected_state=state)
    token = _exchange(client, pending, code, transport, storage.clock())
    if not token.id_token:
        raise ProtocolError("Google's answer to the code exchange carries no ID token.")
    claims = verifier.verify(token.id_token, audience=client.client_id, nonce=pending.nonce)
    return Finished(pending, token, claims)


def _state_of(callback_url: str) -> str:
    text = callback_url.strip()
    query = urlsplit(text).query if "?" in text or "://" in text else text
    values = parse_qs(query, keep_blank_values=True).get("state")
    if not values or not values[0]:
        raise StateError("The callback carries no state; it is not the answer to a consent.")
    return values[0]


def _check_user(pending: PendingConsent, user_id: str | None, state: str) -> None:
    if user_id is not None and not hmac.compare_digest(
        pending.user_id.encode(), str(user_id).encode()
    ):
        raise StateError(
            f"The callback's state ({fingerprint(state)}) was issued for another user of this "
            "application; it was left for that user."
        )


def _exchange(
    client: ClientSecrets, pending: PendingConsent, code: str, transport: Transport, now: float
) -> Token:
    reply = transport.send(
        code_exchange(
            client, code=code, redirect_uri=pending.redirect_uri, pkce=Pkce(pending.verifier)
        )
    )
    return parse_token_response(
        reply.status,
        reply.headers,
        reply.body,
        grant="authorization_code",
        now=datetime.fromtimestamp(now, UTC),
        requested_scopes=pending.scopes,
    )
