"""What the vault holds for each of the application's users, as people see it and as stored."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Final, Literal

from gtoken.redact import fingerprint

__all__ = ["SECRET_FIELDS", "Connection", "Status", "StoredConnection"]

Status = Literal["active", "needs_consent", "revoked"]

#: Sealed columns of ``gtoken_vault_connections``, each bound to its row id and column name.
SECRET_FIELDS: Final = ("access_token", "refresh_token", "id_token")


def _moment(seconds: int | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


@dataclass(frozen=True, kw_only=True)
class Connection:
    """One user's Google consent, without secrets.

    ``scopes`` are what Google granted (possibly fewer than asked). ``status`` is ``active``,
    ``needs_consent`` (``status_reason`` says why) or ``revoked``. ``consent_url`` is set when
    :meth:`gtoken.Vault.complete` could not keep a lasting grant (Google sent no refresh token
    and none was stored): send the user there (it asks with ``prompt=consent``)."""

    user_id: str
    client_id: str
    email: str | None
    scopes: frozenset[str]
    status: Status
    status_reason: str | None = None
    expires_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    consent_url: str | None = None


@dataclass(frozen=True, kw_only=True, repr=False)
class StoredConnection:
    """A ``gtoken_vault_connections`` row, its secrets opened. ``repr`` shows fingerprints."""

    id: str
    client_id: str
    user_id: str
    email: str | None
    sub: str | None
    scopes: frozenset[str]
    status: Status
    status_reason: str | None
    expires_at: int | None
    refresh_token_expires_at: int | None
    refreshed_at: int | None
    refresh_serial: int
    created_at: int
    updated_at: int
    access_token: str | None
    refresh_token: str | None
    id_token: str | None

    def public(self, *, consent_url: str | None = None) -> Connection:
        return Connection(
            user_id=self.user_id,
            client_id=self.client_id,
            email=self.email,
            scopes=self.scopes,
            status=self.status,
            status_reason=self.status_reason,
            expires_at=_moment(self.expires_at),
            created_at=_moment(self.created_at),
            updated_at=_moment(self.updated_at),
            consent_url=consent_url,
        )

    def __repr__(self) -> str:
        parts = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in SECRET_FIELDS:
                parts.append(f"{f.name}={'None' if value is None else fingerprint(value)}")
            else:
                parts.append(f"{f.name}={value!r}")
        return f"StoredConnection({', '.join(parts)})"
