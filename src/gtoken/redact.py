"""Fingerprints and redaction: how a secret may appear in a message, a log line or a ``repr``.

No token, code, verifier, client secret or key is ever shown whole. Where a person needs to tell
two secrets apart they see a fingerprint: ``…`` and the last four characters of a long secret, or a
short hash of a short one (whose last four characters would give too much away).
"""

from __future__ import annotations

import hashlib
import re

__all__ = ["fingerprint", "redact"]

_SHORT = 16

# Google's secrets by their documented prefixes: access tokens, refresh tokens, authorization
# codes, client secrets, JWTs (ID tokens and assertions).
_PREFIXED = re.compile(
    r"(?<![A-Za-z0-9._~+/=%-])(?:ya29\.|1//|4/|4%2F|GOCSPX-|eyJ)[A-Za-z0-9._~+/=%-]{4,}"
)
# Any other long opaque run mixing upper case, lower case and digits, as random secrets do and
# URLs, e-mail addresses, client ids and scope names do not.
_OPAQUE = re.compile(r"(?<![A-Za-z0-9._~+/=%-])[A-Za-z0-9._~+/=%-]{20,}")


def fingerprint(secret: str) -> str:
    """A short stand-in for ``secret`` that tells secrets apart without revealing them."""
    if not secret:
        return "<empty>"
    if len(secret) < _SHORT:
        return "#" + hashlib.sha256(secret.encode()).hexdigest()[:8]
    return "…" + secret[-4:]


def _looks_secret(run: str) -> bool:
    return (
        any(c.isupper() for c in run)
        and any(c.islower() for c in run)
        and any(c.isdigit() for c in run)
    )


def redact(text: str) -> str:
    """``text`` with every secret-looking word replaced by its fingerprint.

    Used on text that came from outside (Google's ``error_description``) before it goes into a
    message. Scope URLs, client ids and e-mail addresses are left as they are.
    """
    text = _PREFIXED.sub(lambda m: fingerprint(m.group()), text)
    return _OPAQUE.sub(
        lambda m: fingerprint(m.group()) if _looks_secret(m.group()) else m.group(), text
    )
