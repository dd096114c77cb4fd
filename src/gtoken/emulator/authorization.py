"""The authorization endpoint's rules: checking a request, answering it, issuing the code.

Errors Google shows on its own page raise :class:`PageError`; the person's decisions
(``access_denied``, ``consent_required``) raise :class:`RedirectError` and go back to the app.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from urllib.parse import quote, urlencode, urlsplit

from gtoken.emulator import scopes as sc
from gtoken.emulator.errors import PageError, RedirectError
from gtoken.emulator.model import AuthCode, AuthRequest, Client, Grant, User, World

OOB_URIS = frozenset({"urn:ietf:wg:oauth:2.0:oob", "urn:ietf:wg:oauth:2.0:oob:auto", "oob"})
OOB_MESSAGE = (
    "The out-of-band (OOB) flow has been blocked in order to keep users secure. Follow the "
    "Out-of-Band (OOB) flow migration guide linked in the developer docs to migrate your app "
    "to an alternative method."
)
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]"})
PROMPTS = frozenset({"none", "consent", "select_account"})
_PKCE = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
ISSUER = "https://accounts.google.com"


def _invalid(description: str) -> PageError:
    return PageError(400, "invalid_request", description)


def _is_loopback(uri: str) -> bool:
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018  (raises on a malformed port)
    except ValueError:
        return False
    host = parts.netloc.rsplit("@", 1)[-1]
    host = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    return parts.scheme == "http" and host in LOOPBACK_HOSTS


def redirect_uri_allowed(client: Client, uri: str) -> bool:
    """Exact match; Desktop clients may also use any loopback address and port."""
    if uri in client.redirect_uris:
        return True
    return client.type == "installed" and _is_loopback(uri)


def check_client(world: World, params: Mapping[str, str]) -> Client:
    client_id = params.get("client_id")
    if not client_id:
        raise _invalid("Missing required parameter: client_id")
    client = world.clients.get(client_id)
    if client is None:
        raise PageError(401, "invalid_client", "The OAuth client was not found.")
    return client


def check_request(world: World, params: Mapping[str, str]) -> AuthRequest:
    """Validate an authorization request the way Google does, in Google's order."""
    client = check_client(world, params)
    redirect_uri = params.get("redirect_uri")
    if not redirect_uri:
        raise _invalid("Missing required parameter: redirect_uri")
    if redirect_uri in OOB_URIS:
        raise _invalid(OOB_MESSAGE)
    if not redirect_uri_allowed(client, redirect_uri):
        raise PageError(
            400,
            "redirect_uri_mismatch",
            "You can't sign in to this app because it doesn't comply with Google's OAuth 2.0 "
            f"policy. If you're the app developer, register the redirect URI in the Google Cloud "
            f"Console. Request details: redirect_uri={redirect_uri}",
        )
    response_type = params.get("response_type")
    if not response_type:
        raise _invalid("Required parameter is missing: response_type")
    if response_type != "code":
        raise PageError(400, "unsupported_response_type", f"Invalid response_type: {response_type}")
    requested, invalid = sc.parse(params.get("scope", ""))
    if invalid:
        raise PageError(
            400,
            "invalid_scope",
            f"Some requested scopes were invalid. {{invalid=[{', '.join(invalid)}]}}",
        )
    if not requested:
        raise _invalid("Missing required parameter: scope")
    access_type = params.get("access_type", "online")
    if access_type not in ("online", "offline"):
        raise _invalid(f"Invalid access_type: {access_type}")
    prompt = frozenset(params.get("prompt", "").split())
    if not prompt <= PROMPTS:
        raise _invalid(f"Invalid prompt: {params['prompt']}")
    if "none" in prompt and len(prompt) > 1:
        raise _invalid("Invalid prompt: 'none' must be used alone")
    include = params.get("include_granted_scopes", "false")
    if include not in ("true", "false"):
        raise _invalid(f"Invalid include_granted_scopes: {include}")
    challenge, method = _check_pkce(params)
    return AuthRequest(
        client=client,
        redirect_uri=redirect_uri,
        scopes=requested,
        state=params.get("state"),
        access_type=access_type,
        prompt=prompt,
        include_granted_scopes=include == "true",
        login_hint=params.get("login_hint") or None,
        code_challenge=challenge,
        code_challenge_method=method,
        nonce=params.get("nonce"),
        created_at=world.now(),
    )


