"""Routes of the API slices."""

from __future__ import annotations

from starlette.routing import BaseRoute

from gtoken.emulator.model import World


def routes(world: World) -> list[BaseRoute]:
    return []
