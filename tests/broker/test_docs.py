"""docs/broker.md cannot rot: each setting is documented once, with its flag and variable, and
every route and webhook event is named."""

from __future__ import annotations

from pathlib import Path

from gtoken.broker.app import create_app
from gtoken.broker.settings import SETTINGS
from gtoken.broker.webhooks import EVENT_TYPES
from tests.broker.conftest import Served

DOC = (Path(__file__).resolve().parents[2] / "docs" / "broker.md").read_text()


def test_every_setting_is_documented_once() -> None:
    rows = [line for line in DOC.splitlines() if line.startswith("| `")]
    for setting in SETTINGS:
        mine = [r for r in rows if r.startswith(f"| `{setting.name}` |")]
        assert len(mine) == 1, setting.name
        assert f"`{setting.flag}`" in mine[0]
        assert f"`{setting.env}`" in mine[0]


def test_every_route_and_event_is_named(served: Served) -> None:
    app = create_app(served.broker)
    for path in app.openapi()["paths"]:
        assert path.split("/{")[0] in DOC, path
    for event in EVENT_TYPES.values():
        assert f"`{event}`" in DOC
