"""Who a token belongs to: tokeninfo, userinfo (OIDC and v2), discovery and signing keys."""

from __future__ import annotations

import datetime as dt
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gtoken.emulator import grants
from gtoken.emulator import scopes as sc
from gtoken.emulator.authorization import ISSUER
from gtoken.emulator.errors import TokenError, bad_request
from gtoken.emulator.model import AccessToken, World
from gtoken.emulator.web import api_error, base_url, form, ok, query, token_error

UNAUTHENTICATED = (
    "Request is missing required authentication credential. Expected OAuth 2 access token, "
    "login cookie or other valid authentication credential."
)


def bearer(request: Request, world: World) -> AccessToken | None:
    """The live access token of an ``Authorization: Bearer`` header (or ``access_token=``)."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        value = request.query_params.get("access_token", "")
    value = value.strip()
    return world.live_access_token(value) if value else None


def routes(world: World) -> list[Route]:
    async def tokeninfo(request: Request) -> Response:
        world.count(world.stats.endpoints, "tokeninfo")
        try:
            params = query(request)
            if request.method == "POST":
                params.update(await form(request, world))
            if "access_token" in params:
                return ok(grants.tokeninfo_access(world, params["access_token"]))
            if "id_token" in params:
                return ok(grants.tokeninfo_id(world, params["id_token"]))
            raise bad_request("Missing required parameter: access_token or id_token")
        except TokenError as exc:
            return token_error(exc)

    async def userinfo_oidc(request: Request) -> Response:
        world.count(world.stats.endpoints, "userinfo")
        token = bearer(request, world)
        if token is None:
            return JSONResponse(
                {"error": "invalid_request", "error_description": "Invalid Credentials"},
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'},
            )
        claims: dict[str, Any] = {"sub": token.subject_id}
        claims.update(_claims(token, oidc=True))
        return ok(claims)

    async def userinfo_v2(request: Request) -> Response:
        world.count(world.stats.endpoints, "userinfo")
        token = bearer(request, world)
        if token is None or not token.scopes & {sc.EMAIL, sc.PROFILE}:
            return api_error(
                401,
                UNAUTHENTICATED,
                "UNAUTHENTICATED",
                reason="required",
                headers={"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'},
            )
        info: dict[str, Any] = {"id": token.subject_id}
        info.update(_claims(token, oidc=False))
        return ok(info)

    async def discovery(request: Request) -> Response:
        base = base_url(request)
        return ok(
            {
                "issuer": ISSUER,
                "authorization_endpoint": f"{base}/o/oauth2/v2/auth",
                "device_authorization_endpoint": f"{base}/device/code",
                "token_endpoint": f"{base}/token",
                "userinfo_endpoint": f"{base}/v1/userinfo",
                "revocation_endpoint": f"{base}/revoke",
                "jwks_uri": f"{base}/oauth2/v3/certs",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", "email", "profile"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "client_secret_basic",
                ],
                "claims_supported": [
                    "aud",
                    "email",
                    "email_verified",
                    "exp",
                    "family_name",
                    "given_name",
                    "iat",
                    "iss",
                    "name",
                    "picture",
                    "sub",
                ],
                "code_challenge_methods_supported": ["plain", "S256"],
                "grant_types_supported": [
                    "authorization_code",
                    "refresh_token",
                    grants.DEVICE_CODE,
                    grants.JWT_BEARER,
                ],
            }
        )

    async def certs_jwk(request: Request) -> Response:
        return ok({"keys": [world.signing_key.jwk()]})

    certificate = _certificate(world)

    async def certs_pem(request: Request) -> Response:
        return ok({world.signing_key.kid: certificate})

    return [
        Route("/tokeninfo", tokeninfo, methods=["GET", "POST"]),
        Route("/oauth2/v3/tokeninfo", tokeninfo, methods=["GET", "POST"]),
        Route("/v1/userinfo", userinfo_oidc, methods=["GET", "POST"]),
        Route("/oauth2/v3/userinfo", userinfo_oidc, methods=["GET", "POST"]),
        Route("/oauth2/v2/userinfo", userinfo_v2, methods=["GET"]),
        Route("/.well-known/openid-configuration", discovery, methods=["GET"]),
        Route("/oauth2/v3/certs", certs_jwk, methods=["GET"]),
        Route("/oauth2/v1/certs", certs_pem, methods=["GET"]),
    ]


def _claims(token: AccessToken, *, oidc: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if sc.EMAIL in token.scopes or token.service_account is not None:
        out["email"] = token.email
        out["email_verified" if oidc else "verified_email"] = True
    user = token.user
    if user is not None and sc.PROFILE in token.scopes:
        out.update(
            name=user.name,
            given_name=user.given_name,
            family_name=user.family_name,
            picture=user.picture,
            locale=user.locale,
        )
    return out


def _certificate(world: World) -> str:
    """The signing key as a self-signed X.509 certificate, the form ``/oauth2/v1/certs`` uses."""
    key = world.signing_key.private_key
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gtoken-emulator")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()
