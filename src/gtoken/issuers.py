"""The issuer of an account's tokens, found once per process: Google, the emulator, or any other
OAuth server through its discovery document (see :mod:`gtoken.oauth.issuers`)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from gtoken.errors import ConfigError, NetworkError
from gtoken.oauth import issuers as _issuers
from gtoken.oauth.issuers import Issuer

if TYPE_CHECKING:
    from gtoken.google import Endpoints
    from gtoken.transport import Transport

__all__ = ["Issuers"]


class Issuers:
    """Finds the :class:`Issuer` of a token endpoint. With ``GTOKEN_EMULATOR_HOST`` set every
    account's issuer is the emulator; Google's token endpoints are Google; any other server is
    asked for its discovery document, once per process."""

    def __init__(self, endpoints: Endpoints, transport: Callable[[], Transport]) -> None:
        self.endpoints = endpoints
        self._transport = transport
        self._lock = threading.Lock()
        self._found: dict[str, Issuer] = {}

    def of(self, token_uri: str) -> Issuer:
        """The issuer whose token endpoint is ``token_uri``. Raises ConfigError when it is not
        Google and publishes no discovery document naming that endpoint."""
        e = self.endpoints
        if e.emulator is not None:
            return _issuers.google(
                token=e.token, revoke=e.revoke, userinfo=e.userinfo, device=e.device,
                tokeninfo=e.tokeninfo,
            )  # fmt: skip
        if _issuers.is_google(token_uri):
            return _issuers.google()
        with self._lock:
            found = self._found.get(token_uri)
        if found is None:
            found = self._discover(token_uri)
            with self._lock:
                self._found[token_uri] = found
        return found

    def _discover(self, token_uri: str) -> Issuer:
        host = urlsplit(token_uri).netloc
        unreachable: NetworkError | None = None
        for url in _issuers.discovery_urls(token_uri):
            try:
                response = self._transport().request(
                    "GET", url, headers={"Accept": "application/json"}
                )
            except NetworkError as exc:
                unreachable = exc
                continue
            if response.status == 200:
                issuer = _issuers.parse_discovery(response.body, token_uri=token_uri)
                if issuer is not None:
                    return issuer
        if unreachable is not None:
            raise unreachable
        raise ConfigError(
            f"the OAuth server at {host} is not Google's and publishes no discovery document "
            f"(/.well-known/openid-configuration) naming its token endpoint {token_uri}, so "
            "gtoken cannot tell which of its endpoints may receive this account's tokens",
            hint="gtoken sends a token only to the server that issued it; ask the server's "
            "administrators to publish OpenID Connect discovery, or use Google's endpoints.",
        )
