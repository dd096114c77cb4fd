"""A1 notation: ``Sheet1!A1:C3``, ``A1:B2``, ``Sheet1``, ``Sheet1!A:B``, ``'My Sheet'!A1``.

Rows and columns are 0-based here, with exclusive ends; ``None`` means the range is open on that
side (to the edge of the grid), as in ``A:B`` or ``A2:C``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PART = re.compile(r"(?P<col>[A-Za-z]{1,3})?(?P<row>[1-9][0-9]{0,6})?")


class RangeError(ValueError):
    """Google's "Unable to parse range: X" and its other range refusals."""


@dataclass(frozen=True)
class CellRef:
    """The cell part of a range; each side may be open (``None``)."""

    start_row: int | None
    start_col: int | None
    end_row: int | None
    end_col: int | None
    #: One cell (``A1``): a write starting there may run as far as its values go.
    single: bool = False


def split(text: str) -> tuple[str | None, str | None]:
    """``(sheet title, cell part)``; either may be absent, not both."""
    if not text:
        raise RangeError(f"Unable to parse range: {text}")
    if text.startswith("'"):
        title, rest = _quoted(text)
        if rest == "":
            return title, None
        if not rest.startswith("!") or len(rest) == 1:
            raise RangeError(f"Unable to parse range: {text}")
        return title, rest[1:]
    if "!" in text:
        title, _, ref = text.rpartition("!")
        if not title or not ref:
            raise RangeError(f"Unable to parse range: {text}")
        return title, ref
    return None, text


def _quoted(text: str) -> tuple[str, str]:
    """Read ``'It''s here'`` from the start of ``text``: (title, what follows)."""
    out = []
    i = 1
    while i < len(text):
        if text[i] == "'":
            if text.startswith("''", i):
                out.append("'")
                i += 2
                continue
            return "".join(out), text[i + 1 :]
        out.append(text[i])
        i += 1
    raise RangeError(f"Unable to parse range: {text}")


def parse_cells(ref: str) -> CellRef:
    """The cell part: ``A1``, ``A1:C3``, ``A:B``, ``2:4``, ``A2:C``."""
    first, colon, second = ref.partition(":")
    start = _part(first, ref)
    if not colon:
        if start[0] is None or start[1] is None:  # a bare column or row is not a range
            raise RangeError(f"Unable to parse range: {ref}")
        return CellRef(start[0], start[1], start[0] + 1, start[1] + 1, single=True)
    end = _part(second, ref)
    rows = _order(start[0], end[0])
    cols = _order(start[1], end[1])
    return CellRef(
        rows[0],
        cols[0],
        None if rows[1] is None else rows[1] + 1,
        None if cols[1] is None else cols[1] + 1,
    )


def _part(text: str, whole: str) -> tuple[int | None, int | None]:
    match = _PART.fullmatch(text)
    if not text or match is None:
        raise RangeError(f"Unable to parse range: {whole}")
    row = int(match["row"]) - 1 if match["row"] else None
    col = column_index(match["col"]) if match["col"] else None
    return row, col


def _order(a: int | None, b: int | None) -> tuple[int | None, int | None]:
    if a is not None and b is not None and b < a:
        return b, a
    return a, b


def column_index(letters: str) -> int:
    """``A`` is 0, ``Z`` 25, ``AA`` 26."""
    n = 0
    for char in letters.upper():
        n = n * 26 + ord(char) - ord("A") + 1
    return n - 1


def column_letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def looks_like_cells(text: str) -> bool:
    try:
        parse_cells(text)
    except RangeError:
        return False
    return True


def quote_title(title: str) -> str:
    """A sheet title as Google writes it in ranges: bare when it can be, else quoted."""
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", title) and not looks_like_cells(title):
        return title
    return "'" + title.replace("'", "''") + "'"


def format_range(title: str, row0: int, col0: int, row1: int, col1: int) -> str:
    """``Sheet1!A1:C3`` for rows ``row0..row1-1`` and columns ``col0..col1-1``."""
    start = f"{column_letters(col0)}{row0 + 1}"
    end = f"{column_letters(col1 - 1)}{row1}"
    cells = start if start == end else f"{start}:{end}"
    return f"{quote_title(title)}!{cells}"
