"""The token endpoint's grants, device authorization and revocation, as Google answers them.

Every function takes the already-parsed form (one value per name) and returns the JSON body of a
successful answer, or raises :class:`TokenError` with Google's status, code and description.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import string
from collections.abc import Mapping
from typing import Any

import jwt

from gtoken.emulator import scopes as sc
from gtoken.emulator.authorization import ISSUER, record_grant
from gtoken.emulator.errors import (
    EXPIRED_OR_REVOKED,
    TokenError,
    bad_request,
    invalid_grant,
)
from gtoken.emulator.model import (
    AccessToken,
    Client,
    DeviceCode,
    Grant,
    RefreshToken,
    ServiceAccount,
    User,
    World,
    fingerprint,
)

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code"
GRANT_NAMES = {
    "authorization_code": "authorization_code",
    "refresh_token": "refresh_token",
    JWT_BEARER: "jwt_bearer",
    DEVICE_CODE: "device_code",
}
GOOGLE_TOKEN_AUDIENCES = frozenset(
    {
        "https://oauth2.googleapis.com/token",
        "https://www.googleapis.com/oauth2/v4/token",
        "https://accounts.google.com/o/oauth2/token",
    }
)
JWT_TIME_MESSAGE = (
    "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. "
    "Check your iat and exp values in the JWT claim."
)
DELEGATION_REFUSED = (
    "Client is unauthorized to retrieve access tokens using this method, or client not "
    "authorized for any of the scopes requested."
)
CLOCK_SKEW = 300


def token(
    world: World, form: Mapping[str, str], basic: tuple[str, str] | None, token_url: str
) -> dict[str, Any]:
    """``POST /token``: dispatch on ``grant_type``."""
    grant_type = form.get("grant_type")
    if not grant_type:
        raise bad_request("Required parameter is missing: grant_type")
    if grant_type not in GRANT_NAMES:
        raise TokenError(400, "unsupported_grant_type", f"Invalid grant_type: {grant_type}")
    world.count(world.stats.token, GRANT_NAMES[grant_type])
    if grant_type == JWT_BEARER:
        return jwt_bearer(world, form, token_url)
    client = authenticate(world, form, basic)
    if grant_type == "authorization_code":
        return exchange_code(world, client, form)
    if grant_type == "refresh_token":
        return refresh(world, client, form)
    return poll_device(world, client, form)


def authenticate(
    world: World, form: Mapping[str, str], basic: tuple[str, str] | None, *, secret: bool = True
) -> Client:
    """Client authentication, from the form body or HTTP Basic."""
    client_id, client_secret = form.get("client_id"), form.get("client_secret")
    if basic is not None:
        if client_id is not None and client_id != basic[0]:
            raise bad_request("Client credentials were given twice and differ.")
        client_id, client_secret = basic
    if not client_id:
        raise bad_request("Could not determine client ID from request.")
    client = world.clients.get(client_id)
    if client is None:
        raise TokenError(401, "invalid_client", "The OAuth client was not found.")
    if not secret:
        return client
    if not client_secret:
        raise bad_request("client_secret is missing.")
    if not hmac.compare_digest(client_secret.encode(), client.client_secret.encode()):
        raise TokenError(401, "invalid_client", "Unauthorized")
    return client


def _required(form: Mapping[str, str], name: str) -> str:
    value = form.get(name)
    if not value:
        raise bad_request(f"Missing required parameter: {name}")
    return value


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _pkce_matches(verifier: str, challenge: str, method: str) -> bool:
    computed = _b64(hashlib.sha256(verifier.encode()).digest()) if method == "S256" else verifier
    return hmac.compare_digest(computed.encode(), challenge.encode())


def exchange_code(world: World, client: Client, form: Mapping[str, str]) -> dict[str, Any]:
    value = _required(form, "code")
    if not value.startswith("4/") or any(c in value for c in "% \t\n+"):
        raise invalid_grant("Malformed auth code.")
    code = world.codes.get(value)
    if (
        code is None
        or code.used
        or code.request.client is not client
        or world.now() >= code.expires_at
    ):
        raise invalid_grant()
    request = code.request
    redirect_uri = form.get("redirect_uri")
    if not redirect_uri:
        raise bad_request("Missing parameter: redirect_uri")
    if redirect_uri != request.redirect_uri:
        raise TokenError(400, "redirect_uri_mismatch", "Bad Request")
    if request.code_challenge is not None:
        verifier = form.get("code_verifier")
        if not verifier:
            raise invalid_grant("Missing code verifier.")
        assert request.code_challenge_method is not None
        if not _pkce_matches(verifier, request.code_challenge, request.code_challenge_method):
            raise invalid_grant()
    code.used = True
    grant = world.grants.get((code.user.sub, client.client_id))
    if grant is None:  # the user revoked the app between consent and exchange
        raise invalid_grant()
    refresh_token = (
        world.mint_refresh_token(grant, code.scopes) if code.issue_refresh_token else None
    )
    return _issue(
        world,
        client,
        code.user,
        code.scopes,
        grant,
        refresh_token,
        nonce=request.nonce,
        access_type=request.access_type,
        new_refresh_token=True,
    )


def refresh(world: World, client: Client, form: Mapping[str, str]) -> dict[str, Any]:
    value = _required(form, "refresh_token")
    rt = world.refresh_tokens.get(value)
    if rt is None:
        raise invalid_grant(EXPIRED_OR_REVOKED)
    if rt.grant.client is not client:
        raise TokenError(401, "unauthorized_client", "Unauthorized")
    now = world.now()
    if not rt.alive(now, world.config.unused_refresh_token_lifetime):
        raise invalid_grant(EXPIRED_OR_REVOKED)
    if rt.grant.user.reauth_required:
        raise invalid_grant("reauth related error (invalid_rapt)", error_subtype="invalid_rapt")
    scopes = rt.scopes
    if "scope" in form:
        asked, invalid = sc.parse(form["scope"])
        _refuse_invalid_scopes(invalid)
        if not asked or not set(asked) <= rt.scopes:
            raise TokenError(400, "invalid_scope", "Bad Request")
        scopes = frozenset(sc.granted_with_openid(asked))
    rt.last_used = now
    entry = world.stats.refresh_tokens.setdefault(
        fingerprint(value),
        {"count": 0, "email": rt.grant.user.email, "client_id": client.client_id},
    )
    entry["count"] += 1
    return _issue(world, client, rt.grant.user, scopes, rt.grant, rt, new_refresh_token=False)


def _refuse_invalid_scopes(invalid: list[str]) -> None:
    if invalid:
        raise TokenError(
            400,
            "invalid_scope",
            f"Some requested scopes were invalid. {{invalid=[{', '.join(invalid)}]}}",
        )


def _issue(
    world: World,
    client: Client,
    user: User,
    scopes: frozenset[str],
    grant: Grant,
    refresh_token: RefreshToken | None,
    *,
    new_refresh_token: bool,
    nonce: str | None = None,
    access_type: str = "offline",
) -> dict[str, Any]:
    access = world.mint_access_token(
        client_id=client.client_id,
        scopes=scopes,
        user=user,
        refresh_token=refresh_token,
        grant=grant,
        access_type=access_type,
    )
    body: dict[str, Any] = {
        "access_token": access.value,
        "expires_in": world.config.access_token_lifetime,
        "scope": " ".join(sorted(scopes)),
        "token_type": "Bearer",
    }
    if sc.OPENID in scopes:
        # at_hash binds an ID token to its access token at sign-in; refreshed ID tokens leave it
        # out (it is optional there), so that equal claims in the same second share a signature.
        bound = access if new_refresh_token else None
        body["id_token"] = id_token(world, client.client_id, user, scopes, bound, nonce)
    if refresh_token is not None and new_refresh_token:
        body["refresh_token"] = refresh_token.value
    if refresh_token is not None and refresh_token.expires_at is not None:
        # rounded: the time taken since minting must not turn 604799 into 604798
        body["refresh_token_expires_in"] = round(refresh_token.expires_at - world.now())
    return body


def id_token(
    world: World,
    audience: str,
    user: User,
    scopes: frozenset[str],
    access: AccessToken | None,
    nonce: str | None,
) -> str:
    now = int(world.now())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "azp": audience,
        "aud": audience,
        "sub": user.sub,
        "iat": now,
        "exp": now + 3600,
    }
    if access is not None:
        digest = hashlib.sha256(access.value.encode()).digest()
        claims["at_hash"] = _b64(digest[:16])
    if sc.EMAIL in scopes:
        claims.update(email=user.email, email_verified=True)
    if sc.PROFILE in scopes:
        claims.update(
            name=user.name,
            picture=user.picture,
            given_name=user.given_name,
            family_name=user.family_name,
            locale=user.locale,
        )
    if nonce:
        claims["nonce"] = nonce
    return world.signing_key.sign(claims)


# -- service accounts ---------------------------------------------------------------------------


def jwt_bearer(world: World, form: Mapping[str, str], token_url: str) -> dict[str, Any]:
    assertion = _required(form, "assertion")
    account, claims = _verify_assertion(world, assertion)
    audience = claims.get("aud")
    if not isinstance(audience, str) or (
        audience not in GOOGLE_TOKEN_AUDIENCES and audience != token_url
    ):
        raise invalid_grant("Invalid JWT: Failed audience check.")
    _check_jwt_times(world, claims)
    target = claims.get("target_audience")
    if isinstance(target, str) and target:
        return {"id_token": _service_account_id_token(world, account, target)}
    raw_scope = claims.get("scope")
    asked, invalid = sc.parse(raw_scope if isinstance(raw_scope, str) else "")
    _refuse_invalid_scopes(invalid)
    if not asked:
        raise TokenError(400, "invalid_scope", "Invalid oauth scope or ID token audience provided.")
    user = None
    subject = claims.get("sub")
    if subject is not None and subject != account.client_email:
        user = world.user(subject) if isinstance(subject, str) else None
        if user is None:
            raise invalid_grant("Invalid email or User ID")
        if not set(asked) <= account.delegation_scopes:
            raise TokenError(401, "unauthorized_client", DELEGATION_REFUSED)
    access = world.mint_access_token(
        client_id=account.client_id,
        scopes=frozenset(asked),
        user=user,
        service_account=account,
    )
    return {
        "access_token": access.value,
        "expires_in": world.config.access_token_lifetime,
        "token_type": "Bearer",
    }


def _verify_assertion(world: World, assertion: str) -> tuple[ServiceAccount, dict[str, Any]]:
    bad_signature = invalid_grant("Invalid JWT Signature.")
    try:
        header = jwt.get_unverified_header(assertion)
        unverified = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise bad_signature from None
    issuer = unverified.get("iss")
    account = world.service_accounts.get(issuer) if isinstance(issuer, str) else None
    if account is None:
        raise invalid_grant("Invalid grant: account not found")
    if header.get("alg") != "RS256" or header.get("kid") not in (None, account.key_id):
        raise bad_signature
    try:
        claims: dict[str, Any] = jwt.decode(
            assertion,
            account.public_key_pem,
            algorithms=["RS256"],
            # Only the signature here: the claims are checked below, each with Google's message
            # (a ``sub`` that is not a string is "Invalid email or User ID", not a bad signature).
            options={
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
                "verify_aud": False,
                "verify_sub": False,
                "verify_jti": False,
            },
        )
    except jwt.PyJWTError:
        raise bad_signature from None
    return account, claims


def _check_jwt_times(world: World, claims: Mapping[str, Any]) -> None:
    iat, exp = claims.get("iat"), claims.get("exp")
    now = world.now()
    # Stated as what must hold, so that NaN (false in every comparison) fails too.
    if not (
        isinstance(iat, int | float)
        and isinstance(exp, int | float)
        and not isinstance(iat, bool)
        and not isinstance(exp, bool)
        and iat < exp <= iat + 3600
        and iat <= now + CLOCK_SKEW
        and exp >= now - CLOCK_SKEW
    ):
        raise invalid_grant(JWT_TIME_MESSAGE)


def _service_account_id_token(world: World, account: ServiceAccount, audience: str) -> str:
    now = int(world.now())
    return world.signing_key.sign(
        {
            "iss": ISSUER,
            "aud": audience,
            "azp": account.client_email,
            "sub": account.client_id,
            "email": account.client_email,
            "email_verified": True,
            "iat": now,
            "exp": now + 3600,
        }
    )


# -- device flow --------------------------------------------------------------------------------


def _user_code() -> str:
    letters = "".join(secrets.choice(string.ascii_uppercase) for _ in range(9))
    return f"{letters[:3]}-{letters[3:6]}-{letters[6:]}"


def device_code(
    world: World, form: Mapping[str, str], basic: tuple[str, str] | None, base_url: str
) -> dict[str, Any]:
    """``POST /device/code``: start a device authorization."""
    world.count(world.stats.endpoints, "device_code")
    client = authenticate(world, form, basic, secret=False)
    if client.type == "web":
        raise TokenError(401, "invalid_client", "Invalid client type.")
    raw = form.get("scope", "")
    asked, invalid = sc.parse(raw)
    _refuse_invalid_scopes(invalid)
    if not asked:
        raise bad_request("Missing required parameter: scope")
    for word in raw.split():
        if sc.parse(word)[0][0] not in sc.DEVICE_ALLOWED:
            raise TokenError(400, "invalid_scope", f"Invalid device flow scope: {word}")
    now = world.now()
    dc = DeviceCode(
        device_code="AH-1Ng" + secrets.token_urlsafe(60),
        user_code=_user_code(),
        client=client,
        scopes=asked,
        expires_at=now + world.config.device_code_lifetime,
        interval=world.config.device_poll_interval,
    )
    world.device_codes[dc.device_code] = dc
    if world.consent.mode == "auto":
        _auto_answer_device(world, dc)
    return {
        "device_code": dc.device_code,
        "user_code": dc.user_code,
        "expires_in": world.config.device_code_lifetime,
        "interval": dc.interval,
        "verification_url": f"{base_url}/device",
    }


def _auto_answer_device(world: World, dc: DeviceCode) -> None:
    mode = world.consent
    user = world.user(mode.email) if mode.email else None
    if user is None and len(world.users) == 1:
        user = next(iter(world.users.values()))
    if user is None:
        return  # stays pending until someone answers on the device page
    if mode.grant == "deny":
        dc.status = "denied"
        return
    chosen = (
        dc.scopes
        if mode.grant == "all"
        else [s for s in dc.scopes if s in mode.grant or s in sc.BASIC]
    )
    approve_device(world, dc, user, chosen)


def approve_device(world: World, dc: DeviceCode, user: User, chosen: list[str]) -> None:
    granted = [s for s in dc.scopes if s in chosen]
    if not granted:
        dc.status = "denied"
        return
    record_grant(world, dc.client, user, granted)
    dc.user = user
    dc.granted = frozenset(sc.granted_with_openid(granted))
    dc.status = "approved"


def find_user_code(world: World, user_code: str) -> DeviceCode | None:
    wanted = user_code.strip().upper().replace(" ", "")
    for dc in world.device_codes.values():
        if dc.user_code.replace("-", "") == wanted.replace("-", "") and dc.status == "pending":
            return dc if world.now() < dc.expires_at else None
    return None


def poll_device(world: World, client: Client, form: Mapping[str, str]) -> dict[str, Any]:
    dc = world.device_codes.get(_required(form, "device_code"))
    if dc is None or dc.client is not client or dc.status == "used":
        raise invalid_grant()
    now = world.now()
    if now >= dc.expires_at:
        raise TokenError(400, "expired_token", "Expired")
    too_fast = dc.last_poll is not None and now - dc.last_poll < dc.interval
    dc.last_poll = now
    if dc.status == "denied":
        raise TokenError(403, "access_denied", "Forbidden")
    if too_fast:
        raise TokenError(403, "slow_down", "Forbidden")
    if dc.status == "pending":
        raise TokenError(428, "authorization_pending", "Precondition Required")
    assert dc.user is not None
    dc.status = "used"
    grant = world.grants[(dc.user.sub, client.client_id)]
    rt = world.mint_refresh_token(grant, dc.granted)
    return _issue(world, client, dc.user, dc.granted, grant, rt, new_refresh_token=True)


# -- revocation and token info ------------------------------------------------------------------


def revoke(world: World, value: str | None) -> None:
    world.count(world.stats.endpoints, "revoke")
    if not value:
        raise bad_request("Missing required parameter: token")
    now = world.now()
    grant: Grant | None = None
    rt = world.refresh_tokens.get(value)
    if rt is not None and rt.alive(now, world.config.unused_refresh_token_lifetime):
        grant = rt.grant
    at = world.live_access_token(value)
    if at is not None:
        if at.grant is None:  # a service-account token: only itself
            at.revoked = True
            return
        grant = at.grant
    if grant is None:
        raise TokenError(400, "invalid_token", "Token expired or revoked")
    world.revoke_grant(grant)


def tokeninfo_access(world: World, value: str) -> dict[str, Any]:
    token = world.live_access_token(value)
    if token is None:
        raise TokenError(400, "invalid_token", "Invalid Value")
    exp = int(token.expires_at)
    info: dict[str, Any] = {
        "azp": token.client_id,
        "aud": token.client_id,
        "sub": token.subject_id,
        "scope": " ".join(sorted(token.scopes)),
        "exp": str(exp),
        "expires_in": str(max(0, exp - int(world.now()))),
    }
    if sc.EMAIL in token.scopes or token.service_account is not None:
        info.update(email=token.email, email_verified="true")
    info["access_type"] = token.access_type
    return info


def tokeninfo_id(world: World, value: str) -> dict[str, Any]:
    key = world.signing_key
    try:
        claims: dict[str, Any] = jwt.decode(
            value,
            key.private_key.public_key(),
            algorithms=["RS256"],
            options={"verify_aud": False, "verify_exp": False, "verify_iat": False},
        )
    except jwt.PyJWTError:
        raise TokenError(400, "invalid_token", "Invalid Value") from None
    if not isinstance(claims.get("exp"), int) or claims["exp"] <= world.now():
        raise TokenError(400, "invalid_token", "Invalid Value")
    info = {k: (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in claims.items()}
    return {**info, "alg": "RS256", "kid": key.kid, "typ": "JWT"}
