"""Google's JSON error bodies, as the API slices answer with them."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from starlette.responses import JSONResponse

from gtoken.emulator.web import api_error


class ApiError(Exception):
    """A refusal in the error shape of Google's JSON APIs.

    ``status_name`` is the canonical gRPC status; Drive's own errors leave it out, as Drive does.
    """

    def __init__(
        self,
        status: int,
        message: str,
        status_name: str | None,
        *,
        errors: list[dict[str, str]] | None = None,
        details: list[dict[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.status_name = status_name
        self.errors = errors
        self.details = details
        self.headers = dict(headers or {})

    def response(self) -> JSONResponse:
        if self.status_name is not None:
            return api_error(
                self.status,
                self.message,
                self.status_name,
                headers=self.headers,
                errors=self.errors,
                details=self.details,
            )
        error: dict[str, Any] = {"code": self.status, "message": self.message}
        if self.errors:
            error["errors"] = self.errors
        return JSONResponse({"error": error}, status_code=self.status, headers=self.headers)


def error_item(message: str, reason: str, location: str | None = None) -> dict[str, str]:
    """One entry of the ``errors`` list; ``location`` names a query parameter."""
    item = {"message": message, "domain": "global", "reason": reason}
    if location is not None:
        item.update(location=location, locationType="parameter")
    return item


def invalid_argument(message: str, *, field_name: str | None = None) -> ApiError:
    """Google's front end refusing a request it cannot bind (400 ``INVALID_ARGUMENT``)."""
    details: list[dict[str, Any]] | None = None
    if field_name is not None:
        details = [
            {
                "@type": "type.googleapis.com/google.rpc.BadRequest",
                "fieldViolations": [{"field": field_name, "description": message}],
            }
        ]
    return ApiError(
        400,
        message,
        "INVALID_ARGUMENT",
        errors=[error_item(message, "invalid")],
        details=details,
    )


def snake(name: str) -> str:
    """``maxResults`` as Google's error messages spell it: ``max_results``."""
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def bad_value(name: str, type_name: str, value: str) -> ApiError:
    """``Invalid value at 'max_results' (TYPE_UINT32), "abc"``, as Google's front end says."""
    message = f"Invalid value at '{snake(name)}' ({type_name}), {json.dumps(value)}"
    return invalid_argument(message, field_name=snake(name))
