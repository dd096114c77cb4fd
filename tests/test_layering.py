"""The parts of gtoken import one another only downwards (docs/architecture.md).

The import graph is built from the source files with ``ast``: every ``import`` at any depth
(inside functions too, where the lazy imports are), except those under ``if TYPE_CHECKING``, which
never run. A part is ``gtoken.<name>``: a top-level module or a subpackage.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[1] / "src"

#: What each part of the core may import, besides itself and the shared leaves. The order is the
#: layering: a part only imports parts listed before it.
CORE: dict[str, set[str]] = {
    "gtoken.oauth": set(),
    "gtoken.store": set(),
    "gtoken.transport": {"gtoken.oauth"},
    "gtoken.endpoints": {"gtoken.oauth"},
    "gtoken.tokeninfo": {"gtoken.oauth"},
    "gtoken.refresh": {"gtoken.oauth", "gtoken.transport"},
    "gtoken.flows": {"gtoken.oauth", "gtoken.transport"},
    "gtoken.accounts": {
        "gtoken.oauth",
        "gtoken.store",
        "gtoken.transport",
        "gtoken.endpoints",
        "gtoken.refresh",
        "gtoken.flows",
    },
    "gtoken.files": {"gtoken.oauth", "gtoken.store", "gtoken.refresh", "gtoken.tokeninfo"},
    "gtoken.service_accounts": {"gtoken.oauth", "gtoken.store", "gtoken.refresh", "gtoken.files"},
    "gtoken.resolve": {
        "gtoken.oauth",
        "gtoken.store",
        "gtoken.flows",
        "gtoken.accounts",
        "gtoken.files",
        "gtoken.service_accounts",
    },
    "gtoken.async_accounts": {"gtoken.oauth", "gtoken.store", "gtoken.refresh", "gtoken.accounts"},
    "gtoken.adapters": {
        "gtoken.refresh",
        "gtoken.accounts",
        "gtoken.resolve",
        "gtoken.async_accounts",
    },
    "gtoken.vault": {
        "gtoken.oauth",
        "gtoken.store",
        "gtoken.transport",
        "gtoken.endpoints",
        "gtoken.refresh",
        "gtoken.files",
        "gtoken.adapters",
    },
    "gtoken.aio": {
        "gtoken.oauth",
        "gtoken.store",
        "gtoken.refresh",
        "gtoken.accounts",
        "gtoken.files",
        "gtoken.resolve",
        "gtoken.async_accounts",
        "gtoken.adapters",
        "gtoken.vault",
    },
    "gtoken.api": {
        "gtoken.oauth",
        "gtoken.accounts",
        "gtoken.files",
        "gtoken.service_accounts",
        "gtoken.resolve",
        "gtoken.adapters",
    },
}
#: Modules every part may import: the error tree, redaction, the store's format (standard library
#: only), and the ``gtoken`` package itself (which loads its names lazily).
SHARED_LEAVES = {"gtoken", "gtoken.errors", "gtoken.redact", "gtoken.store.format"}
#: The faces over the core: they may import any of it, and nothing in the core imports them.
FACES = {"gtoken.cli", "gtoken.doctor", "gtoken.__main__", "gtoken.broker"}
#: Servers of their own, which talk to the core over HTTP only.
SERVERS = {"gtoken.emulator"}


def module_name(path: Path, source: Path) -> str:
    parts = list(path.relative_to(source).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, name: str) -> Iterator[str]:
    """The gtoken modules ``path`` (module ``name``) imports, at any depth, except under
    ``if TYPE_CHECKING``."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in _walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        yield from (t for t in targets if t == "gtoken" or t.startswith("gtoken."))


def _walk(node: ast.AST) -> Iterator[ast.AST]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
            yield from (n for orelse in child.orelse for n in [orelse, *_walk(orelse)])
            continue
        yield child
        yield from _walk(child)


def part_of(module: str) -> str:
    return ".".join(module.split(".")[:2])


