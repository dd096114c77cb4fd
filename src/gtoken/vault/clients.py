"""The OAuth clients a vault is given: Web application clients, and their redirect URIs."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from gtoken.errors import ConfigError
from gtoken.files.clients import read_client_secrets
from gtoken.oauth.clients import ClientSecrets

__all__ = ["ClientSecretsArg", "load_clients", "redirect_uri_for"]

ClientSecretsArg = str | os.PathLike[str] | Mapping[str, Any] | ClientSecrets


def load_clients(
    given: ClientSecretsArg | Sequence[ClientSecretsArg] | None,
) -> list[ClientSecrets]:
    """The clients of ``given`` (one or several client_secret.json); a Desktop client is refused."""
    if given is None:
        return []
    items: Sequence[ClientSecretsArg]
    if isinstance(given, str | os.PathLike | Mapping | ClientSecrets):
        items = [given]
    else:
        items = list(given)
    clients = [c if isinstance(c, ClientSecrets) else read_client_secrets(c) for c in items]
    for client in clients:
        if client.kind != "web":
            raise ConfigError(
                f"the OAuth client {client.client_id} is a Desktop app client; a web "
                "application's vault needs a Web application client (its redirect URIs are "
                "the application's own)",
                hint="In Google Cloud console create an OAuth client ID of type Web application, "
                "add the application's callback URL to its redirect URIs, and download its JSON.",
            )
    return clients


def redirect_uri_for(client: ClientSecrets, given: str | None) -> str:
    """``given`` if ``client`` has it registered (Google refuses any other), else the client's
    only redirect URI."""
    registered = client.redirect_uris
    if given is None:
        if len(registered) == 1:
            return registered[0]
        raise ConfigError(
            f"say which redirect URI to use for the client {client.client_id} "
            f"(it has {len(registered) or 'no'} registered)",
            hint="Pass redirect_uri=, one of the client's redirect URIs.",
        )
    if given not in registered:
        raise ConfigError(
            f"the redirect URI {given!r} is not registered for the client {client.client_id} "
            f"(registered: {', '.join(registered) or 'none'}); Google would refuse it",
            hint="Add it to the client's Authorized redirect URIs in Google Cloud console, then "
            "download client_secret.json again.",
        )
    return given
