"""A vault connection as the token source of google-auth ``Credentials``."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gtoken.oauth.token import Token
    from gtoken.vault.vault import Vault

__all__ = ["VaultSource"]


class VaultSource:
    """The tokens of one user's connection, refreshed through the vault."""

    quota_project_id: str | None = None

    def __init__(self, vault: Vault, user_id: str, client_id: str, first: Token | None = None):
        self._vault = vault
        self.user_id = user_id
        self.client_id = client_id
        self._first = first
        self.account = user_id

    @property
    def source(self) -> str:
        return f"gtoken vault {self._vault.database} (user {self.user_id!r})"

    def fresh(self, *, min_ttl: float, rejected: str | None = None) -> Token:
        first, self._first = self._first, None
        if first is not None and first.access_token != rejected and first.expires_at is not None:
            # Handed out by Vault.credentials a moment ago: spares a second read.
            import time

            if first.expires_at.timestamp() - time.time() > min_ttl:
                return first
        return self._vault.token(
            self.user_id, min_ttl=min_ttl, client=self.client_id, rejected=rejected
        )
