"""A small Python client for the emulator's control API, for gtoken's tests and for yours.

    emu = Emulator("http://127.0.0.1:8089")
    secrets = emu.create_client(type="installed")
    emu.create_user("ada@example.com")
    emu.consent_auto(email="ada@example.com")

Only ``httpx`` is needed; the emulator itself may run anywhere reachable.
"""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import quote

import httpx


class EmulatorError(RuntimeError):
    """A control call was refused; the message carries the emulator's explanation."""


class Emulator:
    """The control API of one running emulator at ``url`` (``http://host:port``)."""

    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self._http = httpx.Client(base_url=self.url, timeout=timeout)

    def __repr__(self) -> str:
        return f"Emulator({self.url!r})"

    @property
    def host(self) -> str:
        """``host:port``, the value for ``GTOKEN_EMULATOR_HOST``."""
        return self.url.split("://", 1)[1]

    def api_endpoint(self, api: Literal["gmail", "drive", "sheets"]) -> str:
        """What to pass as ``client_options={"api_endpoint": ...}`` to ``googleapiclient``."""
        return f"{self.url}/drive/v3/" if api == "drive" else f"{self.url}/"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Emulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self._http.request(method, "/_emulator" + path, json=body)
        if response.status_code >= 400:
            try:
                detail = response.json().get("error_description", response.text)
            except ValueError:
                detail = response.text
            raise EmulatorError(f"{method} /_emulator{path}: {response.status_code} {detail}")
        return response.json() if response.content else None

    def health(self) -> bool:
        try:
            return self._http.get("/_emulator/health").status_code == 200
        except httpx.TransportError:
            return False

    def create_client(
        self,
        *,
        type: Literal["installed", "web"] = "installed",
        redirect_uris: list[str] | None = None,
        publishing_status: Literal["production", "testing"] = "production",
        name: str | None = None,
        test_users: list[str] | None = None,
    ) -> dict[str, Any]:
        """A new OAuth client; returns its ``client_secret.json`` content."""
        body: dict[str, Any] = {"type": type, "publishing_status": publishing_status}
        if redirect_uris is not None:
            body["redirect_uris"] = redirect_uris
        if name is not None:
            body["name"] = name
        if test_users is not None:
            body["test_users"] = test_users
        result: dict[str, Any] = self._call("POST", "/clients", body)
        return result

    def create_user(self, email: str, name: str | None = None) -> dict[str, Any]:
        body = {"email": email} if name is None else {"email": email, "name": name}
        result: dict[str, Any] = self._call("POST", "/users", body)
        return result

    def create_service_account(
        self, *, client_email: str | None = None, delegation_scopes: list[str] | None = None
    ) -> dict[str, Any]:
        """A new service account; returns its key file content (a real RSA key)."""
        body: dict[str, Any] = {}
        if client_email is not None:
            body["client_email"] = client_email
        if delegation_scopes is not None:
            body["delegation_scopes"] = delegation_scopes
        result: dict[str, Any] = self._call("POST", "/service-accounts", body)
        return result

    def consent_auto(
        self, *, email: str | None = None, grant: Literal["all", "deny"] | list[str] = "all"
    ) -> None:
        """Answer authorization requests at once, as ``email``, granting ``grant``."""
        body: dict[str, Any] = {"mode": "auto", "grant": grant}
        if email is not None:
            body["email"] = email
        self._call("POST", "/consent", body)

    def consent_interactive(self) -> None:
        """Show the consent page to whoever follows the authorization URL."""
        self._call("POST", "/consent", {"mode": "interactive"})

    def configure(self, **settings: int) -> dict[str, int]:
        result: dict[str, int] = self._call("POST", "/config", settings)
        return result

    def advance(self, seconds: float) -> None:
        """Move the emulator's clock forward."""
        self._call("POST", "/clock", {"advance": seconds})

    def fault(
        self,
        endpoint: str,
        *,
        status: int | None = None,
        count: int = 1,
        delay: float = 0,
        drop: bool = False,
        retry_after: int | None = None,
        error: str | None = None,
    ) -> None:
        """Make the next ``count`` requests to ``endpoint`` fail, slow down or drop."""
        body: dict[str, Any] = {"endpoint": endpoint, "count": count, "delay": delay, "drop": drop}
        for name, value in (("status", status), ("retry_after", retry_after), ("error", error)):
            if value is not None:
                body[name] = value
        self._call("POST", "/faults", body)

    def faults(self) -> list[dict[str, Any]]:
        """The faults still waiting to be played."""
        result: list[dict[str, Any]] = self._call("GET", "/faults")["faults"]
        return result

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def revoke_user(self, email: str) -> None:
        """The user removes every app's access from their Google Account."""
        self._call("POST", f"/users/{quote(email)}/revoke")

    def change_password(self, email: str) -> None:
        """The user changes password: refresh tokens with Gmail scopes die."""
        self._call("POST", f"/users/{quote(email)}/password-change")

    def require_reauth(self, email: str) -> None:
        """Workspace session control: the user's refreshes fail with ``invalid_rapt``."""
        self._call("POST", f"/users/{quote(email)}/require-reauth")

    def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/stats")
        return result

    def issued(self) -> set[str]:
        """Every secret the emulator handed out since the last reset."""
        lists: dict[str, list[str]] = self._call("GET", "/issued")
        return {secret for values in lists.values() for secret in values}

    def reset(self) -> None:
        self._call("POST", "/reset")
