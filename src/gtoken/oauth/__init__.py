"""The OAuth 2.0 protocol as Google speaks it, without I/O.

Values and pure functions: authorization URLs and redirects, token-endpoint requests and their
answers, tokens, client secrets, scope names, and the error tree every part of gtoken raises.
Nothing here opens a socket, reads a file or the clock; the time is always handed in.

Scope helpers live in :mod:`gtoken.oauth.scopes` (``scopes.expand``, ``scopes.covers``, ...) and
Google's endpoint URLs in :mod:`gtoken.oauth.endpoints`.
"""

from __future__ import annotations

from gtoken.errors import (
    AccessDenied,
    AuthorizationError,
    AuthorizationPending,
    ConfigError,
    ConsentRequired,
    DeviceAccessDenied,
    DeviceCodeExpired,
    DeviceFlowPending,
    GTokenError,
    InvalidClient,
    InvalidGrant,
    InvalidRequest,
    InvalidScope,
    InvalidToken,
    LoginTimeout,
    NetworkError,
    OAuthError,
    ProtocolError,
    RedirectUriMismatch,
    ScopeNotGranted,
    ServerError,
    SlowDown,
    StateMismatch,
    StoreError,
    UnauthorizedClient,
    WrongKey,
)
from gtoken.oauth import endpoints, scopes
from gtoken.oauth.authorization import AuthorizationRequest, parse_redirect
from gtoken.oauth.clients import ClientSecrets
from gtoken.oauth.error_bodies import ErrorContext, RequestKind, error_from_response
from gtoken.oauth.grants import (
    TokenRequest,
    code_exchange,
    device_authorization,
    device_poll,
    jwt_bearer,
    refresh,
    revoke,
)
from gtoken.oauth.pkce import Pkce
from gtoken.oauth.responses import (
    DeviceAuthorization,
    Grant,
    parse_device_authorization,
    parse_revoke_response,
    parse_token_response,
)
from gtoken.oauth.token import Token, id_token_claims
from gtoken.redact import fingerprint

__all__ = [
    "AccessDenied",
    "AuthorizationError",
    "AuthorizationPending",
    "AuthorizationRequest",
    "ClientSecrets",
    "ConfigError",
    "ConsentRequired",
    "DeviceAccessDenied",
    "DeviceAuthorization",
    "DeviceCodeExpired",
    "DeviceFlowPending",
    "ErrorContext",
    "GTokenError",
    "Grant",
    "InvalidClient",
    "InvalidGrant",
    "InvalidRequest",
    "InvalidScope",
    "InvalidToken",
    "LoginTimeout",
    "NetworkError",
    "OAuthError",
    "Pkce",
    "ProtocolError",
    "RedirectUriMismatch",
    "RequestKind",
    "ScopeNotGranted",
    "ServerError",
    "SlowDown",
    "StateMismatch",
    "StoreError",
    "Token",
    "TokenRequest",
    "UnauthorizedClient",
    "WrongKey",
    "code_exchange",
    "device_authorization",
    "device_poll",
    "endpoints",
    "error_from_response",
    "fingerprint",
    "id_token_claims",
    "jwt_bearer",
    "parse_device_authorization",
    "parse_redirect",
    "parse_revoke_response",
    "parse_token_response",
    "refresh",
    "revoke",
    "scopes",
]
