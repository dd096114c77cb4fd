"""What a token file holds, once read: a user's grant to one OAuth client."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from gtoken.oauth.clients import ClientSecrets
from gtoken.redact import fingerprint

__all__ = ["Format", "Imported"]

#: The kinds of file :func:`~gtoken.files.read_token_file` reads.
Format = Literal["token.json", "authorized_user", "oauth2client", "token.pickle"]


@dataclass(frozen=True, kw_only=True, repr=False)
class Imported:
    """A grant read from a token file, not yet checked with Google.

    ``client`` is built from the file's ``client_id``, ``client_secret`` and ``token_uri``
    (Google's when the file names none). ``scopes`` are canonical, as the file states them
    (``None`` when it states none); Google's word on them comes with :func:`adopt_imported`.
    ``email`` is the file's ``account``, if any. ``expiry`` is aware, in UTC. ``repr`` shows
    fingerprints of the secrets only.
    """

    source: str
    format: Format
    client: ClientSecrets
    refresh_token: str
    access_token: str | None = None
    expiry: datetime | None = None
    scopes: frozenset[str] | None = None
    email: str | None = None
    quota_project_id: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.refresh_token, str) or not self.refresh_token:
            raise ValueError("refresh_token must be a non-empty str")
        if self.expiry is not None:
            if self.expiry.tzinfo is None:
                raise ValueError("expiry must be timezone-aware")
            object.__setattr__(self, "expiry", self.expiry.astimezone(UTC))

    def __repr__(self) -> str:
        access = None if self.access_token is None else fingerprint(self.access_token)
        expiry = None if self.expiry is None else self.expiry.isoformat()
        scopes = None if self.scopes is None else sorted(self.scopes)
        return (
            f"Imported(source={self.source!r}, format={self.format!r}, client={self.client!r}, "
            f"refresh_token={fingerprint(self.refresh_token)}, access_token={access}, "
            f"expiry={expiry}, scopes={scopes}, email={self.email!r}, "
            f"quota_project_id={self.quota_project_id!r})"
        )

    __str__ = __repr__
