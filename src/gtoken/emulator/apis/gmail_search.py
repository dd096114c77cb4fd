"""Gmail's search language (``q``), the part programs use.

Supported: ``label:``, ``in:`` (inbox, sent, drafts, spam, trash, anywhere, starred, important,
or a label), ``is:`` (unread, read, starred, important), ``category:``, ``from:``, ``to:``,
``subject:``, ``after:``/``before:`` (``2024/03/01`` or epoch seconds), free words and
``"quoted phrases"``, ``-`` or ``NOT`` to negate, ``OR`` and ``{a b}`` for either, parentheses.
Terms side by side must all match. Like Gmail, a query never fails: what cannot be understood
matches nothing rather than raising an error. Label names match case-insensitively, with spaces
and ``/`` written as ``-`` if you like (``label:travel-plans``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

from gtoken.emulator.apis.mailbox import Label, Message

Test = Callable[[Message], bool]
#: How deep brackets and ``NOT`` may nest: enough for people, and no stack runs out.
MAX_DEPTH = 64
_IN_LABEL = {"drafts": "DRAFT", "draft": "DRAFT", "chats": "CHAT"}
_IS_LABEL = {"unread": "UNREAD", "starred": "STARRED", "important": "IMPORTANT"}


@dataclass(frozen=True)
class Search:
    """A parsed query: the test, and whether it asks for spam or trash by name."""

    test: Test
    wants_spam_trash: bool


def parse(query: str, labels: dict[str, Label]) -> Search:
    tokens = _tokens(query)
    parser = _Parser(tokens, labels)
    tests = []
    try:
        while parser.pos < len(tokens):
            tests.append(parser.either())
    except _TooDeep:  # like any nonsense, it matches nothing
        return Search(lambda m: False, False)
    return Search(_all(tests), parser.wants_spam_trash)


class _TooDeep(Exception):
    """Brackets or ``NOT`` nested past :data:`MAX_DEPTH`."""


def _tokens(query: str) -> list[str]:
    """Split into terms and brackets; ``"a phrase"`` and ``subject:(a b)`` stay one term."""
    out: list[str] = []
    pos = 0
    while pos < len(query):
        char = query[pos]
        if char.isspace():
            pos += 1
        elif char in "(){}":
            out.append(char)
            pos += 1
        else:
            end = _term_end(query, pos)
            out.append(query[pos:end])
            pos = end
    return out


def _term_end(query: str, pos: int) -> int:
    while pos < len(query) and not query[pos].isspace() and query[pos] not in "(){}":
        if query[pos] == '"':
            close = query.find('"', pos + 1)
            return len(query) if close < 0 else close + 1
        if query[pos] == ":" and query.startswith(("(", '"'), pos + 1):
            closer = ")" if query[pos + 1] == "(" else '"'
            close = query.find(closer, pos + 2)
            return len(query) if close < 0 else close + 1
        pos += 1
    return pos


class _Parser:
    def __init__(self, tokens: list[str], labels: dict[str, Label]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.labels = labels
        self.wants_spam_trash = False
        self.depth = 0

    def either(self) -> Test:
        tests = [self.unary()]
        while self.pos + 1 < len(self.tokens) and self.tokens[self.pos] == "OR":
            self.pos += 1
            tests.append(self.unary())
        return _any(tests)

    def unary(self) -> Test:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _TooDeep
        try:
            return self._unary()
        finally:
            self.depth -= 1

    def _unary(self) -> Test:
        token = self.tokens[self.pos]
        if token == "NOT" and self.pos + 1 < len(self.tokens):
            self.pos += 1
            inner = self.unary()
            return lambda m: not inner(m)
        if token.startswith("-") and len(token) > 1:
            self.pos += 1
            negated = self.term(token[1:])
            return lambda m: not negated(m)
        return self.atom()

    def atom(self) -> Test:
        token = self.tokens[self.pos]
        self.pos += 1
        if token in ("(", "{"):
            close = ")" if token == "(" else "}"
            tests = []
            while self.pos < len(self.tokens) and self.tokens[self.pos] != close:
                tests.append(self.either())
            self.pos += 1
            return _all(tests) if token == "(" else _any(tests)
        if token in (")", "}"):
            return lambda m: True  # unmatched: ignored, as Gmail does
        return self.term(token)

    def term(self, token: str) -> Test:
        op, colon, value = token.partition(":")
        if not colon or not value or '"' in op:
            return _words(token)
        return self.operator(op.lower(), value)

    def operator(self, op: str, raw: str) -> Test:
        value = _unquote(raw)
        lowered = value.lower()
        if op in ("label", "in"):
            if lowered in ("spam", "trash", "anywhere"):
                self.wants_spam_trash = True
            if op == "in" and lowered == "anywhere":
                return lambda m: True
            return _has_label(self._label(_IN_LABEL.get(lowered, value)))
        if op == "is":
            if lowered == "read":
                return lambda m: "UNREAD" not in m.label_ids
            return _has_label(_IS_LABEL.get(lowered))
        if op == "category":
            return _has_label("CATEGORY_" + value.upper())
        if op in ("from", "to"):
            return lambda m: lowered in m.header(op).lower()
        if op == "subject":
            return _words(raw, lambda m: m.header("Subject"))
        if op in ("after", "before"):
            return _date(op, value)
        return _words(f"{op}:{raw}")

    def _label(self, name: str) -> str | None:
        """The id of the label called ``name`` (Gmail's spelling rules), if there is one."""
        wanted = _label_key(name)
        for label in self.labels.values():
            if wanted in (_label_key(label.name), _label_key(label.id)):
                return label.id
        return None


def _label_key(name: str) -> str:
    return re.sub(r"[\s/]", "-", name.strip().lower())


def _unquote(value: str) -> str:
    if value[:1] in ('"', "(") and len(value) > 1:
        return value[1:-1] if value[-1] in '")' else value[1:]
    return value


def _has_label(label_id: str | None) -> Test:
    return lambda m: label_id is not None and label_id in m.label_ids


def _searchable(message: Message) -> str:
    return " ".join(
        (message.header("Subject"), message.header("From"), message.header("To"), message.text)
    )


def _words(text: str, where: Callable[[Message], str] = _searchable) -> Test:
    """Every word (or the quoted phrase) appears, as whole words, case-insensitively."""
    phrase = text.startswith('"')
    words = re.findall(r"\w+", text.lower())
    if not words:
        return lambda m: True
    if phrase:
        pattern = re.compile(r"\b" + r"\W+".join(map(re.escape, words)) + r"\b")
        return lambda m: pattern.search(where(m).lower()) is not None
    return lambda m: set(words) <= set(re.findall(r"\w+", where(m).lower()))


def _date(op: str, value: str) -> Test:
    try:
        if value.isdigit():
            seconds = int(value)
        else:
            day = dt.datetime.strptime(value.replace("-", "/"), "%Y/%m/%d")
            seconds = int(day.replace(tzinfo=dt.UTC).timestamp())
    except ValueError:
        return lambda m: False
    ms = seconds * 1000
    if op == "after":
        return lambda m: m.internal_date >= ms
    return lambda m: m.internal_date < ms


def _all(tests: list[Test]) -> Test:
    return lambda m: all(t(m) for t in tests)


def _any(tests: list[Test]) -> Test:
    return lambda m: any(t(m) for t in tests)
