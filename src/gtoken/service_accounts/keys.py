"""Service-account key files, read exactly as Google Cloud console downloads them.

A key file is JSON with ``type: "service_account"``, ``private_key`` (PEM), ``private_key_id``,
``client_email``, ``client_id``, ``token_uri`` and a few URLs. Reading one checks each field and
says which is wrong; the private key never appears in a message or a ``repr``.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from gtoken.errors import ConfigError
from gtoken.files.reading import read_small
from gtoken.oauth.endpoints import url_problem

__all__ = ["ServiceAccountKey", "load_key", "read_json_object"]

_UNIVERSE: Final = "googleapis.com"
_DOWNLOAD: Final = (
    "Download a key: Google Cloud console > IAM & Admin > Service Accounts > the account > "
    "Keys > Add key > Create new key > JSON."
)
_PEM: Final = re.compile(
    r"-----BEGIN (RSA )?PRIVATE KEY-----\s*([A-Za-z0-9+/=\s]+?)\s*-----END \1?PRIVATE KEY-----\s*"
)


@dataclass(frozen=True, kw_only=True, repr=False)
class ServiceAccountKey:
    """A service account's key: who it is (``client_email``, ``client_id``), which key
    (``private_key_id``), the key itself (``private_key``, PEM) and where it trades assertions
    for tokens (``token_uri``). ``source`` says where it was read from, for messages.
    ``repr`` never shows the private key."""

    client_email: str
    private_key_id: str
    private_key: str
    token_uri: str
    client_id: str | None = None
    project_id: str | None = None
    source: str = "the key JSON given"

    def __repr__(self) -> str:
        return (
            f"ServiceAccountKey(client_email={self.client_email!r}, "
            f"private_key_id={self.private_key_id!r}, token_uri={self.token_uri!r}, "
            f"source={self.source!r}, private_key=<hidden>)"
        )

    __str__ = __repr__

    def to_info(self) -> dict[str, str]:
        """The key file's fields (those gtoken uses), as Google writes them."""
        info = {
            "type": "service_account",
            "project_id": self.project_id,
            "private_key_id": self.private_key_id,
            "private_key": self.private_key,
            "client_email": self.client_email,
            "client_id": self.client_id,
            "token_uri": self.token_uri,
        }
        return {name: value for name, value in info.items() if value is not None}

    @classmethod
    def from_info(cls, info: Mapping[str, Any], *, source: str) -> ServiceAccountKey:
        """Read a key file's parsed content. Raises ConfigError naming ``source`` and the field
        for anything that is not a service-account key: a client_secret.json, an
        ``authorized_user`` file, another credentials type, a missing or malformed field."""
        _check_type(info, source)
        fields = _Fields(info, source)
        universe = fields.optional("universe_domain")
        if universe is not None and universe != _UNIVERSE:
            raise ConfigError(
                f"{source} is a key for the universe {universe[:60]!r}; gtoken works with "
                f"Google's public cloud ({_UNIVERSE}) only",
                hint="Use Google's client libraries with this key as it is.",
            )
        email = fields.text("client_email")
        if "@" not in email:
            raise fields.problem("client_email", f"{email[:100]!r}, which is not an email address")
        return cls(
            client_email=email,
            private_key_id=fields.text("private_key_id"),
            private_key=fields.private_key(),
            token_uri=fields.uri("token_uri"),
            client_id=fields.optional("client_id"),
            project_id=fields.optional("project_id"),
            source=source,
        )


def load_key(key: str | os.PathLike[str] | Mapping[str, Any]) -> ServiceAccountKey:
    """A service-account key from a key file's path or its parsed JSON (a mapping).

    Raises ConfigError naming the file and the field, and saying what to do, for a file that
    cannot be read, is not JSON, or is not a service-account key."""
    if isinstance(key, Mapping):
        return ServiceAccountKey.from_info(key, source="the key JSON given")
    if not isinstance(key, str | os.PathLike):
        raise TypeError(
            f"service_account is a key file's path or its parsed JSON, not {type(key).__name__}"
        )
    path = Path(key)
    source = str(path)
    return ServiceAccountKey.from_info(
        read_json_object(path, "a service-account key"), source=source
    )


