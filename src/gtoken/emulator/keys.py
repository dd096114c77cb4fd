"""RSA keys: the emulator's own ID-token signing key (published as a JWK set) and the keys it
issues to service accounts."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm


def _new_rsa() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


_REMEMBERED = 512


@dataclass(frozen=True)
class SigningKey:
    """The key that signs ID tokens, as Google's ``/oauth2/v3/certs`` keys do (RS256)."""

    kid: str
    private_key: rsa.RSAPrivateKey
    _signed: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(kid=secrets.token_hex(20), private_key=_new_rsa())

    def sign(self, claims: dict[str, Any]) -> str:
        """The RS256 JWT of ``claims``. RSA PKCS#1 v1.5 signatures are deterministic, so equal
        claims give equal tokens: the last few hundred are remembered, which spares the 0.7 ms a
        signature costs when many clients refresh the same users within one second."""
        key = json.dumps(claims, sort_keys=True)
        token = self._signed.get(key)
        if token is None:
            token = jwt.encode(
                claims, self.private_key, algorithm="RS256", headers={"kid": self.kid}
            )
            if len(self._signed) >= _REMEMBERED:
                self._signed.clear()
            self._signed[key] = token
        return token

    def jwk(self) -> dict[str, Any]:
        jwk: dict[str, Any] = RSAAlgorithm.to_jwk(self.private_key.public_key(), as_dict=True)
        return {**jwk, "kid": self.kid, "alg": "RS256", "use": "sig"}


@dataclass(frozen=True)
class IssuedKey:
    """A new service-account key: the private half goes to the caller, the public half stays."""

    key_id: str
    private_pem: str
    public_pem: bytes


def issue_service_account_key() -> IssuedKey:
    key = _new_rsa()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return IssuedKey(key_id=secrets.token_hex(20), private_pem=private_pem, public_pem=public_pem)
