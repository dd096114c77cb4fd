"""PKCE (RFC 7636): the code verifier a login keeps, and the S256 challenge it sends."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass, field
from typing import Literal

from gtoken.redact import fingerprint

__all__ = ["Pkce"]

_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class Pkce:
    """A code verifier and its S256 challenge. ``repr`` shows only the verifier's fingerprint.

    ``Pkce(verifier)`` checks the verifier (43–128 characters of ``[A-Za-z0-9-._~]``, else
    ValueError) and computes the challenge; :meth:`new` makes a random one.
    """

    verifier: str
    challenge: str = field(init=False)
    method: Literal["S256"] = field(default="S256", init=False)

    def __post_init__(self) -> None:
        if not isinstance(self.verifier, str) or not _VERIFIER.fullmatch(self.verifier):
            raise ValueError(
                "a PKCE code verifier is 43 to 128 characters of letters, digits and -._~"
            )
        object.__setattr__(self, "challenge", _s256(self.verifier))

    @classmethod
    def new(cls, *, length: int = 64) -> Pkce:
        """A fresh verifier of ``length`` random characters (43 to 128)."""
        if not 43 <= length <= 128:
            raise ValueError(f"a PKCE verifier length is 43 to 128, not {length}")
        return cls(secrets.token_urlsafe(length)[:length])

    def __repr__(self) -> str:
        return (
            f"Pkce(verifier={fingerprint(self.verifier)}, challenge={self.challenge!r}, "
            f"method={self.method!r})"
        )
