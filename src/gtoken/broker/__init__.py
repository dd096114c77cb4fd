"""gtoken's token broker (``gtoken serve``) and :class:`Client`, its Python caller.

The server's modules need the ``serve`` extra; :class:`Client` needs nothing more than gtoken.
"""

from __future__ import annotations

from gtoken.broker.client import Client

__all__ = ["Client"]
