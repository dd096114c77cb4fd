"""The device flow (RFC 8628 as Google runs it): a code to type on another device's browser.

Google allows it only for a few scopes (no Gmail, no Sheets, not all of Drive), so it is checked
before anything is sent; for everything else the paste-back flow is the way without a browser.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Final

from gtoken.errors import (
    AuthorizationPending,
    ConfigError,
    DeviceCodeExpired,
    LoginTimeout,
    SlowDown,
)
from gtoken.flows.console import Console
from gtoken.oauth import scopes as _scopes
from gtoken.oauth.clients import ClientSecrets
from gtoken.oauth.grants import device_authorization, device_poll
from gtoken.oauth.responses import (
    DeviceAuthorization,
    parse_device_authorization,
    parse_token_response,
)
from gtoken.oauth.token import Token
from gtoken.transport import Transport

__all__ = ["check_device_scopes", "device_login"]

#: RFC 8628 3.5: on ``slow_down`` the interval grows by 5 seconds for the rest of the flow.
SLOW_DOWN_SECONDS: Final = 5


def _utcnow() -> datetime:
    return datetime.now(UTC)


_WORDS: Final = {
    _scopes.MAIL: "mail",
    _scopes.AUTH_PREFIX + "userinfo.email": "email",
    _scopes.AUTH_PREFIX + "userinfo.profile": "profile",
}


def short_name(scope: str) -> str:
    """How a person writes ``scope``: ``gmail.readonly`` for its URL, ``mail`` for Gmail's."""
    return _WORDS.get(scope) or scope.removeprefix(_scopes.AUTH_PREFIX)


def check_device_scopes(scopes: Iterable[str]) -> frozenset[str]:
    """``scopes``, canonical, or ConfigError naming those Google refuses in the device flow."""
    wanted = _scopes.canonical(scopes)
    if not wanted:
        raise ValueError("a login needs at least one scope")
    refused = wanted - _scopes.DEVICE_FLOW_SCOPES
    if refused:
        allowed = ", ".join(sorted(short_name(s) for s in _scopes.DEVICE_FLOW_SCOPES))
        raise ConfigError(
            f"The device flow cannot ask for {', '.join(sorted(map(short_name, refused)))}: "
            f"Google allows only {allowed} there.",
            hint=(
                "Use the paste-back flow instead (gtoken login --no-browser, or mode='paste'): "
                "it needs no browser on this machine and allows every scope."
            ),
        )
    return wanted


def device_login(
    client: ClientSecrets,
    scopes: Iterable[str],
    *,
    transport: Transport,
    console: Console,
    device_url: str,
    timeout: float | None = None,
    now: Callable[[], datetime] = _utcnow,
    sleep: Callable[[float], None] = time.sleep,
) -> Token:
    """Sign in with a code the person types at Google's device page; the token they allowed.

    Polls at Google's interval (5 seconds more after each ``slow_down``) until the person
    approves, declines (AccessDenied) or the code expires, or ``timeout`` seconds pass
    (both LoginTimeout). Raises ConfigError, before sending anything, for scopes the device flow
    does not allow.
    """
    wanted = check_device_scopes(scopes)
    started = now()
    reply = transport.send(device_authorization(client, wanted, device_url=device_url))
    grant = parse_device_authorization(
        reply.status, reply.headers, reply.body, now=started, requested_scopes=wanted
    )
    deadline = grant.expires_at
    if timeout is not None:
        deadline = min(deadline, started + timedelta(seconds=timeout))
    _show(console, grant)
    token = _poll(client, grant, wanted, deadline, transport=transport, now=now, sleep=sleep)
    console.say("Signed in.")
    return token


def _show(console: Console, grant: DeviceAuthorization) -> None:
    console.say("To sign in, open this address on a phone or computer:")
    console.say()
    console.say(f"  {console.strong(grant.verification_url)}")
    console.say()
    console.say(f"and enter the code {console.strong(grant.user_code)}")
    console.say()
    console.say("Waiting for you to allow access there… (Ctrl-C to cancel)")


def _poll(
    client: ClientSecrets,
    grant: DeviceAuthorization,
    wanted: frozenset[str],
    deadline: datetime,
    *,
    transport: Transport,
    now: Callable[[], datetime],
    sleep: Callable[[float], None],
) -> Token:
    interval = grant.interval
    while True:
        if now() >= deadline:
            raise _expired(grant, by_google=deadline >= grant.expires_at)
        sleep(interval)
        reply = transport.send(device_poll(client, grant.device_code))
        try:
            return parse_token_response(
                reply.status,
                reply.headers,
                reply.body,
                grant="device_code",
                now=now(),
                requested_scopes=wanted,
            )
        except SlowDown:
            interval += SLOW_DOWN_SECONDS
        except AuthorizationPending:
            continue
        except DeviceCodeExpired:
            raise _expired(grant, by_google=True) from None


def _expired(grant: DeviceAuthorization, *, by_google: bool) -> LoginTimeout:
    said = "The device code expired" if by_google else "The time given for this sign-in ran out"
    return LoginTimeout(
        f"{said} before access was allowed at {grant.verification_url}.",
        hint="Run the login again and enter the new code in time.",
    )
