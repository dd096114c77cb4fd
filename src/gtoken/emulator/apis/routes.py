"""Routes of the API slices: Gmail, Drive and Sheets, then Google-style 404s for the rest."""

from __future__ import annotations

from starlette.routing import BaseRoute

from gtoken.emulator.apis import drive, gmail, sheets
from gtoken.emulator.apis.common import not_found_route
from gtoken.emulator.model import World


def routes(world: World) -> list[BaseRoute]:
    return [
        *gmail.routes(world),
        *drive.routes(world),
        *sheets.routes(world),
        not_found_route("/gmail/"),
        not_found_route("/drive/"),
        not_found_route("/v4/spreadsheets/"),
    ]
