"""The HTTP API's bodies, typed: FastAPI checks requests against them and writes the OpenAPI
document from them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from gtoken.vault.records import Connection

__all__ = [
    "AuditEntryOut",
    "AuditPage",
    "ClientIn",
    "ClientOut",
    "ConnectLinkIn",
    "ConnectLinkOut",
    "ConnectionOut",
    "ConnectionPage",
    "TokenIn",
    "TokenOut",
    "WebhookIn",
    "WebhookOut",
]

# Ids and scopes are text without control characters (nor NUL, which PostgreSQL refuses).
Text = Annotated[str, Field(min_length=1, max_length=512, pattern=r"^[^\x00-\x1f\x7f]+$")]
#: A short name (gmail.readonly, mail, openid) or a scope URL, as gtoken.oauth.scopes reads them.
Scope = Annotated[
    str,
    Field(
        min_length=1,
        max_length=300,
        pattern=r"^(?:[A-Za-z][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*"
        r"|https://[A-Za-z0-9.-]+\.[A-Za-z]{2,}(?::[0-9]+)?/[^\s\"'<>,;{}|\\^`]*)$",
    ),
]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ConnectLinkIn(_In):
    user_id: Text = Field(description="your application's id for the end user")
    scopes: list[Scope] = Field(min_length=1, max_length=50, examples=[["gmail.readonly"]])
    return_url: Annotated[str, Field(max_length=2000)] | None = Field(
        default=None,
        description="where the user lands afterwards (its origin must be one of the client's "
        "return origins), with status=connected or status=error&error=... added",
    )
    client_id: Text | None = Field(default=None, description="needed when several are kept")


class ConnectLinkOut(BaseModel):
    url: str
    expires_at: datetime


class TokenIn(_In):
    scopes: list[Scope] | None = Field(
        default=None,
        max_length=50,
        description="scopes the token must carry (409 when the user has not granted them)",
    )
    min_ttl: float = Field(default=60, ge=0, le=3000, description="seconds it must stay valid")
    client_id: Text | None = None
    return_url: Annotated[str, Field(max_length=2000)] | None = Field(
        default=None, description="where the reconnect link of a 409 returns the user to"
    )


class TokenOut(BaseModel):
    access_token: str
    expires_at: datetime | None
    scopes: list[str]


class ConnectionOut(BaseModel):
    user_id: str
    client_id: str
    email: str | None
    scopes: list[str]
    status: Literal["active", "needs_consent", "revoked"]
    status_reason: str | None
    expires_at: datetime | None
    created_at: datetime | None
    updated_at: datetime | None

    @classmethod
    def of(cls, conn: Connection) -> ConnectionOut:
        return cls(
            user_id=conn.user_id,
            client_id=conn.client_id,
            email=conn.email,
            scopes=sorted(conn.scopes),
            status=conn.status,
            status_reason=conn.status_reason,
            expires_at=conn.expires_at,
            created_at=conn.created_at,
            updated_at=conn.updated_at,
        )


class ConnectionPage(BaseModel):
    connections: list[ConnectionOut]
    next: str | None = Field(description="pass as after= for the next page; null at the end")


class ClientIn(_In):
    client_secrets: dict[str, Any] = Field(description="a Web application client_secret.json")
    return_origins: list[Annotated[str, Field(max_length=300)]] = Field(
        default_factory=list, max_length=100
    )


class ClientOut(BaseModel):
    client_id: str
    return_origins: list[str]


class AuditEntryOut(BaseModel):
    id: int
    at: datetime
    key_id: str
    user_id: str
    client_id: str
    scopes: list[str]
    caller: str | None


class AuditPage(BaseModel):
    entries: list[AuditEntryOut]
    next: int | None = Field(description="pass as before= for the next (older) page")


class WebhookIn(_In):
    url: Annotated[str, Field(min_length=8, max_length=2000, pattern=r"^https?://[^\s]+$")]
    events: list[
        Literal[
            "connection.created",
            "connection.needs_consent",
            "connection.revoked",
            "connection.refresh_failed",
            "connection.recovered",
        ]
    ] = Field(default_factory=list, description="empty: every event")


class WebhookOut(BaseModel):
    id: str
    url: str
    events: list[str]
    created_at: datetime
    secret: str | None = Field(
        default=None, description="the signing secret (whsec_...), shown once at creation"
    )
