"""The oauth package's surface, and its promise of no I/O."""

from __future__ import annotations

import ast
from pathlib import Path

import gtoken.oauth as oauth

SOURCE = Path(oauth.__file__).parent

# The standard library modules the protocol may use; nothing that talks to the world.
ALLOWED_IMPORTS = {
    "__future__",
    "base64",
    "binascii",
    "collections.abc",
    "dataclasses",
    "datetime",
    "hashlib",
    "hmac",
    "ipaddress",
    "json",
    "re",
    "secrets",
    "types",
    "typing",
    "urllib.parse",
}
FORBIDDEN_CALLS = {"now", "utcnow", "today", "time", "monotonic", "open", "getenv", "sleep"}


def test_every_exported_name_exists_and_is_documented():
    assert sorted(oauth.__all__) == oauth.__all__
    aliases = {"Grant", "RequestKind"}  # Literal types, documented where they are defined
    for name in set(oauth.__all__) - aliases:
        value = getattr(oauth, name)
        assert value.__doc__, f"{name} has no docstring"


def imports(tree: ast.Module) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


# gtoken's modules that everything may import: the error tree, redaction, and the store's format
# (facts and rules in the standard library only, such as the canonical forms of scopes).
SHARED_LEAVES = ("gtoken.errors", "gtoken.redact", "gtoken.store.format")


def test_the_protocol_does_no_io():
    for path in SOURCE.glob("*.py"):
        tree = ast.parse(path.read_text())
        outside = {
            name
            for name in imports(tree)
            if not name.startswith("gtoken.oauth") and name not in SHARED_LEAVES
        } - ALLOWED_IMPORTS
        assert not outside, f"{path.name} imports {outside}"
        calls = {
            node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
        }
        assert not calls & FORBIDDEN_CALLS, f"{path.name} calls {calls & FORBIDDEN_CALLS}"
