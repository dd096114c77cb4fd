"""Telling token files apart and reading their fields.

Each format is mapped onto the field names of google-auth's ``token.json`` (``token``,
``refresh_token``, ``client_id``, ``client_secret``, ``token_uri``, ``expiry``, ``scopes``,
``account``, ``quota_project_id``, ``universe_domain``) and read by one set of checks; messages
name each field as the file spells it. No message shows a token or secret, only its field.
"""

from __future__ import annotations

import codecs
import json
import os
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from gtoken.errors import ConfigError
from gtoken.files.imported import Format, Imported
from gtoken.files.pickles import credentials_state
from gtoken.files.reading import read_small
from gtoken.oauth import scopes as _scopes
from gtoken.oauth.clients import ClientSecrets
from gtoken.oauth.endpoints import TOKEN_URI, url_problem

__all__ = ["read_token_file"]

_UNIVERSE: Final = "googleapis.com"
_READS: Final = (
    "gtoken import reads a quickstart token.json or token.pickle, or an authorized_user file "
    "(such as gcloud's application_default_credentials.json)."
)
_LOGIN: Final = "Sign in with gtoken login --client-secrets client_secret.json instead."
_OTHER_TYPES: Final = (
    "Google's client libraries read it as it is: point GOOGLE_APPLICATION_CREDENTIALS at it. "
    + _READS
)

#: The fields of google-auth's token.json, as read here.
_FIELDS: Final = (
    "token",
    "refresh_token",
    "client_id",
    "client_secret",
    "token_uri",
    "expiry",
    "scopes",
    "account",
    "quota_project_id",
    "universe_domain",
)

# How oauth2client (the quickstarts before 2019) and a pickled google-auth Credentials spell the
# fields of token.json.
_OAUTH2CLIENT: Final = {"token": "access_token", "expiry": "token_expiry"}
_PICKLED: Final = {
    name: f"_{name}"
    for name in (
        "refresh_token",
        "client_id",
        "client_secret",
        "token_uri",
        "scopes",
        "account",
        "quota_project_id",
        "universe_domain",
    )
}


def read_token_file(path: str | os.PathLike[str]) -> Imported:
    """Read a saved user grant: a quickstart ``token.json`` or ``token.pickle``, an
    ``authorized_user`` file, or an oauth2client ``token.json``.

    A pickle is read without importing or running anything it names. Raises ConfigError naming
    the file and the field for anything else: a client_secret.json or service-account key given
    by mistake (saying what to do with it), malformed content, a missing refresh token."""
    path = Path(path)
    source = str(path)
    data = _read(path, source)
    if data[:1] == b"\x80" or data[:1] in (b"(", b"c"):  # pickle protocol 2+, or 0 and 1
        state = credentials_state(data, source=source)
        return _from_pickle_state(state, source)
    return _from_json(data, source)


def _read(path: Path, source: str) -> bytes:
    data = read_small(path, what="a token file", hint=_READS)
    data = data.removeprefix(codecs.BOM_UTF8).lstrip()
    if not data:
        raise ConfigError(f"{source} is empty", hint=_READS)
    return data


def _from_json(data: bytes, source: str) -> Imported:
    try:
        doc = json.loads(data)
    except json.JSONDecodeError as exc:
        # The position only: the text may hold a secret.
        raise ConfigError(
            f"{source} is neither JSON (line {exc.lineno}, column {exc.colno}) nor a pickle",
            hint=_READS,
        ) from None
    except ValueError:
        raise ConfigError(f"{source} is neither JSON text nor a pickle", hint=_READS) from None
    except RecursionError:
        raise ConfigError(
            f"{source} is JSON nested too deeply to be a token", hint=_READS
        ) from None
    if not isinstance(doc, dict):
        raise ConfigError(f"{source} is JSON but not an object", hint=_READS)
    return _from_document(doc, source)


def _from_document(doc: Mapping[str, object], source: str) -> Imported:
    if "installed" in doc or "web" in doc:
        raise ConfigError(
            f"{source} is an OAuth client (client_secret.json), not a saved token",
            hint=f"Sign in with it: gtoken login --client-secrets {shlex.quote(source)}",
        )
    kind = doc.get("type")
    if kind == "service_account":
        raise ConfigError(
            f"{source} is a service-account key, not a person's saved token",
            hint="A service account signs its own tokens and needs no import: point "
            "GOOGLE_APPLICATION_CREDENTIALS at the key for Google's client libraries. " + _READS,
        )
    if kind == "authorized_user":
        return _grant(doc, source, "authorized_user")
    if kind is not None:
        shown = repr(kind[:60]) if isinstance(kind, str) else f"a non-text {type(kind).__name__}"
        raise ConfigError(
            f"{source} is a credentials file of type {shown}, which gtoken does not import",
            hint=_OTHER_TYPES,
        )
    module = doc.get("_module")
    if isinstance(module, str) and module.startswith("oauth2client"):
        fields = {name: doc.get(_OAUTH2CLIENT.get(name, name)) for name in _FIELDS}
        return _grant(fields, source, "oauth2client", _OAUTH2CLIENT)
    if any(name in doc for name in ("refresh_token", "token", "client_id")):
        return _grant(doc, source, "token.json")
    raise ConfigError(f"{source} is JSON, but not a token file gtoken knows", hint=_READS)


