"""Spreadsheets: sheets of cells, reading and writing values the way Sheets v4 does.

What is stored is what was entered: with ``RAW`` a string stays a string; with ``USER_ENTERED``
``"42"`` becomes a number, ``"TRUE"`` a boolean, ``"'42"`` the string ``42``, and ``"=..."`` a
formula. The emulator does not calculate formulas: a formula cell reads back as its formula text
in every render option.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field
from typing import Any

from gtoken.emulator.apis import a1
from gtoken.emulator.apis.a1 import RangeError

Value = str | int | float | bool
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


@dataclass
class Cell:
    value: Value
    formula: str | None = None


@dataclass(eq=False)
class Sheet:
    sheet_id: int
    title: str
    row_count: int = 1000
    column_count: int = 26
    cells: dict[tuple[int, int], Cell] = field(default_factory=dict)

    def used(self) -> tuple[int, int]:
        """(rows, columns) up to the last cell holding something."""
        if not self.cells:
            return 0, 0
        return max(r for r, _ in self.cells) + 1, max(c for _, c in self.cells) + 1


@dataclass(frozen=True)
class Bounds:
    """A range resolved against a sheet: 0-based rows and columns, ends exclusive."""

    sheet: Sheet
    row0: int
    col0: int
    row1: int
    col1: int
    #: A write may run past the end (``A:B``, ``Sheet1``, or one cell such as ``A1``).
    open_rows: bool
    open_cols: bool

    def text(self) -> str:
        return a1.format_range(self.sheet.title, self.row0, self.col0, self.row1, self.col1)


@dataclass(eq=False)
class Spreadsheet:
    spreadsheet_id: str
    title: str
    sheets: list[Sheet]
    locale: str = "en_US"
    time_zone: str = "Etc/GMT"

    def sheet(self, title: str) -> Sheet | None:
        return next((s for s in self.sheets if s.title == title), None)

    def resolve(self, text: str) -> Bounds:
        """Where ``text`` points; :class:`RangeError` when it points nowhere."""
        title, ref = a1.split(text)
        if title is None and ref is not None and self.sheet(ref) is not None:
            title, ref = ref, None  # a bare sheet title
        sheet = self.sheets[0] if title is None else self.sheet(title)
        if sheet is None:
            raise RangeError(f"Unable to parse range: {text}")
        if ref is None:
            return Bounds(sheet, 0, 0, sheet.row_count, sheet.column_count, True, True)
        cells = a1.parse_cells(ref)
        return Bounds(
            sheet,
            cells.start_row or 0,
            cells.start_col or 0,
            sheet.row_count if cells.end_row is None else cells.end_row,
            sheet.column_count if cells.end_col is None else cells.end_col,
            cells.single or cells.end_row is None,
            cells.single or cells.end_col is None,
        )

    def resource(self) -> dict[str, Any]:
        """``spreadsheets.get`` without grid data."""
        return {
            "spreadsheetId": self.spreadsheet_id,
            "properties": {
                "title": self.title,
                "locale": self.locale,
                "autoRecalc": "ON_CHANGE",
                "timeZone": self.time_zone,
            },
            "sheets": [{"properties": sheet_properties(s, i)} for i, s in enumerate(self.sheets)],
            "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{self.spreadsheet_id}/edit",
        }


def sheet_properties(sheet: Sheet, index: int) -> dict[str, Any]:
    return {
        "sheetId": sheet.sheet_id,
        "title": sheet.title,
        "index": index,
        "sheetType": "GRID",
        "gridProperties": {"rowCount": sheet.row_count, "columnCount": sheet.column_count},
    }


def sheet_id(seed: str) -> int:
    return int.from_bytes(hashlib.sha256(seed.encode()).digest()[:4], "big") % 2_000_000_000


# -- reading -------------------------------------------------------------------------------------


def check_grid(bounds: Bounds) -> None:
    """Reads may not reach past the grid, as Google says."""
    sheet = bounds.sheet
    if bounds.row1 > sheet.row_count or bounds.col1 > sheet.column_count:
        cells = bounds.text().rpartition("!")[2]
        raise RangeError(
            f"Range ('{sheet.title}'!{cells}) exceeds grid limits. "
            f"Max rows: {sheet.row_count}, max columns: {sheet.column_count}"
        )


def read(bounds: Bounds, render: str, major: str) -> list[list[Value]]:
    """The values in ``bounds``, trailing empty cells and rows trimmed as Google trims them."""
    check_grid(bounds)
    sheet = bounds.sheet
    rows: list[list[Value]] = []
    outer = range(bounds.row0, bounds.row1) if major == "ROWS" else range(bounds.col0, bounds.col1)
    inner = range(bounds.col0, bounds.col1) if major == "ROWS" else range(bounds.row0, bounds.row1)
    used_rows, used_cols = sheet.used()
    outer_limit = used_rows if major == "ROWS" else used_cols
    inner_limit = used_cols if major == "ROWS" else used_rows
    for i in outer:
        if i >= outer_limit:
            break
        line: list[Value] = []
        for j in inner:
            if j >= inner_limit:
                break
            cell = sheet.cells.get((i, j) if major == "ROWS" else (j, i))
            line.append("" if cell is None else render_cell(cell, render))
        while line and line[-1] == "":
            line.pop()
        rows.append(line)
    while rows and not rows[-1]:
        rows.pop()
    return rows


def render_cell(cell: Cell, render: str) -> Value:
    if cell.formula is not None:
        return cell.formula
    value = cell.value
    if render == "FORMATTED_VALUE":
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        if isinstance(value, int | float):
            return _general(value)
        return value
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    return value


def _general(number: float) -> str:
    """A number in the "General" format: no trailing zeros, at most 15 significant digits."""
    if float(number).is_integer() and abs(number) < 1e15:
        return str(int(number))
    return f"{number:.15g}"


def grid_data(bounds: Bounds) -> dict[str, Any]:
    """The cells of ``bounds`` as ``spreadsheets.get`` with ``includeGridData`` shows them."""
    used_rows, used_cols = bounds.sheet.used()
    rows = []
    for r in range(bounds.row0, min(bounds.row1, used_rows)):
        cells = [
            _cell_data(bounds.sheet.cells.get((r, c)))
            for c in range(bounds.col0, min(bounds.col1, used_cols))
        ]
        while cells and not cells[-1]:
            cells.pop()
        rows.append({"values": cells} if cells else {})
    while rows and not rows[-1]:
        rows.pop()
    out: dict[str, Any] = {}
    if bounds.row0:
        out["startRow"] = bounds.row0
    if bounds.col0:
        out["startColumn"] = bounds.col0
    out["rowData"] = rows
    return out


def _cell_data(cell: Cell | None) -> dict[str, Any]:
    if cell is None:
        return {}
    if cell.formula is not None:
        return {"userEnteredValue": {"formulaValue": cell.formula}, "formattedValue": cell.formula}
    value = render_cell(cell, "UNFORMATTED_VALUE")
    kind = (
        "boolValue"
        if isinstance(value, bool)
        else "numberValue"
        if isinstance(value, int | float)
        else "stringValue"
    )
    return {
        "userEnteredValue": {kind: value},
        "effectiveValue": {kind: value},
        "formattedValue": render_cell(cell, "FORMATTED_VALUE"),
    }


# -- writing -------------------------------------------------------------------------------------


def check_values(values: Any, where: str) -> list[list[Value | None]]:
    """The ``values`` of a ValueRange: rows of strings, numbers, booleans or nulls."""
    if not isinstance(values, list) or not all(isinstance(row, list) for row in values):
        raise ValueError(f"Invalid {where}: expected a list of lists of values")
    for i, row in enumerate(values):
        for j, value in enumerate(row):
            if value is not None and not (isinstance(value, str | bool) or _finite(value)):
                raise ValueError(
                    f"Invalid {where}[{i}][{j}]: a cell holds a string, number, boolean or null"
                )
    return values


#: Google's limit on the cells of a spreadsheet (the emulator counts per sheet on writes).
CELL_LIMIT = 10_000_000


def check_cell_limit(cells: int) -> None:
    if cells > CELL_LIMIT:
        raise RangeError(
            "This action would increase the number of cells in the workbook above the limit "
            f"of {CELL_LIMIT} cells."
        )


def _finite(value: Any) -> bool:
    """A number a cell can hold: JSON allows ``1e400``, which Python reads as infinity."""
    try:
        return isinstance(value, int | float) and math.isfinite(value)
    except OverflowError:  # an int too large to be a float
        return False


def write(bounds: Bounds, values: list[list[Value | None]], user_entered: bool) -> dict[str, Any]:
    """Store ``values`` from the top-left of ``bounds``; the counts of what was written."""
    height = len(values)
    width = max((len(row) for row in values), default=0)
    if height == 0 or width == 0:
        return {"updatedRange": bounds.text()}
    check_fits(bounds, values)
    sheet = bounds.sheet
    sheet.row_count = max(sheet.row_count, bounds.row0 + height)
    sheet.column_count = max(sheet.column_count, bounds.col0 + width)
    rows: set[int] = set()
    cols: set[int] = set()
    for i, row in enumerate(values):
        for j, value in enumerate(row):
            if value is None:  # null leaves the cell as it is
                continue
            rows.add(i)
            cols.add(j)
            key = (bounds.row0 + i, bounds.col0 + j)
            if value == "":
                sheet.cells.pop(key, None)
            else:
                sheet.cells[key] = entered(value) if user_entered else Cell(value)
    written = a1.format_range(
        sheet.title, bounds.row0, bounds.col0, bounds.row0 + height, bounds.col0 + width
    )
    out: dict[str, Any] = {"updatedRange": written}
    if rows:
        out.update(
            updatedRows=len(rows),
            updatedColumns=len(cols),
            updatedCells=sum(v is not None for row in values for v in row),
        )
    return out


def check_fits(bounds: Bounds, values: list[list[Value | None]]) -> None:
    """:class:`RangeError` when ``values`` spill out of a range with a fixed end, or would grow
    the grid past Google's limit on cells."""
    height = len(values)
    width = max((len(row) for row in values), default=0)
    sheet = bounds.sheet
    rows = max(sheet.row_count, bounds.row0 + height)
    cols = max(sheet.column_count, bounds.col0 + width)
    if rows > sheet.row_count or cols > sheet.column_count:
        check_cell_limit(rows * cols)
    if not bounds.open_rows and bounds.row0 + height > bounds.row1:
        raise RangeError(
            f"Requested writing within range [{bounds.text()}], but tried writing to row "
            f"[{bounds.row0 + height}]"
        )
    if not bounds.open_cols and bounds.col0 + width > bounds.col1:
        raise RangeError(
            f"Requested writing within range [{bounds.text()}], but tried writing to column "
            f"[{a1.column_letters(bounds.col0 + width - 1)}]"
        )


