"""How ``gtoken token`` prints a token: ``bare``, ``header`` or ``json``.

Light on imports: the cached-token path uses it before anything else of gtoken is loaded.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

__all__ = ["FORMATS", "iso_utc", "render_token"]

FORMATS = ("bare", "header", "json")


def iso_utc(seconds: float) -> str:
    """``seconds`` since the epoch as ISO 8601 in UTC, to the second: ``2024-05-01T12:00:00Z``."""
    return datetime.fromtimestamp(int(seconds), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def render_token(
    format: str,
    access_token: str,
    *,
    expires_at: float | None,
    scopes: Iterable[str],
    account: str,
    now: float,
) -> str:
    """The output of ``gtoken token --format FORMAT``, with its final newline."""
    if format == "bare":
        return access_token + "\n"
    if format == "header":
        return f"Authorization: Bearer {access_token}\n"
    if format != "json":
        raise ValueError(f"format is one of {', '.join(FORMATS)}, not {format!r}")
    import json

    document = {
        "access_token": access_token,
        "expires_at": None if expires_at is None else iso_utc(expires_at),
        "expires_in": None if expires_at is None else max(0, int(expires_at - now)),
        "scopes": sorted(scopes),
        "account": account,
        "token_type": "Bearer",
    }
    return json.dumps(document, indent=2) + "\n"