def read_json_object(path: Path, what: str) -> dict[str, Any]:
    """The JSON object in the file ``path``; ConfigError (naming ``path`` and ``what`` it should
    be, never showing its content) when it cannot be read or is not one."""
    source = str(path)
    data = read_small(path, what=f"{what} file", hint=_DOWNLOAD)
    try:
        doc = json.loads(data)
    except json.JSONDecodeError as exc:
        # The position only: the text may hold a key.
        raise ConfigError(
            f"{source} is not JSON (line {exc.lineno}, column {exc.colno}), so not {what} file",
            hint=_DOWNLOAD,
        ) from None
    except ValueError:
        raise ConfigError(f"{source} is not JSON text, so not {what} file") from None
    except RecursionError:
        raise ConfigError(
            f"{source} is JSON nested too deeply to be {what} file", hint=_DOWNLOAD
        ) from None
    if not isinstance(doc, dict):
        raise ConfigError(f"{source} is JSON but not an object, so not {what} file")
    return doc


def _check_type(info: Mapping[str, Any], source: str) -> None:
    if "installed" in info or "web" in info:
        quoted = shlex.quote(source)
        raise ConfigError(
            f"{source} is an OAuth client (client_secret.json), not a service-account key",
            hint=f"Sign a person in with it instead (client_secrets={source!r}, or gtoken login "
            f"--client-secrets {quoted}); for a service account: {_DOWNLOAD}",
        )
    kind = info.get("type")
    if kind == "service_account":
        return
    if kind == "authorized_user":
        raise ConfigError(
            f"{source} is an authorized_user file (a person's saved grant, as gcloud writes for "
            "Application Default Credentials), not a service-account key",
            hint="Point GOOGLE_APPLICATION_CREDENTIALS at it and call gtoken.credentials() "
            "without service_account, or adopt it with gtoken import.",
        )
    if kind is None:
        raise ConfigError(
            f"{source} has no type field, so it is not a service-account key", hint=_DOWNLOAD
        )
    shown = repr(kind[:60]) if isinstance(kind, str) else f"a non-text {type(kind).__name__}"
    raise ConfigError(
        f"{source} holds credentials of type {shown}, not a service-account key",
        hint=_DOWNLOAD,
    )


@dataclass(frozen=True)
class _Fields:
    """The fields of one key, read with messages that name the source and the field."""

    info: Mapping[str, Any]
    source: str

    def problem(self, name: str, what: str) -> ConfigError:
        return ConfigError(f"{self.source} has {name} {what}", hint=_DOWNLOAD)

    def text(self, name: str) -> str:
        value = self.optional(name)
        if value is None:
            raise ConfigError(f"{self.source} lacks {name}", hint=_DOWNLOAD)
        return value

    def optional(self, name: str) -> str | None:
        value = self.info.get(name)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise self.problem(name, f"that is a {type(value).__name__}, not text")
        if value != value.strip() or any(c.isspace() for c in value):
            raise self.problem(name, "with spaces in it, which it never has")
        return value

    def uri(self, name: str) -> str:
        value = self.text(name)
        problem = url_problem(value)
        if problem is not None:
            raise self.problem(name, f"{value[:100]!r}, which {problem}")
        return value

    def private_key(self) -> str:
        value = self.info.get("private_key")
        if value is None or value == "":
            raise ConfigError(f"{self.source} lacks private_key", hint=_DOWNLOAD)
        if not isinstance(value, str):
            raise self.problem("private_key", f"that is a {type(value).__name__}, not text")
        match = _PEM.fullmatch(value.strip() + "\n")
        if match is None or not _is_base64(match.group(2)):
            # Never the value: it may be most of a key.
            raise self.problem(
                "private_key",
                "that is not a PEM private key ('-----BEGIN PRIVATE KEY-----' ...); the file "
                "may have been edited or truncated",
            )
        return value


def _is_base64(body: str) -> bool:
    try:
        return len(base64.b64decode("".join(body.split()), validate=True)) > 0
    except (binascii.Error, ValueError):
        return False
