"""Drive v3's search language (``q`` of ``files.list``).

Terms: ``name`` and ``mimeType`` with ``=``, ``!=`` or ``contains``; ``fullText contains``;
``trashed`` and ``starred`` with ``=``/``!=`` ``true|false``; ``createdTime`` and ``modifiedTime``
compared with an RFC 3339 time; ``'<id>' in parents`` (``'root'`` is My Drive) and
``'<email>' in owners|writers|readers``. Terms combine with ``and``, ``or``, ``not`` and
parentheses. Strings are single-quoted with ``\\'`` and ``\\\\`` escapes. Anything else is a
:class:`QueryError`, which Drive answers with 400 "Invalid Value".

``name contains`` matches at the start of the name or of a word in it, as Drive's prefix search
does (``'plan'`` finds ``Project plan``; ``'lan'`` does not).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from gtoken.emulator.apis.drive_files import DriveFile

Test = Callable[[DriveFile], bool]
_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^'\\]|\\.)*')|(?P<op>!=|<=|>=|[=<>()])|(?P<word>\w+))")
_TEXT_FIELDS = {"name", "mimeType", "fullText"}
_BOOL_FIELDS = {"trashed", "starred"}
_TIME_FIELDS = {"createdTime", "modifiedTime"}
_COLLECTIONS = {"parents", "owners", "writers", "readers"}
#: How deep ``not`` and parentheses may nest: enough for people, and no stack runs out.
MAX_DEPTH = 64


class QueryError(ValueError):
    """A query Drive would not accept."""


def parse(query: str, root_id: str) -> Test:
    tokens = _tokens(query)
    parser = _Parser(tokens, root_id)
    test = parser.either()
    if parser.pos != len(tokens):
        raise QueryError(query)
    return test


def _tokens(query: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    query = query.rstrip()
    while pos < len(query):
        match = _TOKEN.match(query, pos)
        if match is None or match.lastgroup is None:
            raise QueryError(query)
        out.append((match.lastgroup, match.group(match.lastgroup)))
        pos = match.end()
    return out


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]], root_id: str) -> None:
        self.tokens = tokens
        self.pos = 0
        self.root_id = root_id
        self.depth = 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else ("end", "")

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token[0] == "end":
            raise QueryError("unexpected end of query")
        self.pos += 1
        return token

    def keyword(self, word: str) -> bool:
        kind, text = self.peek()
        if kind == "word" and text.lower() == word:
            self.pos += 1
            return True
        return False

    def either(self) -> Test:
        tests = [self.both()]
        while self.keyword("or"):
            tests.append(self.both())
        return lambda f: any(t(f) for t in tests)

    def both(self) -> Test:
        tests = [self.unary()]
        while self.keyword("and"):
            tests.append(self.unary())
        return lambda f: all(t(f) for t in tests)

    def unary(self) -> Test:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise QueryError("nested too deeply")
        try:
            if self.keyword("not"):
                inner = self.unary()
                return lambda f: not inner(f)
            if self.peek() == ("op", "("):
                self.pos += 1
                inner = self.either()
                if self.take() != ("op", ")"):
                    raise QueryError("unbalanced parentheses")
                return inner
            return self.term()
        finally:
            self.depth -= 1

    def term(self) -> Test:
        kind, text = self.take()
        if kind == "str":
            if not self.keyword("in"):
                raise QueryError(text)
            collection = self.take()
            if collection[0] != "word" or collection[1] not in _COLLECTIONS:
                raise QueryError(collection[1])
            return self.membership(_unquote(text), collection[1])
        if kind != "word":
            raise QueryError(text)
        op = self.operator()
        value = self.take()
        if text in _TEXT_FIELDS and value[0] == "str":
            return _text(text, op, _unquote(value[1]))
        if text in _BOOL_FIELDS and op in ("=", "!=") and value[1] in ("true", "false"):
            wanted = (value[1] == "true") == (op == "=")
            return lambda f: getattr(f, text) is wanted
        if text in _TIME_FIELDS and value[0] == "str" and op != "contains":
            return _time(text, op, _unquote(value[1]))
        raise QueryError(text)

    def operator(self) -> str:
        kind, text = self.take()
        if kind == "op" and text not in "()":
            return text
        if kind == "word" and text == "contains":
            return text
        raise QueryError(text)

    def membership(self, value: str, collection: str) -> Test:
        if collection == "parents":
            wanted = self.root_id if value == "root" else value
            return lambda f: wanted in f.parents
        lowered = value.lower()
        return lambda f: f.owner_email.lower() == lowered


def _unquote(literal: str) -> str:
    return re.sub(r"\\(.)", r"\1", literal[1:-1])


def _text(field: str, op: str, value: str) -> Test:
    def current(f: DriveFile) -> str:
        return f.mime_type if field == "mimeType" else f.name

    if op == "contains":
        if field == "mimeType":
            return lambda f: value in f.mime_type
        return lambda f: _prefix_match(f.name, value)
    if field == "fullText" or op not in ("=", "!="):
        raise QueryError(f"{field} {op}")
    equal = op == "="
    return lambda f: (current(f) == value) is equal


def _prefix_match(name: str, value: str) -> bool:
    name, value = name.lower(), value.lower()
    starts = [0] + [m.end() for m in re.finditer(r"[^0-9a-z]+", name)]
    return any(name.startswith(value, i) for i in starts)


def _time(field: str, op: str, value: str) -> Test:
    try:
        when = dt.datetime.fromisoformat(value)
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        limit = when.timestamp()
    except (ValueError, OverflowError):
        raise QueryError(value) from None
    compare: dict[str, Callable[[float], bool]] = {
        "=": lambda t: t == limit,
        "!=": lambda t: t != limit,
        "<": lambda t: t < limit,
        "<=": lambda t: t <= limit,
        ">": lambda t: t > limit,
        ">=": lambda t: t >= limit,
    }
    check = compare[op]
    attribute = "created" if field == "createdTime" else "modified"
    return lambda f: check(getattr(f, attribute))
