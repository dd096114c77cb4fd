"""gtoken's tokens as google-auth ``Credentials``, which Google's client libraries take as they are.

``googleapiclient.discovery.build``, ``google.auth.transport.requests.AuthorizedSession``, gspread
and the Cloud client libraries call :meth:`Credentials.refresh` when the token is about to expire
(or, for ``AuthorizedSession``, after a 401). Here that goes through gtoken's refresh: exactly once
however many threads and processes ask, stored encrypted, consent problems explained. Everything
else (``valid``, ``before_request``, ``apply``) is google-auth's own, so a request costs what it
costs with google-auth's ``Credentials``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from google.auth import _helpers
from google.auth import credentials as ga_credentials

from gtoken.oauth.redact import fingerprint
from gtoken.refresh import token_of

if TYPE_CHECKING:
    from gtoken.accounts import Accounts

# Hand google-auth tokens it will consider valid for a while: its own threshold plus a margin.
_MIN_TTL = _helpers.REFRESH_THRESHOLD.total_seconds() + 60


class Credentials(ga_credentials.Credentials):
    """A stored account's token, refreshed through gtoken. Made by :func:`gtoken.credentials`."""

    def __init__(
        self,
        accounts: Accounts,
        account_id: str,
        *,
        scopes: Iterable[str] = (),
        email: str | None = None,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._accounts = accounts
        self._account_id = account_id
        self._requested = frozenset(scopes)
        self._granted: frozenset[str] = frozenset()
        self.account = email or ""

    def refresh(self, request: Any) -> None:
        """Fetch a fresh token through gtoken (``request``, google-auth's transport, is unused:
        gtoken sends its own requests). The token held now counts as rejected: ``refresh`` is
        also how ``AuthorizedSession`` reacts to a 401."""
        record = self._accounts.refresher.fresh(
            self._account_id, min_ttl=_MIN_TTL, rejected=self.token
        )
        token = token_of(record)
        assert token is not None
        assert token.expires_at is not None
        self.token = token.access_token
        # google-auth compares expiries as naive UTC.
        self.expiry = token.expires_at.replace(tzinfo=None)
        self._granted = token.scopes
        self.account = record.email or ""

    @property
    def requires_scopes(self) -> bool:
        return False

    @property
    def scopes(self) -> frozenset[str]:
        """The scopes asked for when these credentials were made."""
        return self._requested

    @property
    def granted_scopes(self) -> frozenset[str]:
        """The scopes Google granted the account (known after the first refresh)."""
        return self._granted

    def has_scopes(self, scopes: Iterable[str]) -> bool:
        return set(scopes) <= (self._granted or self._requested)

    def __repr__(self) -> str:
        shown = fingerprint(self.token) if self.token else None
        return f"gtoken.Credentials(account={self.account or self._account_id!r}, token={shown})"
