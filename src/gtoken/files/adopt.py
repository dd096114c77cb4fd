"""Adopting an imported grant: prove its refresh token works, learn whose it is, store it."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from gtoken.errors import (
    ConsentRequired,
    InvalidClient,
    InvalidGrant,
    ProtocolError,
    UnauthorizedClient,
)
from gtoken.files.imported import Imported
from gtoken.oauth.clients import ClientSecrets
from gtoken.oauth.token import Token
from gtoken.refresh import Grant, consent_reason, keep_refresh_token, refresh_answer
from gtoken.store import AccountRecord
from gtoken.tokeninfo import TokenInfo, parse_tokeninfo

if TYPE_CHECKING:
    from gtoken.accounts import Accounts
    from gtoken.transport import Transport

__all__ = ["adopt_imported"]

_LOGIN = "Sign in with gtoken login --client-secrets client_secret.json instead."


def adopt_imported(accounts: Accounts, imported: Imported) -> AccountRecord:
    """Store ``imported`` as an account of ``accounts`` (and make it the default).

    First one refresh, which proves the refresh token works and brings a fresh access token with
    the scopes Google granted; then tokeninfo, which names the Google account (``sub``, and the
    email when the email scope was granted; else the file's ``account``). With
    ``GTOKEN_EMULATOR_HOST`` set, the token endpoint is the emulator's whatever the file says.

    Raises ConsentRequired when Google refuses the refresh token, InvalidClient or
    UnauthorizedClient when it refuses the file's client, ProtocolError when it does not say whose
    the token is, and the transport's and Google's other errors; nothing is stored then.
    """
    client = accounts.endpoints.client(imported.client)
    transport = accounts.refresher.transport()
    now = datetime.fromtimestamp(accounts.clock(), UTC)
    token = _refresh(transport, client, imported, now=now)
    tokeninfo = accounts.issuers.of(client.token_uri).endpoint(
        "tokeninfo", to=f"learn whose the token in {imported.source} is"
    )
    sub, owner = _tokeninfo(transport, tokeninfo, token.access_token, now=now)
    if owner.scopes:  # Google's word on this very access token
        token = dataclasses.replace(token, scopes=owner.scopes)
    email = owner.email if owner.email and "@" in owner.email else imported.email
    return accounts.adopt(client, token, sub=sub, email=email)


def _refresh(
    transport: Transport, client: ClientSecrets, imported: Imported, *, now: datetime
) -> Token:
    try:
        answer = refresh_answer(
            transport, client, imported.refresh_token, now=now, scopes=imported.scopes or ()
        )
    except InvalidGrant as exc:
        refused = f"the refresh token in {imported.source} no longer works; Google refused it"
        raise ConsentRequired(
            imported.email or imported.source,
            consent_reason(exc, refused),
            likely_causes=exc.likely_causes,
            hint=f"Nothing was stored. {_LOGIN}",
        ) from exc
    except (InvalidClient, UnauthorizedClient) as exc:
        raise type(exc)(
            f"{exc.summary} The client is {client.client_id}, from {imported.source}.",
            error=exc.error,
            description=exc.description,
            status=exc.status,
            subtype=exc.subtype,
            hint=f"Nothing was stored. {_LOGIN}",
        ) from exc
    held = Grant(key=imported.source, label=imported.source, refresh_token=imported.refresh_token)
    return keep_refresh_token(held, answer)


def _tokeninfo(
    transport: Transport, url: str, access_token: str, *, now: datetime
) -> tuple[str, TokenInfo]:
    """Whose ``access_token`` is (Google's ``sub``), and the rest tokeninfo says about it."""
    # A form POST, which Google's tokeninfo accepts too: the token stays out of URLs and logs.
    response = transport.request(
        "POST",
        url,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
        content=urlencode({"access_token": access_token}).encode("ascii"),
    )
    info = parse_tokeninfo(response.status, response.headers, response.body, now=now)
    if not info.sub:
        raise ProtocolError(
            "Google's tokeninfo does not say which Google account the imported token belongs to "
            "(no 'sub'; its scopes may include none of openid, email and profile), so gtoken "
            "cannot store it apart from other accounts. Nothing was stored.",
            hint=_LOGIN,
        )
    return info.sub, info
