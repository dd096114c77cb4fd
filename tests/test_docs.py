"""Docs that cannot rot: every control call and tunable of the emulator is documented."""

from __future__ import annotations

import re
from pathlib import Path

from gtoken.emulator.endpoints import control
from gtoken.emulator.model import Config, World

ROOT = Path(__file__).resolve().parent.parent
EMULATOR_DOC = (ROOT / "docs" / "emulator.md").read_text()
README = (ROOT / "README.md").read_text()


def test_every_control_route_is_documented() -> None:
    for route in control.routes(World()):
        path = route.path
        methods = sorted((route.methods or set()) - {"HEAD"})
        rows = " ".join(line for line in EMULATOR_DOC.splitlines() if f" {path}`" in line)
        assert rows, f"{path} is not in docs/emulator.md"
        for method in methods:
            assert re.search(rf"\b{method}\b", rows), f"{method} {path} is not in its row"


def test_every_tunable_is_documented_with_its_default() -> None:
    defaults = Config()
    for name in Config.names():
        row = next((line for line in EMULATOR_DOC.splitlines() if f"| `{name}` |" in line), None)
        assert row is not None, f"tunable {name} is not in docs/emulator.md"
        assert f"| {getattr(defaults, name)} |" in row, f"the default of {name} is wrong"


def test_readme_opens_with_the_demo_and_test_commands() -> None:
    commands = re.findall(r"^\./dev (\w+)", README.split("\n\n", 2)[1], flags=re.M)
    assert commands == ["demo", "test"]
    assert "./dev test" in (ROOT / ".ci" / "run").read_text()