def _from_pickle_state(state: Mapping[str, object], source: str) -> Imported:
    names = dict(_PICKLED)
    if state.get("_granted_scopes"):  # what Google granted, when google-auth recorded it
        names["scopes"] = "_granted_scopes"
    fields = {name: state.get(names.get(name, name)) for name in _FIELDS}
    return _grant(fields, source, "token.pickle", names)


@dataclass(frozen=True)
class _Reader:
    """The fields of one file, read with messages that name the file and the field."""

    doc: Mapping[str, object]
    source: str
    names: Mapping[str, str] = field(default_factory=dict)

    def name(self, key: str) -> str:
        return self.names.get(key, key)

    def problem(self, key: str, what: str, hint: str = _READS) -> ConfigError:
        return ConfigError(f"{self.source} has {self.name(key)} {what}", hint=hint)

    def text(self, key: str) -> str | None:
        """A text field; None when absent, null or empty. The value is never shown."""
        value = self.doc.get(key)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise self.problem(key, f"that is a {type(value).__name__}, not text")
        if value != value.strip() or any(c.isspace() for c in value):
            raise self.problem(key, "with spaces in it, which it never has")
        return value

    def required(self, key: str, hint: str) -> str:
        value = self.text(key)
        if value is None:
            raise ConfigError(f"{self.source} lacks {self.name(key)}", hint=hint)
        return value

    def uri(self, key: str) -> str | None:
        value = self.text(key)
        if value is not None:
            problem = url_problem(value)
            if problem is not None:
                raise self.problem(key, f"{value[:100]!r}, which {problem}")
        return value

    def time(self, key: str) -> datetime | None:
        value = self.doc.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, str):
            text = value
            try:
                value = datetime.fromisoformat(text.strip().removesuffix("Z"))
            except ValueError:
                raise self.problem(key, f"{text[:40]!r}, which is not an ISO time") from None
        if not isinstance(value, datetime):
            raise self.problem(key, f"that is a {type(value).__name__}, not a time")
        # google-auth writes naive UTC.
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def scopes(self, key: str) -> frozenset[str] | None:
        value = self.doc.get(key)
        if value is None:
            return None
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list | tuple | set | frozenset) or not all(
            isinstance(item, str) for item in value
        ):
            raise self.problem(key, "that is not a list of scopes")
        return _scopes.normalize(word for item in value for word in item.split()) or None


def _grant(
    doc: Mapping[str, object], source: str, fmt: Format, names: Mapping[str, str] | None = None
) -> Imported:
    fields = _Reader(doc, source, names or {})
    refresh_token = fields.text("refresh_token")
    if refresh_token is None:
        raise ConfigError(
            f"{source} holds no refresh token ({fields.name('refresh_token')}), so it cannot be "
            "kept working: the program that saved it got none (Google gives one only for "
            "offline access)",
            hint=_LOGIN,
        )
    needs_client = (
        "It is needed to refresh the token. " + _LOGIN + " (client_secret.json is the OAuth "
        "client's file from Google Cloud console.)"
    )
    client_id = fields.required("client_id", needs_client)
    client_secret = fields.required("client_secret", needs_client)
    universe = fields.text("universe_domain")
    if universe is not None and universe != _UNIVERSE:
        raise fields.problem(
            "universe_domain",
            f"{universe[:60]!r}: gtoken works with Google's public cloud ({_UNIVERSE}) only",
            hint="Use Google's client libraries with this file as it is.",
        )
    return Imported(
        source=source,
        format=fmt,
        client=ClientSecrets(
            kind="installed",
            client_id=client_id,
            client_secret=client_secret,
            token_uri=fields.uri("token_uri") or TOKEN_URI,
        ),
        refresh_token=refresh_token,
        access_token=fields.text("token"),
        expiry=fields.time("expiry"),
        scopes=fields.scopes("scopes"),
        email=fields.text("account"),
        quota_project_id=fields.text("quota_project_id"),
    )
