"""OAuth clients, read from Google's ``client_secret.json`` exactly as Google Cloud console
downloads it: one top-level ``installed`` (Desktop app) or ``web`` section."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from gtoken.errors import ConfigError
from gtoken.oauth.endpoints import AUTH_URI, TOKEN_URI, url_problem
from gtoken.redact import fingerprint

__all__ = ["ClientSecrets"]

_DOWNLOAD = (
    "Download the OAuth client's JSON from Google Cloud console: APIs & Services > Credentials > "
    "OAuth 2.0 Client IDs > Download JSON (a Desktop app client for scripts)."
)


@dataclass(frozen=True, kw_only=True)
class ClientSecrets:
    """An OAuth client: its id and secret and the endpoints it uses. Never shows the secret."""

    kind: Literal["installed", "web"]
    client_id: str
    client_secret: str
    auth_uri: str = AUTH_URI
    token_uri: str = TOKEN_URI
    redirect_uris: tuple[str, ...] = ()
    project_id: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("installed", "web"):
            raise ValueError(f"kind is 'installed' or 'web', not {self.kind!r}")
        if not self.client_id or not self.client_secret:
            raise ValueError("client_id and client_secret must not be empty")
        object.__setattr__(self, "redirect_uris", tuple(self.redirect_uris))

    @classmethod
    def from_json(
        cls,
        text_or_mapping: str | bytes | Mapping[str, object],
        *,
        source: str = "client_secret.json",
    ) -> ClientSecrets:
        """Read Google's ``client_secret.json`` (its text or its parsed mapping).

        ``auth_uri`` and ``token_uri`` are used as given, Google's when absent. Raises ConfigError
        naming ``source``, the field and the fix for every malformed case.
        """
        data = _load(text_or_mapping, source)
        kind, section = _section(data, source)
        return cls(
            kind=kind,
            client_id=_required(section, kind, "client_id", source),
            client_secret=_required(section, kind, "client_secret", source),
            auth_uri=_uri(section, kind, "auth_uri", AUTH_URI, source),
            token_uri=_uri(section, kind, "token_uri", TOKEN_URI, source),
            redirect_uris=_redirect_uris(section, kind, source),
            project_id=_optional(section, kind, "project_id", source),
        )

    def __repr__(self) -> str:
        return (
            f"ClientSecrets(kind={self.kind!r}, client_id={self.client_id!r}, "
            f"client_secret={fingerprint(self.client_secret)}, project_id={self.project_id!r})"
        )

    __str__ = __repr__


def _problem(source: str, what: str, fix: str = _DOWNLOAD) -> ConfigError:
    return ConfigError(f"{source} {what}.", hint=fix)


def _load(text_or_mapping: str | bytes | Mapping[str, object], source: str) -> Mapping[str, object]:
    if isinstance(text_or_mapping, Mapping):
        return text_or_mapping
    if not isinstance(text_or_mapping, str | bytes):
        raise TypeError(f"client secrets are JSON text or a mapping, not {type(text_or_mapping)}")
    try:
        data = json.loads(text_or_mapping)
    except json.JSONDecodeError as exc:
        # The position only: the text itself may hold the secret.
        raise _problem(source, f"is not JSON (line {exc.lineno}, column {exc.colno})") from None
    except ValueError:
        raise _problem(source, "is not JSON (not even UTF-8 text)") from None
    except RecursionError:
        raise _problem(source, "is JSON nested too deeply to be a client_secret.json") from None
    if not isinstance(data, dict):
        raise _problem(source, "is JSON but not an object with an 'installed' or 'web' section")
    return data


def _section(
    data: Mapping[str, object], source: str
) -> tuple[Literal["installed", "web"], Mapping[str, object]]:
    kinds = [kind for kind in ("installed", "web") if kind in data]
    if not kinds:
        raise _wrong_file(data, source)
    if len(kinds) == 2:
        raise _problem(
            source, "has both an 'installed' and a 'web' section; a client is one or the other"
        )
    kind: Literal["installed", "web"] = "installed" if kinds == ["installed"] else "web"
    section = data[kind]
    if not isinstance(section, Mapping):
        raise _problem(source, f"has an '{kind}' that is not an object")
    return kind, section


def _wrong_file(data: Mapping[str, object], source: str) -> ConfigError:
    """The error for a JSON object without a client section: say what the file is instead."""
    kind = data.get("type")
    if kind == "service_account":
        return _problem(
            source,
            "is a service-account key, not an OAuth client",
            "Use it as a service account (gtoken's service-account support), or give the OAuth "
            "client's client_secret.json. " + _DOWNLOAD,
        )
    if kind == "authorized_user":
        return _problem(
            source,
            "is an authorized_user credentials file (Application Default Credentials), not an "
            "OAuth client",
            "Adopt it with 'gtoken import', or give the OAuth client's client_secret.json.",
        )
    if "refresh_token" in data or "token" in data:
        return _problem(
            source,
            "is a saved token (a quickstart token.json), not an OAuth client",
            "Adopt it with 'gtoken import', or give the OAuth client's client_secret.json.",
        )
    return _problem(source, "has no 'installed' or 'web' section: it is not an OAuth client file")


def _required(section: Mapping[str, object], kind: str, name: str, source: str) -> str:
    value = section.get(name)
    if value is None:
        raise _problem(source, f"lacks {kind}.{name}")
    if not isinstance(value, str) or not value.strip():
        raise _problem(source, f"has an empty or non-text {kind}.{name}")
    if value != value.strip():
        raise _problem(source, f"has spaces around {kind}.{name}", f"Remove them. {_DOWNLOAD}")
    return value


def _optional(section: Mapping[str, object], kind: str, name: str, source: str) -> str | None:
    value = section.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _problem(source, f"has a non-text {kind}.{name}")
    return value


def _uri(section: Mapping[str, object], kind: str, name: str, default: str, source: str) -> str:
    value = _optional(section, kind, name, source)
    if value is None:
        return default
    problem = url_problem(value)
    if problem is not None:
        raise _problem(
            source,
            f"has {kind}.{name} {value[:200]!r}, which {problem}",
            "Use the https address the OAuth server documents. " + _DOWNLOAD,
        )
    return value


def _redirect_uris(section: Mapping[str, object], kind: str, source: str) -> tuple[str, ...]:
    value = section.get("redirect_uris", [])
    if not isinstance(value, list) or not all(isinstance(uri, str) for uri in value):
        raise _problem(source, f"has {kind}.redirect_uris that is not a list of URLs")
    return tuple(value)
