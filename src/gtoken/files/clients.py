"""Reading an OAuth client's ``client_secret.json``: the one reader the library, ``gtoken login``
and ``gtoken doctor`` share."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gtoken.errors import ConfigError
from gtoken.files.reading import read_small
from gtoken.oauth.clients import ClientSecrets

__all__ = ["DOWNLOAD_HINT", "read_client_secrets"]

DOWNLOAD_HINT = "Download it from Google Cloud console > APIs & Services > Credentials."


def read_client_secrets(
    client_secrets: str | os.PathLike[str] | Mapping[str, Any], *, hint: str = DOWNLOAD_HINT
) -> ClientSecrets:
    """The client of a ``client_secret.json`` (its path, ``~`` allowed, or its parsed JSON).

    Raises ConfigError naming the file and what is wrong with it (missing, unreadable, too big,
    not a client), with ``hint`` when it cannot be read."""
    if isinstance(client_secrets, Mapping):
        return ClientSecrets.from_json(client_secrets)
    path = Path(client_secrets).expanduser()
    try:
        data = read_small(path, what="a client_secret.json")
    except ConfigError as exc:
        raise ConfigError(
            f"cannot read the client secrets file: {exc.message}", hint=hint
        ) from None
    return ClientSecrets.from_json(data.decode("utf-8", "replace"), source=str(path))
