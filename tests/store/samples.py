"""Sample records and file fingerprints for the store tests."""

from __future__ import annotations

import hashlib
from pathlib import Path

from gtoken.store import AccountRecord


def account(id: str = "acct-1", /, **changes: object) -> AccountRecord:
    """An account with every field set, secrets distinct and long enough to search for."""
    values: dict[str, object] = {
        "id": id,
        "client_id": "client-123.apps.googleusercontent.com",
        "email": f"{id}@example.com",
        "sub": f"sub-{id}",
        "scopes": ("openid", "https://www.googleapis.com/auth/gmail.readonly"),
        "status": "active",
        "status_reason": None,
        "is_default": False,
        "token_uri": "https://oauth2.googleapis.com/token",
        "expires_at": 1_900_000_000,
        "refresh_token_expires_at": 1_900_600_000,
        "access_token": f"ya29.ACCESS-{id}-0123456789abcdef",
        "refresh_token": f"1//REFRESH-{id}-0123456789abcdef",
        "id_token": f"eyJ.IDTOKEN-{id}-0123456789abcdef",
        "client_secret": f"GOCSPX-SECRET-{id}-0123456789",
    }
    values.update(changes)
    return AccountRecord(**values)  # type: ignore[arg-type]


def digest(path: Path) -> str:
    """The SHA-256 of a file and of its WAL, if any: "byte for byte unchanged"."""
    h = hashlib.sha256(path.read_bytes())
    wal = Path(f"{path}-wal")
    if wal.exists():
        h.update(wal.read_bytes())
    return h.hexdigest()
