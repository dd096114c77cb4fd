"""Checking the ID token a consent brings: signed by Google (its JWKS), for this client, fresh,
and answering this consent's nonce. PyJWT checks the signature; the time comes from the vault's
clock.

Google rotates its signing keys every few days and publishes the next one in advance; the keys
are cached, and fetched again when a token names a key not in the cache (at most once a minute).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from gtoken.errors import ConfigError, ProtocolError
from gtoken.redact import fingerprint

if TYPE_CHECKING:
    from gtoken.transport import Transport

__all__ = ["ISSUERS", "IdTokenVerifier"]

#: The ``iss`` values Google's ID tokens carry.
ISSUERS: Final = frozenset({"https://accounts.google.com", "accounts.google.com"})
_LEEWAY: Final = 300
_REFETCH_AFTER: Final = 60.0


class IdTokenVerifier:
    """Verifies ID tokens against the JWKS at ``certs_url``."""

    def __init__(
        self,
        certs_url: str,
        transport: Callable[[], Transport],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        try:
            import jwt
        except ImportError:
            raise ConfigError(
                "gtoken.Vault checks ID tokens with PyJWT, which is not installed",
                hint="Install it: pip install 'gtoken[vault]'.",
            ) from None
        self._jwt = jwt
        self.certs_url = certs_url
        self._transport = transport
        self._clock = clock
        self._keys: dict[str, Any] = {}
        self._fetched_at = float("-inf")
        self._lock = threading.Lock()

    def verify(self, id_token: str, *, audience: str, nonce: str) -> dict[str, Any]:
        """The claims of ``id_token`` once every check passed; ProtocolError naming the first
        that failed (the token itself is shown only as a fingerprint)."""
        jwt = self._jwt
        shown = fingerprint(id_token)
        try:
            header = jwt.get_unverified_header(id_token)
        except jwt.PyJWTError:
            raise ProtocolError(f"The ID token ({shown}) is not a JWT.") from None
        if header.get("alg") != "RS256":
            raise ProtocolError(f"The ID token ({shown}) is not signed with RS256.")
        key = self._key(str(header.get("kid")))
        if key is None:
            raise ProtocolError(
                f"The ID token ({shown}) is signed with key {header.get('kid')!r}, which is not "
                f"among the issuer's keys at {self.certs_url}: it was not issued by Google."
            )
        try:
            claims: dict[str, Any] = jwt.decode(
                id_token,
                key,
                algorithms=["RS256"],
                audience=audience,
                options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
            )
        except jwt.PyJWTError as exc:
            raise ProtocolError(f"The ID token ({shown}) failed verification: {exc}.") from None
        self._check_claims(claims, shown, nonce)
        return claims

    def _check_claims(self, claims: dict[str, Any], shown: str, nonce: str) -> None:
        now = self._clock()
        if claims.get("iss") not in ISSUERS:
            raise ProtocolError(f"The ID token ({shown}) was issued by {claims.get('iss')!r}.")
        exp = claims.get("exp")
        if not isinstance(exp, int | float) or exp + _LEEWAY < now:
            raise ProtocolError(f"The ID token ({shown}) has expired.")
        iat = claims.get("iat")
        if isinstance(iat, int | float) and iat - _LEEWAY > now:
            raise ProtocolError(
                f"The ID token ({shown}) was issued in the future: is this machine's clock right?"
            )
        if claims.get("nonce") != nonce:
            raise ProtocolError(
                f"The ID token ({shown}) does not carry this consent's nonce: it belongs to "
                "another sign-in."
            )
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise ProtocolError(f"The ID token ({shown}) names no subject (sub).")

    def _key(self, kid: str) -> Any:
        with self._lock:
            key = self._keys.get(kid)
            if key is None and self._clock() - self._fetched_at > _REFETCH_AFTER:
                self._keys = self._fetch()
                self._fetched_at = self._clock()
                key = self._keys.get(kid)
            return key

    def _fetch(self) -> dict[str, Any]:
        reply = self._transport().request("GET", self.certs_url)
        try:
            if reply.status != 200:
                raise ValueError(f"HTTP {reply.status}")
            document = json.loads(reply.body)
            keys = self._jwt.PyJWKSet.from_dict(document).keys
        except (ValueError, self._jwt.PyJWTError) as exc:
            raise ProtocolError(
                f"The issuer's signing keys at {self.certs_url} are unreadable ({exc})."
            ) from None
        return {k.key_id: k.key for k in keys if k.key_id}
