"""A ``client_secret.json``: can ``gtoken login`` use it?"""

from __future__ import annotations

from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

from gtoken.doctor.finding import Finding, sentence
from gtoken.errors import ConfigError
from gtoken.files.clients import read_client_secrets
from gtoken.oauth.clients import ClientSecrets

__all__ = ["check_client_secrets"]

_SUBJECT: Final = "client secrets"
_DESKTOP: Final = (
    "Create an OAuth client of type Desktop app (Google Cloud console > APIs & Services > "
    "Credentials > Create credentials > OAuth client ID > Desktop app) and download its JSON; "
    "keep the Web client for a web server."
)
_OOB: Final = ("urn:ietf:wg:oauth:2.0:oob", "urn:ietf:wg:oauth:2.0:oob:auto", "oob")
_LOOPBACK_HOSTS: Final = frozenset({"127.0.0.1", "localhost", "::1"})


def check_client_secrets(path: Path) -> list[Finding]:
    """Whether ``path`` is an OAuth client ``gtoken login`` can use, and what to do if not."""
    try:
        client = read_client_secrets(path, hint="Check the path.")
    except ConfigError as exc:  # says what the file is instead, and what to do with it
        return [Finding("problem", _SUBJECT, sentence(exc.message), exc.hint)]
    return [_kind(path, client), *_out_of_band(path, client)]


def _kind(path: Path, client: ClientSecrets) -> Finding:
    if client.kind == "installed":
        return Finding(
            "ok",
            _SUBJECT,
            f"{path} is a Desktop app client ({client.client_id}), ready for gtoken login.",
        )
    if not any(_is_loopback(uri) for uri in client.redirect_uris):
        return Finding(
            "problem",
            _SUBJECT,
            f"{path} is a Web application client without a loopback redirect URI "
            "(http://127.0.0.1:PORT/ or http://localhost:PORT/). Google sends the browser back "
            "only to the redirect URIs listed on a Web client, so gtoken login cannot receive "
            "the sign-in.",
            _DESKTOP,
        )
    return Finding(
        "warning",
        _SUBJECT,
        f"{path} is a Web application client. gtoken login needs a Desktop app client, which "
        "accepts http://127.0.0.1 on any port; a Web client accepts only the exact redirect URIs "
        "listed on it.",
        _DESKTOP,
    )


def _out_of_band(path: Path, client: ClientSecrets) -> list[Finding]:
    dead = [uri for uri in client.redirect_uris if uri in _OOB]
    if not dead:
        return []
    return [
        Finding(
            "warning",
            _SUBJECT,
            f"{path} lists the out-of-band redirect URI {dead[0]}, which Google blocked on "
            '2023-01-31 ("The out-of-band (OOB) flow has been blocked"). gtoken never uses it; '
            "a program that still does fails at Google's page.",
            "Move such programs to a loopback redirect (http://127.0.0.1:PORT/), or use "
            "gtoken login --no-browser, which also works over SSH.",
        )
    ]


def _is_loopback(uri: str) -> bool:
    parts = urlsplit(uri)
    return parts.scheme == "http" and (parts.hostname or "") in _LOOPBACK_HOSTS
