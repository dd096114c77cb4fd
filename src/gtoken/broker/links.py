"""Connect links: signed, expiring tokens naming an end user, the scopes, the client and where to
return.

A link is ``v1.<key id>.<payload>.<signature>``: the payload is base64url JSON, the signature an
HMAC-SHA256 over the rest under a key derived (HKDF) from a vault key. Every replica holds the
vault's keys, so any replica can check a link another made, and no link state is stored; after
a key rotation links signed with the older key stay valid until that key is dropped. Nothing in a
link is secret (it travels in browsers), but nothing in it can be changed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from gtoken.store.crypto import Keyring

__all__ = ["BadLink", "ExpiredLink", "Link", "Signer"]

_INFO: Final = b"gtoken broker connect links v1"


class BadLink(ValueError):
    """A link that was not made by this broker, or was changed."""


class ExpiredLink(ValueError):
    """A link past its expiry."""


@dataclass(frozen=True)
class Link:
    user_id: str
    scopes: tuple[str, ...]
    client_id: str
    return_url: str | None
    expires_at: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise BadLink("the link is damaged") from None


class Signer:
    """Makes and checks links with keys derived from ``keyring``."""

    def __init__(self, keyring: Keyring) -> None:
        self._keyring = keyring
        self._derived: dict[str, bytes] = {}

    def _key(self, kid: str) -> bytes:
        key = self._derived.get(kid)
        if key is None:
            hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO)
            key = self._derived[kid] = hkdf.derive(self._keyring[kid])
        return key

    def sign(self, link: Link) -> str:
        kid = self._keyring.current
        payload = {
            "u": link.user_id,
            "s": list(link.scopes),
            "c": link.client_id,
            "r": link.return_url,
            "e": link.expires_at,
        }
        body = f"v1.{kid}.{_b64(json.dumps(payload, separators=(',', ':')).encode())}"
        mac = hmac.new(self._key(kid), body.encode(), hashlib.sha256).digest()
        return f"{body}.{_b64(mac)}"

    def check(self, token: str, *, now: float) -> Link:
        """The link ``token`` stands for; BadLink or ExpiredLink otherwise."""
        parts = token.split(".")
        if len(parts) != 4 or parts[0] != "v1":
            raise BadLink("the link is damaged")
        _, kid, payload, signature = parts
        if kid not in self._keyring:
            raise BadLink("the link was signed with a key this broker does not hold")
        body = f"v1.{kid}.{payload}"
        expected = hmac.new(self._key(kid), body.encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, _unb64(signature)):
            raise BadLink("the link's signature does not match: it was changed")
        try:
            data = json.loads(_unb64(payload))
            link = Link(
                user_id=str(data["u"]),
                scopes=tuple(str(s) for s in data["s"]),
                client_id=str(data["c"]),
                return_url=None if data["r"] is None else str(data["r"]),
                expires_at=int(data["e"]),
            )
        except (ValueError, KeyError, TypeError):
            raise BadLink("the link is damaged") from None
        if link.expires_at < now:
            raise ExpiredLink("the link has expired")
        return link
