"""Where Google is: its endpoints, or the emulator's when ``GTOKEN_EMULATOR_HOST`` is set; and
where any account's issuer is (:class:`Issuers`): Google, the emulator, or another OAuth server
through its discovery document (see :mod:`gtoken.oauth.issuers`).

``GTOKEN_EMULATOR_HOST=host:port`` sends every Google endpoint gtoken uses (authorization, token,
device, revoke, tokeninfo, userinfo, certs, and the API base URLs handed to client libraries) to
a ``gtoken emulator`` at that address, the convention of the Cloud emulators' ``*_EMULATOR_HOST``.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from gtoken.errors import ConfigError, NetworkError
from gtoken.oauth import endpoints
from gtoken.oauth import issuers as _issuers
from gtoken.oauth.clients import ClientSecrets
from gtoken.oauth.issuers import Issuer

if TYPE_CHECKING:
    from gtoken.transport import Transport

ENV_EMULATOR = "GTOKEN_EMULATOR_HOST"
_HOST = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})$")

# Base URLs googleapiclient should use for an API, relative to the emulator; Drive's discovery
# document puts the version in the service path, which ``api_endpoint`` replaces whole.
_EMULATED_APIS = {"gmail": "/", "drive": "/drive/v3/", "sheets": "/"}


@dataclass(frozen=True)
class Endpoints:
    """The URLs of one Google (the real one, or an emulator)."""

    auth: str
    token: str
    device: str
    revoke: str
    tokeninfo: str
    userinfo: str
    certs: str
    emulator: str | None = None

    def api_endpoint(self, api: str) -> str | None:
        """``client_options["api_endpoint"]`` for ``googleapiclient``; None means Google's own."""
        if self.emulator is None:
            return None
        path = _EMULATED_APIS.get(api)
        if path is None:
            raise ConfigError(
                f"the gtoken emulator has no {api!r} API",
                hint=f"It emulates {', '.join(sorted(_EMULATED_APIS))}; unset {ENV_EMULATOR} "
                "to use Google.",
            )
        return self.emulator + path

    def client(self, client: ClientSecrets) -> ClientSecrets:
        """``client`` with its auth and token URIs sent to the emulator, when there is one."""
        if self.emulator is None:
            return client
        return replace(client, auth_uri=self.auth, token_uri=self.token)


GOOGLE = Endpoints(
    auth=endpoints.AUTH_URI,
    token=endpoints.TOKEN_URI,
    device=endpoints.DEVICE_URI,
    revoke=endpoints.REVOKE_URI,
    tokeninfo=endpoints.TOKENINFO_URI,
    userinfo="https://openidconnect.googleapis.com/v1/userinfo",
    certs="https://www.googleapis.com/oauth2/v3/certs",
)


def emulator(host: str) -> Endpoints:
    """The endpoints of a ``gtoken emulator`` at ``host:port``."""
    match = _HOST.match(host.strip())
    if match is None or not 0 < int(match.group(2)) < 65536:
        raise ConfigError(
            f"{ENV_EMULATOR}={host!r} is not host:port",
            hint=f"Set it as the emulator prints it, e.g. {ENV_EMULATOR}=127.0.0.1:8089.",
        )
    base = f"http://{host.strip()}"
    return Endpoints(
        auth=f"{base}/o/oauth2/v2/auth",
        token=f"{base}/token",
        device=f"{base}/device/code",
        revoke=f"{base}/revoke",
        tokeninfo=f"{base}/tokeninfo",
        userinfo=f"{base}/v1/userinfo",
        certs=f"{base}/oauth2/v3/certs",
        emulator=base,
    )


def current(env: Mapping[str, str] = os.environ) -> Endpoints:
    """Google's endpoints, or the emulator's when ``GTOKEN_EMULATOR_HOST`` is set."""
    host = env.get(ENV_EMULATOR, "").strip()
    return emulator(host) if host else GOOGLE


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
