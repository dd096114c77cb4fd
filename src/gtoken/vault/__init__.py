"""The Vault: every user's Google consent for a web application, in SQLite or PostgreSQL.

:class:`Vault` is the whole public face (``gtoken.Vault``); :mod:`gtoken.aio` has its asyncio
twin. See :mod:`gtoken.vault.vault` for the parts.
"""

from __future__ import annotations

from gtoken.vault.due import DueReport
from gtoken.vault.events import Event
from gtoken.vault.records import Connection
from gtoken.vault.vault import Vault

__all__ = ["Connection", "DueReport", "Event", "Vault"]