def graph(source: Path = SOURCE) -> dict[str, set[str]]:
    """Each gtoken module and the modules it imports (only those that exist)."""
    paths = {module_name(p, source): p for p in source.rglob("*.py")}
    return {name: {t for t in imports_of(p, name) if t in paths} for name, p in paths.items()}


def violations(edges: dict[str, set[str]]) -> list[str]:
    found = []
    for module, targets in sorted(edges.items()):
        part = part_of(module)
        for target in sorted(targets):
            other = part_of(target)
            if other == part or target in SHARED_LEAVES:
                continue
            if part in SERVERS:
                found.append(f"{module} imports {target}: a server imports nothing of the rest")
            elif part == "gtoken.broker" and other in ("gtoken.cli", "gtoken.emulator"):
                found.append(f"{module} imports {target}: the broker may not import {other}")
            elif part in CORE and other not in CORE[part]:
                found.append(f"{module} imports {target}: {part} may not import {other}")
            elif part not in CORE | dict.fromkeys(FACES | SERVERS):
                found.append(f"{module} is in no part of docs/architecture.md ({part})")
    return found


def test_every_part_imports_only_what_it_may() -> None:
    assert violations(graph()) == []


def test_the_layers_have_no_cycle() -> None:
    order = list(CORE)
    for part, allowed in CORE.items():
        assert allowed <= set(order[: order.index(part)]), f"{part} may import a later part"


def test_every_module_belongs_to_a_part() -> None:
    parts = {part_of(m) for m in graph()} - {"gtoken"} - SHARED_LEAVES
    assert parts <= set(CORE) | FACES | SERVERS, parts - set(CORE) - FACES - SERVERS


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        ("gtoken/refresh/engine.py", "from gtoken.cli.output import Io", "gtoken.refresh may not"),
        ("gtoken/store/sqlite.py", "import gtoken.emulator.model", "gtoken.store may not"),
        ("gtoken/oauth/token.py", "from gtoken.accounts import Accounts", "gtoken.oauth may not"),
        ("gtoken/emulator/app.py", "from gtoken.oauth import Token", "a server imports nothing"),
        ("gtoken/resolve.py", "    from gtoken.api import credentials", "gtoken.resolve may not"),
    ],
)
def test_a_bad_import_is_caught(tmp_path: Path, module: str, line: str, broken: str) -> None:
    """The check fails when the source breaks a rule (each rule once), lazy imports included."""
    copy = tmp_path / "src"
    for path in SOURCE.rglob("*.py"):
        target = copy / path.relative_to(SOURCE)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
    bad = copy / module
    text = bad.read_text()
    if line.startswith("    "):
        text += f"\n\ndef _sneaky() -> None:\n{line}\n"
    else:
        text = text.replace(
            "from __future__ import annotations\n",
            f"from __future__ import annotations\n{line}\n",
            1,
        )
    bad.write_text(text)
    found = violations(graph(copy))
    assert any(broken in v for v in found), found


def test_type_checking_imports_do_not_count(tmp_path: Path) -> None:
    module = tmp_path / "gtoken" / "oauth" / "x.py"
    module.parent.mkdir(parents=True)
    module.write_text("TYPE_CHECKING = False\nif TYPE_CHECKING:\n    from gtoken.cli import Io\n")
    (tmp_path / "gtoken" / "cli.py").write_text("")
    assert violations(graph(tmp_path)) == []


def test_the_architecture_page_states_these_rules() -> None:
    doc = (SOURCE.parent / "docs" / "architecture.md").read_text()
    table = doc.split("## What each part may import", 1)[1].split("\n\n")[2]
    stated = {}
    for row in table.splitlines()[2:]:
        part, allowed = (cell.strip() for cell in row.strip("|").split("|"))
        if part.strip("`") in CORE:
            names = {w.strip() for w in allowed.split(",")} - {"(leaves only)"}
            stated[part.strip("`")] = {f"gtoken.{n}" for n in names}
    assert stated == CORE
