"""Who issued an account's tokens, where that issuer's other endpoints are, and what its ID
tokens must say.

A token or secret goes only to the issuer it came from (DESIGN invariant 8). An account knows its
token endpoint (from ``client_secret.json``); revoke, tokeninfo, userinfo and the device flow are
that issuer's too: Google's fixed set for Google, and for any other server the endpoints its
discovery document (``/.well-known/openid-configuration``) names on the token endpoint's own
host. Nothing here sends anything: :mod:`gtoken.issuers` fetches the document.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

from gtoken.errors import ConfigError, ProtocolError
from gtoken.oauth import endpoints
from gtoken.redact import fingerprint

__all__ = [
    "ID_TOKEN_SKEW",
    "Issuer",
    "check_id_token",
    "discovery_urls",
    "google",
    "is_google",
    "parse_discovery",
    "parse_userinfo",
]

#: How far an ID token's ``exp`` may be in the past, for clocks that disagree a little.
ID_TOKEN_SKEW: Final = 300
_WELL_KNOWN: Final = "/.well-known/openid-configuration"
# At most this many path prefixes of the token endpoint are tried as the issuer.
_MAX_CANDIDATES: Final = 4


@dataclass(frozen=True, kw_only=True)
class Issuer:
    """One OAuth server's endpoints. ``issuers`` are the ``iss`` values its ID tokens carry;
    an endpoint it does not offer (or offers on another host) is None. ``tokeninfo`` is Google's
    own (Google and stand-ins that say they are Google)."""

    name: str
    issuers: frozenset[str]
    token: str
    revoke: str | None = None
    userinfo: str | None = None
    device: str | None = None
    tokeninfo: str | None = None

    @property
    def host(self) -> str:
        """The token endpoint's host, as people see it in messages."""
        return urlsplit(self.token).netloc

    def endpoint(self, which: str, *, to: str) -> str:
        """The URL of endpoint ``which`` (``revoke``, ``userinfo``, ``device``, ``tokeninfo``);
        raises ConfigError saying ``to`` (what it was needed for) cannot be done without it."""
        url: str | None = getattr(self, which)
        if url is None:
            raise ConfigError(
                f"cannot {to}: the OAuth server at {self.host} offers no {which} endpoint on "
                "that host",
                hint="gtoken sends a token only to the server that issued it; do this at that "
                "server's own pages instead.",
            )
        return url


def google(
    *,
    token: str = endpoints.TOKEN_URI,
    revoke: str = endpoints.REVOKE_URI,
    userinfo: str = endpoints.USERINFO_URI,
    device: str = endpoints.DEVICE_URI,
    tokeninfo: str = endpoints.TOKENINFO_URI,
) -> Issuer:
    """Google (by default its real endpoints; the emulator passes its own)."""
    return Issuer(
        name=endpoints.ISSUER,
        issuers=endpoints.ISSUERS,
        token=token,
        revoke=revoke,
        userinfo=userinfo,
        device=device,
        tokeninfo=tokeninfo,
    )


def is_google(token_uri: str) -> bool:
    """Whether ``token_uri`` is one of Google's token endpoints."""
    parts = urlsplit(token_uri)
    return parts.scheme == "https" and (parts.hostname or "") in endpoints.TOKEN_HOSTS


def discovery_urls(token_uri: str) -> list[str]:
    """Where the discovery document of ``token_uri``'s server may be: after each path prefix of
    the token endpoint (an issuer may have a path, as ``https://host/realms/x`` does), longest
    first, then the host's root."""
    parts = urlsplit(token_uri)
    segments = [s for s in parts.path.split("/") if s][:-1]  # the endpoint's own name is not it
    prefixes = ["/".join(segments[:n]) for n in range(len(segments), 0, -1)][: _MAX_CANDIDATES - 1]
    paths = [f"/{prefix}{_WELL_KNOWN}" for prefix in prefixes] + [_WELL_KNOWN]
    return [urlunsplit((parts.scheme, parts.netloc, path, "", "")) for path in paths]


