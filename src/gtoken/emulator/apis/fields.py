"""Partial responses: the ``fields`` parameter (``nextPageToken,files(id,name)``, ``files/id``).

A selection is parsed into a :data:`Mask`, a tree of field names where ``None`` means "the whole
value". Applying a mask keeps only the selected keys, descending through lists element by element.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

Mask = dict[str, "Mask | None"]
#: The fields a response can have, for checking a selection; ``None`` marks a leaf.
Schema = Mapping[str, "Schema | None"]

#: How deep selections may nest; responses are not deeper than this.
MAX_DEPTH = 16
_NAME = re.compile(r"[A-Za-z0-9_@$.\-]+|\*")


class FieldsError(ValueError):
    """A selection that does not parse, or names a field the response does not have."""

    def __init__(self, selection: str) -> None:
        super().__init__(f"Invalid field selection {selection}")
        self.selection = selection


def parse(text: str) -> Mask:
    """The mask of a ``fields`` value; :class:`FieldsError` when it is not one."""
    parser = _Parser(text)
    mask = parser.selection()
    parser.skip_spaces()
    if parser.pos != len(text):
        raise FieldsError(text[parser.pos :] or text)
    return mask


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.depth = 0

    def skip_spaces(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek(self, char: str) -> bool:
        self.skip_spaces()
        return self.text.startswith(char, self.pos)

    def selection(self) -> Mask:
        mask: Mask = {}
        while True:
            path = self.path()
            sub: Mask | None = None
            if self.peek("("):
                self.pos += 1
                self.depth += 1
                if self.depth > MAX_DEPTH:
                    raise FieldsError(self.text[: self.pos])
                sub = self.selection()
                self.depth -= 1
                if not self.peek(")"):
                    raise FieldsError(self.text)
                self.pos += 1
            _merge(mask, path, sub)
            if not self.peek(","):
                return mask
            self.pos += 1

    def path(self) -> list[str]:
        names = [self.name()]
        while self.peek("/"):
            self.pos += 1
            names.append(self.name())
        return names

    def name(self) -> str:
        self.skip_spaces()
        match = _NAME.match(self.text, self.pos)
        if match is None:
            raise FieldsError(self.text[self.pos :] or self.text)
        self.pos = match.end()
        return match.group()


def _merge(mask: Mask, path: list[str], sub: Mask | None) -> None:
    node = mask
    for name in path[:-1]:
        child = node.get(name, {})
        if child is None:  # already selected whole
            return
        node[name] = child
        node = child
    last = path[-1]
    if last not in node:
        node[last] = sub
        return
    existing = node[last]
    if existing is None or sub is None:
        node[last] = None
        return
    for name, deeper in sub.items():
        _merge(existing, [name], deeper)


def apply(mask: Mask, value: Any) -> Any:
    """``value`` with only the fields ``mask`` selects."""
    if isinstance(value, list):
        return [apply(mask, item) for item in value]
    if not isinstance(value, dict) or "*" in mask:
        return value
    out: dict[str, Any] = {}
    for name, sub in mask.items():
        if name in value:
            out[name] = value[name] if sub is None else apply(sub, value[name])
    return out


def check(mask: Mask, schema: Schema, prefix: str = "") -> None:
    """Raise :class:`FieldsError` naming the first selected field ``schema`` does not have."""
    for name, sub in mask.items():
        if name == "*":
            continue
        where = f"{prefix}{name}"
        if name not in schema:
            raise FieldsError(where)
        inner = schema[name]
        if sub is not None:
            if inner is None:
                raise FieldsError(where)
            check(sub, inner, where + "/")