def _check_pkce(params: Mapping[str, str]) -> tuple[str | None, str | None]:
    challenge = params.get("code_challenge")
    method = params.get("code_challenge_method")
    if challenge is None:
        if method is not None:
            raise _invalid("Missing required parameter: code_challenge")
        return None, None
    method = method or "plain"
    if method not in ("S256", "plain"):
        raise _invalid(f"Invalid code_challenge_method: {method}")
    if not _PKCE.fullmatch(challenge):
        raise _invalid("Invalid code_challenge: 43 to 128 characters of [A-Za-z0-9-._~]")
    return challenge, method


def choose_user(world: World, request: AuthRequest, email: str | None) -> User | None:
    """Which account answers: the one named, else the login hint, else the only one there is."""
    for candidate in (email, request.login_hint):
        if candidate and (user := world.user(candidate)):
            return user
    if len(world.users) == 1:
        return next(iter(world.users.values()))
    return None


def answer_without_page(world: World, request: AuthRequest) -> str | None:
    """The redirect for ``prompt=none`` or auto consent, or None when the page must be shown."""
    mode = world.consent
    if "none" in request.prompt:
        user = choose_user(world, request, mode.email if mode.mode == "auto" else None)
        if user is None:
            raise RedirectError("login_required")
        grant = world.grants.get((user.sub, request.client.client_id))
        if grant is None or not set(request.scopes) <= grant.scopes:
            raise RedirectError("consent_required")
        return approve(world, request, user, request.scopes)
    if mode.mode != "auto":
        return None
    user = choose_user(world, request, mode.email)
    if user is None:
        raise PageError(
            400,
            "account_not_found",
            "Auto consent could not pick an account: create one with POST /_emulator/users, or "
            'name it in POST /_emulator/consent {"mode": "auto", "email": ...}.',
        )
    if mode.grant == "deny":
        raise RedirectError("access_denied")
    chosen = (
        request.scopes
        if mode.grant == "all"
        else [s for s in request.scopes if s in mode.grant or s in sc.BASIC]
    )
    return approve(world, request, user, chosen)


def approve(world: World, request: AuthRequest, user: User, chosen: list[str]) -> str:
    """The person said yes to ``chosen``: record the grant, issue a code, build the redirect."""
    client = request.client
    if (
        client.publishing_status == "testing"
        and client.test_users is not None
        and user.email.lower() not in client.test_users
    ):
        raise RedirectError(
            "access_denied", "The app is in Testing and this user is not a test user."
        )
    granted = [s for s in request.scopes if s in chosen]
    if not granted:
        raise RedirectError("access_denied")
    now = world.now()
    grant, first_consent = record_grant(world, client, user, granted)
    token_scopes = set(granted) | (grant.scopes if request.include_granted_scopes else set())
    issue_refresh = client.type == "installed" or (
        request.access_type == "offline" and (first_consent or "consent" in request.prompt)
    )
    code = AuthCode(
        value="4/0A" + secrets.token_urlsafe(60),
        request=request,
        user=user,
        scopes=frozenset(sc.granted_with_openid(token_scopes)),
        issue_refresh_token=issue_refresh,
        expires_at=now + world.config.code_lifetime,
    )
    world.codes[code.value] = code
    ordered = [s for s in (*request.scopes, *sorted(code.scopes)) if s in code.scopes]
    return redirect_to(
        request,
        code=code.value,
        scope=sc.redirect_form(dict.fromkeys(ordered)),
        authuser="0",
        prompt="consent" if "none" not in request.prompt else "none",
        iss=ISSUER,
    )


def record_grant(
    world: World, client: Client, user: User, granted: list[str]
) -> tuple[Grant, bool]:
    """Add ``granted`` to what ``user`` has allowed ``client``; True when this is the first time."""
    key = (user.sub, client.client_id)
    grant = world.grants.get(key)
    first_consent = grant is None
    if grant is None:
        grant = world.grants[key] = Grant(
            user=user, client=client, scopes=set(), consented_at=world.now()
        )
    grant.scopes.update(granted)
    grant.consented_at = world.now()
    user.reauth_required = False
    return grant, first_consent


def redirect_to(request: AuthRequest, **params: str) -> str:
    query: dict[str, str] = {}
    if request.state is not None:
        query["state"] = request.state
    query.update(params)
    sep = "&" if "?" in request.redirect_uri else "?"
    # Google leaves ``/`` and ``:`` unescaped (``code=4/0A...``, ``scope=https://...``) and
    # writes spaces as %20, so the code a person copies from the address bar is usable as is.
    return request.redirect_uri + sep + urlencode(query, quote_via=quote, safe="/:")


def error_redirect(request: AuthRequest, error: RedirectError) -> str:
    return redirect_to(request, error=error.error)