def parse_discovery(body: bytes | str, *, token_uri: str) -> Issuer | None:
    """The issuer a discovery document describes, when it names ``token_uri`` as its token
    endpoint (None otherwise: the document is some other server's).

    Endpoints on another host than the token endpoint's, or over plain http to a host that is not
    this machine, are left out: no token is sent there."""
    try:
        data: Any = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, Mapping) or data.get("token_endpoint") != token_uri:
        return None
    issuer = data.get("issuer")
    if not isinstance(issuer, str) or not issuer:
        raise ProtocolError(
            f"The discovery document of the OAuth server at {urlsplit(token_uri).netloc} names "
            "no issuer."
        )

    def beside(name: str) -> str | None:
        url = data.get(name)
        if not isinstance(url, str) or endpoints.url_problem(url) is not None:
            return None
        return url if _same_host(url, token_uri) else None

    # A server that says it is Google speaks Google's protocol: its tokeninfo is beside its token
    # endpoint, as Google's is (the gtoken emulator reached without GTOKEN_EMULATOR_HOST).
    tokeninfo = None
    if issuer in endpoints.ISSUERS:
        parts = urlsplit(token_uri)
        tokeninfo = urlunsplit((parts.scheme, parts.netloc, "/tokeninfo", "", ""))
    return Issuer(
        name=issuer,
        issuers=endpoints.ISSUERS if issuer in endpoints.ISSUERS else frozenset({issuer}),
        token=token_uri,
        revoke=beside("revocation_endpoint"),
        userinfo=beside("userinfo_endpoint"),
        device=beside("device_authorization_endpoint"),
        tokeninfo=tokeninfo,
    )


def _same_host(url: str, other: str) -> bool:
    one, two = urlsplit(url), urlsplit(other)
    return (one.scheme, one.hostname, one.port) == (two.scheme, two.hostname, two.port)


def check_id_token(
    claims: Mapping[str, Any], *, issuer: Issuer, client_id: str, now: datetime
) -> None:
    """Check what OpenID Connect Core 3.1.3.7 asks of an ID token received from the token
    endpoint: it is ``issuer``'s (``iss``), for this client (``aud``, and ``azp`` when there are
    several audiences), and not expired (``exp``, with :data:`ID_TOKEN_SKEW` seconds of
    leeway). Raises ProtocolError naming the claim."""
    where = f"the ID token from {issuer.host}"
    iss = claims.get("iss")
    if iss not in issuer.issuers:
        raise ProtocolError(
            f"{where} was issued by {_shown(iss)}, not by {issuer.name}: it is not this "
            "server's answer, so the login is refused."
        )
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    if client_id not in audiences or (len(audiences) > 1 and claims.get("azp") != client_id):
        raise ProtocolError(
            f"{where} is meant for another client ({_shown(aud)}), not {client_id}: the "
            "login is refused."
        )
    exp = claims.get("exp")
    if isinstance(exp, bool) or not isinstance(exp, int | float):
        raise ProtocolError(f"{where} has no expiry (exp); the login is refused.")
    if exp + ID_TOKEN_SKEW < now.timestamp():
        raise ProtocolError(
            f"{where} expired at {datetime.fromtimestamp(exp, UTC).isoformat()}: an old "
            "answer replayed, or this machine's clock is wrong.",
            hint="Check the clock (timedatectl), then sign in again.",
        )


def _shown(value: object) -> str:
    if isinstance(value, str):
        return repr(value[:100]) if len(value) < 100 else fingerprint(value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ", ".join(_shown(v) for v in value[:5])
    return "nothing" if value is None else f"a {type(value).__name__}"


def parse_userinfo(status: int, body: bytes | str, *, sub: str) -> str | None:
    """The e-mail address in a userinfo answer about the account ``sub``; None when the answer
    is an error, names no address, or is about another account (which OpenID Connect Core
    5.3.2 says must not be used)."""
    if status != 200:
        return None
    try:
        data: Any = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, Mapping) or data.get("sub", sub) != sub:
        return None
    email = data.get("email")
    return email if isinstance(email, str) and email else None
