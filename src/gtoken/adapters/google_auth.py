"""gtoken's tokens as google-auth ``Credentials``, which Google's client libraries take as they are.

``googleapiclient.discovery.build``, ``google.auth.transport.requests.AuthorizedSession``, gspread
and the Cloud client libraries call :meth:`Credentials.refresh` when the token is about to expire
(or, for ``AuthorizedSession``, after a 401). Here that goes through gtoken: a stored account's
refresh, or a :class:`TokenSource` (a service account, an Application Default Credentials file),
exactly once however many threads and processes ask, stored encrypted, problems explained.
Everything else (``valid``, ``before_request``, ``apply``) is google-auth's own, so a request
costs what it costs with google-auth's ``Credentials``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol, cast

from google.auth import _helpers
from google.auth import credentials as ga_credentials

from gtoken.redact import fingerprint

if TYPE_CHECKING:
    from gtoken.accounts import Accounts
    from gtoken.oauth.token import Token

__all__ = ["AccountSource", "Credentials", "TokenSource"]

# Hand google-auth tokens it will consider valid for a while: its own threshold plus a margin.
_MIN_TTL = _helpers.REFRESH_THRESHOLD.total_seconds() + 60


class TokenSource(Protocol):
    """Where a :class:`Credentials` gets its tokens from."""

    @property
    def account(self) -> str:
        """Who the tokens act for (an email), for people."""
        ...

    @property
    def source(self) -> str:
        """Where the credentials come from, for people (a file, the gtoken store)."""
        ...

    @property
    def quota_project_id(self) -> str | None:
        """The project billed for API calls, when the credentials name one."""
        ...

    def fresh(self, *, min_ttl: float, rejected: str | None = None) -> Token:
        """A token valid ``min_ttl`` more seconds, other than ``rejected`` (one an API refused)."""
        ...


class AccountSource:
    """A stored account's tokens, refreshed through ``accounts.refresher``."""

    quota_project_id: str | None = None

    def __init__(self, accounts: Accounts, account_id: str, *, email: str | None = None) -> None:
        self._accounts = accounts
        self.account_id = account_id
        self.account = email or ""

    @property
    def source(self) -> str:
        who = self.account or self.account_id
        return f"gtoken store {self._accounts.store.path} (account {who})"

    def fresh(self, *, min_ttl: float, rejected: str | None = None) -> Token:
        record = self._accounts.refresher.fresh(self.account_id, min_ttl=min_ttl, rejected=rejected)
        self.account = record.email or ""
        return self._accounts.refresher.token(record)


class Credentials(ga_credentials.Credentials):
    """Tokens from gtoken, as google-auth Credentials. Made by :func:`gtoken.credentials`.

    ``source`` says where they come from (the gtoken store, a service-account key, an ADC file);
    ``account`` whom they act for."""

    def __init__(
        self,
        source: TokenSource | Accounts,
        account_id: str | None = None,
        *,
        scopes: Iterable[str] = (),
        email: str | None = None,
    ) -> None:
        """Credentials refreshed from ``source``; ``Credentials(accounts, account_id)`` are
        the stored account ``account_id``'s."""
        super().__init__()  # type: ignore[no-untyped-call]
        if account_id is not None:
            source = AccountSource(cast("Accounts", source), account_id, email=email)
        self._source = cast("TokenSource", source)
        self._requested = frozenset(scopes)
        self._granted: frozenset[str] = frozenset()
        self._quota_project_id = self._source.quota_project_id
        self.account = self._source.account
        # The token this object last put on a request, per thread: a 401 is about that token,
        # not about whatever the object holds when the 401 arrives (another thread may have
        # refreshed meanwhile).
        self._sent = threading.local()

    @property
    def source(self) -> str:
        """Where the tokens come from, in words (a file's path, the gtoken store)."""
        return self._source.source

    def apply(self, headers: Any, token: str | None = None) -> None:
        super().apply(headers, token=token)  # type: ignore[no-untyped-call]
        self._sent.token = token or self.token

    def refresh(self, request: Any) -> None:
        """Fetch a fresh token through gtoken (``request``, google-auth's transport, is unused:
        gtoken sends its own requests).

        ``refresh`` is also how ``AuthorizedSession`` and ``googleapiclient`` react to a 401, so
        the token this thread last sent counts as rejected (or, if it sent none, the token held
        now): only that one. When other threads share this object, a late 401 for a token already
        replaced finds the new one instead of throwing it away."""
        rejected = getattr(self._sent, "token", None) or self.token
        token = self._source.fresh(min_ttl=_MIN_TTL, rejected=rejected)
        assert token.expires_at is not None
        self.token = token.access_token
        # google-auth compares expiries as naive UTC.
        self.expiry = token.expires_at.replace(tzinfo=None)
        self._granted = token.scopes
        self.account = self._source.account

    @property
    def requires_scopes(self) -> bool:
        return False

    @property
    def scopes(self) -> frozenset[str]:
        """The scopes asked for when these credentials were made."""
        return self._requested

    @property
    def granted_scopes(self) -> frozenset[str]:
        """The scopes Google granted (known after the first refresh)."""
        return self._granted

    def has_scopes(self, scopes: Iterable[str]) -> bool:
        return set(scopes) <= (self._granted or self._requested)

    def __repr__(self) -> str:
        shown = fingerprint(self.token) if self.token else None
        who = self.account or getattr(self._source, "account_id", "")
        return f"gtoken.Credentials(account={who!r}, source={self.source!r}, token={shown})"
