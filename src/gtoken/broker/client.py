"""``gtoken.broker.Client``: a Python service's way to the broker, as easy as a local account.

    broker = gtoken.broker.Client("https://tokens.internal.example.com", api_key)
    creds = broker.credentials("user-42", ["gmail.readonly"])    # google-auth Credentials
    build("gmail", "v1", credentials=creds)

The Credentials ask the broker for a fresh token whenever theirs is about to expire; the refresh
token stays in the broker. A 409 from the broker is :class:`gtoken.ConsentRequired` (``.url``:
the reconnect link), a 503 :class:`gtoken.TransientError`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

import httpx

from gtoken.errors import ConfigError, ConsentRequired, GTokenError, ProtocolError, TransientError
from gtoken.oauth import scopes as _scopes
from gtoken.oauth.token import Token

if TYPE_CHECKING:
    from gtoken.adapters.google_auth import Credentials

__all__ = ["Client"]

_LOOPBACK = ("127.0.0.1", "::1", "localhost")


class Client:
    """The broker at ``url``, called with ``api_key``. Safe to share between threads."""

    def __init__(
        self,
        url: str,
        api_key: str,
        *,
        client_id: str | None = None,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{url!r} is not the broker's http(s) URL")
        if parts.scheme != "https" and parts.hostname not in _LOOPBACK:
            raise ConfigError(
                f"the broker at {url} is reached over plain http; the API key would travel "
                "unencrypted",
                hint="Use the broker's https:// URL (plain http is for 127.0.0.1 only).",
            )
        self.url = url.rstrip("/")
        self.client_id = client_id
        self._http = httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {api_key}", "User-Agent": "gtoken-broker-client"},
            timeout=timeout,
            transport=transport,
        )

    def __repr__(self) -> str:
        return f"gtoken.broker.Client({self.url!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        try:
            reply = self._http.request(method, path, json=body)
        except httpx.HTTPError as exc:
            raise TransientError(
                f"the broker at {self.url} could not be reached ({type(exc).__name__})"
            ) from None
        if reply.status_code < 300:
            return reply.json() if reply.content else None
        try:
            problem = reply.json()
        except ValueError:
            problem = {}
        detail = str(problem.get("detail") or reply.reason_phrase)
        if reply.status_code == 409:
            raise ConsentRequired(
                f"user {path.split('/')[3]!r}" if path.count("/") >= 3 else "the user",
                str(problem.get("cause") or detail),
                likely_causes=problem.get("likely_causes") or (),
                url=problem.get("reconnect_url"),
                hint="Send the user to the reconnect URL.",
            )
        if reply.status_code in (502, 503, 504):
            raise TransientError(f"the broker answered {reply.status_code}: {detail}")
        if reply.status_code in (401, 403):
            raise ConfigError(
                f"the broker refused the API key ({reply.status_code}): {detail}",
                hint="Check the key, and its permissions (gtoken serve keys list).",
            )
        if reply.status_code == 404:
            raise LookupError(detail)
        raise GTokenError(f"the broker answered {reply.status_code}: {detail}")

    def _body(self, **values: Any) -> dict[str, Any]:
        if self.client_id is not None:
            values["client_id"] = self.client_id
        return {k: v for k, v in values.items() if v is not None}

    def token(
        self, user_id: str, scopes: Iterable[str] | None = None, *, min_ttl: float = 60
    ) -> Token:
        """A fresh access token for ``user_id`` (valid ``min_ttl`` more seconds)."""
        wanted = None if scopes is None else sorted(_scopes.canonical(scopes))
        data = self._call(
            "POST",
            f"/v1/connections/{quote(user_id, safe='')}/token",
            self._body(scopes=wanted, min_ttl=min_ttl),
        )
        try:
            expires = data["expires_at"]
            return Token(
                access_token=data["access_token"],
                expires_at=None if expires is None else datetime.fromisoformat(expires),
                scopes=frozenset(data["scopes"]),
            )
        except (KeyError, TypeError, ValueError):
            raise ProtocolError("the broker's token answer is not what gtoken expects") from None

    def credentials(self, user_id: str, scopes: Iterable[str] | None = None) -> Credentials:
        """google-auth Credentials for ``user_id`` that ask the broker for fresh tokens.
        Checks now that the user granted ``scopes`` (ConsentRequired otherwise)."""
        from gtoken.adapters.google_auth import Credentials

        wanted = frozenset() if scopes is None else _scopes.canonical(scopes)
        source = _BrokerSource(self, user_id, wanted, self.token(user_id, wanted or None))
        return Credentials(source, scopes=wanted)

    def connect_link(
        self, user_id: str, scopes: Iterable[str], return_url: str | None = None
    ) -> str:
        """A connect link to send the user to."""
        data = self._call(
            "POST",
            "/v1/connect-links",
            self._body(
                user_id=user_id, scopes=sorted(_scopes.canonical(scopes)), return_url=return_url
            ),
        )
        return str(data["url"])


class _BrokerSource:
    """The token source of Credentials from :meth:`Client.credentials`."""

    quota_project_id: str | None = None

    def __init__(
        self, client: Client, user_id: str, scopes: frozenset[str], first: Token | None
    ) -> None:
        self._client = client
        self.account = user_id
        self._scopes = scopes
        self._first = first

    @property
    def source(self) -> str:
        return f"gtoken broker {self._client.url} (user {self.account!r})"

    def fresh(self, *, min_ttl: float, rejected: str | None = None) -> Token:
        first, self._first = self._first, None
        if first is not None and first.access_token != rejected:
            return first
        return self._client.token(self.account, self._scopes or None, min_ttl=min_ttl)
