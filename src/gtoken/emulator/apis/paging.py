"""Page tokens: opaque to the caller, bound to the query they page through."""

from __future__ import annotations

import base64
import binascii
import hashlib


def page_token(offset: int, query_key: str) -> str:
    """An opaque token for ``offset``, bound to the query it pages through."""
    raw = f"{offset}:{_digest(query_key)}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def page_offset(token: str | None, query_key: str) -> int | None:
    """The offset in ``token``, 0 without one, ``None`` when it is not ours or not this query's."""
    if not token:
        return 0
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    offset, _, digest = raw.partition(":")
    if not offset.isdigit() or digest != _digest(query_key):
        return None
    return int(offset)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]
