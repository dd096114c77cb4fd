"""Where Google is: its endpoints, or the emulator's when ``GTOKEN_EMULATOR_HOST`` is set.

``GTOKEN_EMULATOR_HOST=host:port`` sends every Google endpoint gtoken uses (authorization, token,
device, revoke, tokeninfo, userinfo, certs, and the API base URLs handed to client libraries) to
a ``gtoken emulator`` at that address, the convention of the Cloud emulators' ``*_EMULATOR_HOST``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

from gtoken.errors import ConfigError
from gtoken.oauth import endpoints
from gtoken.oauth.clients import ClientSecrets

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
