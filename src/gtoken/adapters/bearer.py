"""One account's access token as the plain-HTTP auths send it: kept in memory while it has more
than ``min_ttl`` seconds to live, then taken from the store (which refreshes it, once, when it is
expiring there too); after a 401, renewed with the refused token marked as rejected."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gtoken.accounts import label
from gtoken.refresh import DEFAULT_MIN_TTL

if TYPE_CHECKING:
    from gtoken.accounts import Accounts
    from gtoken.async_accounts import AsyncAccounts
    from gtoken.store import AccountRecord


class Bearer:
    """The token source of :class:`~gtoken.adapters.httpx_auth.HttpxAuth` and
    :class:`~gtoken.adapters.requests_auth.RequestsAuth`. Safe to share between threads and
    event loops: the worst a race costs is one more store read."""

    def __init__(
        self, accounts: Accounts, account_id: str, *, min_ttl: float = DEFAULT_MIN_TTL
    ) -> None:
        if min_ttl < 0:
            raise ValueError("min_ttl is a number of seconds, at least 0")
        self.accounts = accounts
        self.account_id = account_id
        self.min_ttl = min_ttl
        self.label = account_id
        # (access token, expiry in unix seconds), replaced whole so that readers see one pair.
        self._held: tuple[str, float] | None = None

    def _valid(self) -> str | None:
        held = self._held
        if held is None or held[1] - self.accounts.clock() <= self.min_ttl:
            return None
        return held[0]

    def _keep(self, record: AccountRecord) -> str:
        assert record.access_token  # Refresher.fresh hands out usable records only
        self.label = label(record)
        if record.expires_at is not None:
            self._held = (record.access_token, float(record.expires_at))
        return record.access_token

    def current(self) -> str:
        """An access token with more than ``min_ttl`` seconds to live."""
        held = self._valid()
        if held is not None:
            return held
        refresher = self.accounts.refresher
        return self._keep(refresher.fresh(self.account_id, min_ttl=self.min_ttl))

    def renewed(self, rejected: str) -> str:
        """Another access token than ``rejected``, which an API refused."""
        refresher = self.accounts.refresher
        return self._keep(refresher.fresh(self.account_id, min_ttl=self.min_ttl, rejected=rejected))

    async def acurrent(self) -> str:
        """:meth:`current` for asyncio: refreshes in a worker thread, see :mod:`gtoken.aio`."""
        held = self._valid()
        if held is not None:
            return held
        return self._keep(await self._async().fresh(self.account_id, min_ttl=self.min_ttl))

    async def arenewed(self, rejected: str) -> str:
        """:meth:`renewed` for asyncio."""
        fresh = self._async().fresh(self.account_id, min_ttl=self.min_ttl, rejected=rejected)
        return self._keep(await fresh)

    def _async(self) -> AsyncAccounts:
        # Only here: the synchronous auths (requests) never load asyncio.
        from gtoken.async_accounts import AsyncAccounts

        return AsyncAccounts(self.accounts)
