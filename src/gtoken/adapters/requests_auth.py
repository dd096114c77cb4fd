"""gtoken's tokens for requests: ``requests.get(url, auth=gtoken.requests_auth(["drive.file"]))``.

Each request gets ``Authorization: Bearer <token>``, kept in memory while it has more than
``min_ttl`` seconds to live and taken from the store (refreshed there, once, however many ask)
when it has less. A 401 is answered, in a response hook, by one refresh with the refused token
marked as rejected and one resend; if the resend is refused too, its 401 is returned as it is.
A request whose body is a file or a generator is not resent: its 401 is returned, and the next
request carries the new token. When the refresh itself fails (the person revoked access, say) its
error is raised: ``ConsentRequired`` says what to do, a bare 401 would not.

requests is not one of gtoken's dependencies: this module needs it installed (google-auth's
``requests`` transport brings it along).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

try:
    import requests
    from requests.auth import AuthBase
    from requests.cookies import extract_cookies_to_jar
except ImportError as exc:  # pragma: no cover - requests is installed where this is tested
    raise ImportError("gtoken.RequestsAuth needs requests: pip install requests") from exc

from gtoken import resolve
from gtoken.accounts import Accounts
from gtoken.adapters.bearer import Bearer
from gtoken.refresh import DEFAULT_MIN_TTL

__all__ = ["RequestsAuth", "requests_auth"]


class RequestsAuth(AuthBase):
    """``requests`` auth with a stored account's access token, refreshed by gtoken. Made by
    :func:`gtoken.requests_auth`."""

    def __init__(
        self, accounts: Accounts, account_id: str, *, min_ttl: float = DEFAULT_MIN_TTL
    ) -> None:
        self._bearer = Bearer(accounts, account_id, min_ttl=min_ttl)

    def __repr__(self) -> str:
        return f"gtoken.RequestsAuth(account={self._bearer.label!r})"

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._bearer.current()}"
        request.register_hook("response", self._after)
        return request

    def _after(self, response: requests.Response, **send: Any) -> requests.Response:
        """On a 401: refresh, and resend once (the resent request runs no gtoken hook)."""
        if response.status_code != 401:
            return response
        refused = _bearer_token(response.request.headers.get("Authorization"))
        if refused is None:  # another hook or auth replaced the header: not gtoken's to answer
            return response
        renewed = self._bearer.renewed(refused)
        if not _replayable(response.request):
            return response
        return _resend(response, f"Bearer {renewed}", send, without=self._after)


def _bearer_token(header: str | bytes | None) -> str | None:
    if not isinstance(header, str) or not header.startswith("Bearer "):
        return None
    return header.removeprefix("Bearer ")


def _replayable(request: requests.PreparedRequest) -> bool:
    return request.body is None or isinstance(request.body, str | bytes)


def _resend(
    response: requests.Response, authorization: str, send: dict[str, Any], *, without: Any
) -> requests.Response:
    """``response``'s request again with another Authorization header, as requests' own
    ``HTTPDigestAuth`` resends after a 401."""
    response.content  # noqa: B018 - read it all, so that the connection can be reused
    response.close()
    request = response.request.copy()
    # copy() shares the hooks dict with the original: give the resend its own, without ours.
    request.hooks = {
        event: [hook for hook in hooks if hook != without]
        for event, hooks in response.request.hooks.items()
    }
    jar = request._cookies
    if jar is not None:  # cookies the 401 set go with the resend
        extract_cookies_to_jar(jar, response.request, response.raw)
        request.prepare_cookies(jar)
    request.headers["Authorization"] = authorization
    again: requests.Response = response.connection.send(request, **send)
    again.history.append(response)
    again.request = request
    return again


def requests_auth(
    scopes: Iterable[str] = (),
    *,
    account: str | None = None,
    client_secrets: resolve.ClientSecretsArg = None,
    login: resolve.Login = "auto",
    env: Mapping[str, str] | None = None,
    min_ttl: float = DEFAULT_MIN_TTL,
) -> RequestsAuth:
    """A :class:`RequestsAuth` for the account :func:`gtoken.credentials` with the same arguments
    would use, running consent as it would."""
    accounts, record = resolve.resolve(
        scopes, client_secrets=client_secrets, account=account, login=login, env=env
    )
    return RequestsAuth(accounts, record.id, min_ttl=min_ttl)