def entered(value: Value) -> Cell:
    """What a person typing ``value`` into the cell would get (``USER_ENTERED``)."""
    if not isinstance(value, str):
        return Cell(value)
    if value.startswith("'"):
        return Cell(value[1:])
    if value.startswith("=") and len(value) > 1:
        return Cell(value, formula=value)
    text = value.strip()
    if text.upper() in ("TRUE", "FALSE"):
        return Cell(text.upper() == "TRUE")
    if _NUMBER.fullmatch(text) and math.isfinite(float(text)):
        number = float(text)
        return Cell(int(number) if number.is_integer() and abs(number) < 1e15 else number)
    return Cell(value)


def transpose(values: list[list[Value | None]]) -> list[list[Value | None]]:
    width = max((len(row) for row in values), default=0)
    return [[row[j] if j < len(row) else None for row in values] for j in range(width)]


# -- the seeded sample ---------------------------------------------------------------------------

_BUDGET: list[list[Value]] = [
    ["Category", "January", "February", "March"],
    ["Rent", 1200, 1200, 1200],
    ["Groceries", 310.5, 290.25, 305],
    ["Transport", 64, 58, 71.2],
    ["Fun", 120, 95, 180],
]


def seed_budget(spreadsheet_id: str) -> Spreadsheet:
    """The ``Budget`` spreadsheet every user starts with."""
    table = Sheet(sheet_id=0, title="Sheet1")
    for i, row in enumerate(_BUDGET):
        for j, value in enumerate(row):
            table.cells[(i, j)] = Cell(value)
    notes = Sheet(sheet_id=sheet_id(spreadsheet_id + ":notes"), title="Q1 Notes")
    notes.cells[(0, 0)] = Cell("Rent goes up in April")
    return Spreadsheet(spreadsheet_id, "Budget", [table, notes])
