"""Sheets v4: get and create spreadsheets, read and write values (single and batch).

Reading takes ``spreadsheets``, ``spreadsheets.readonly``, ``drive``, ``drive.readonly`` or
``drive.file``; writing ``spreadsheets``, ``drive`` or ``drive.file``. With ``drive.file`` alone
a token reaches only spreadsheets its own app created (others: 403 "The caller does not have
permission"). A spreadsheet created here is also a Drive file of the caller's, created by the
calling app. A service account without a user has spreadsheets of its own, empty at first.
"""

from __future__ import annotations

import secrets
from typing import Any

from starlette.routing import Route

from gtoken.emulator import scopes as sc
from gtoken.emulator.apis import spreadsheets as ss
from gtoken.emulator.apis.a1 import RangeError
from gtoken.emulator.apis.api_errors import ApiError
from gtoken.emulator.apis.common import Call, Method, check_keys, endpoint
from gtoken.emulator.apis.drive_files import SPREADSHEET, DriveFile, file_id
from gtoken.emulator.apis.spreadsheets import Bounds, Spreadsheet
from gtoken.emulator.model import World

SERVICE = "sheets.googleapis.com"
_RPC = "google.apps.sheets.v4.SpreadsheetsService."
_A = sc.AUTH
DRIVE_FILE = _A + "drive.file"
READ_ALL = frozenset(
    _A + s for s in ("spreadsheets", "spreadsheets.readonly", "drive", "drive.readonly")
)
WRITE_ALL = frozenset({_A + "spreadsheets", _A + "drive"})
_RENDER = ("FORMATTED_VALUE", "UNFORMATTED_VALUE", "FORMULA")
_RENDER_TYPE = "type.googleapis.com/google.apps.sheets.v4.ValueRenderOption"
_DIMENSIONS = ("ROWS", "COLUMNS", "DIMENSION_UNSPECIFIED")
_DIMENSION_TYPE = "type.googleapis.com/google.apps.sheets.v4.Dimension"
_INPUT = ("RAW", "USER_ENTERED", "INPUT_VALUE_OPTION_UNSPECIFIED")
_INPUT_TYPE = "type.googleapis.com/google.apps.sheets.v4.ValueInputOption"
_READ_PARAMS = frozenset({"majorDimension", "valueRenderOption", "dateTimeRenderOption"})
_RESPONSE_PARAMS = frozenset(
    {"includeValuesInResponse", "responseValueRenderOption", "responseDateTimeRenderOption"}
)
_VALUE_RANGE = frozenset({"range", "majorDimension", "values"})

GET = Method(
    SERVICE,
    _RPC + "GetSpreadsheet",
    READ_ALL | {DRIVE_FILE},
    frozenset({"includeGridData", "excludeTablesInBandedRanges"}),
    frozenset({"ranges"}),
)
CREATE = Method(SERVICE, _RPC + "CreateSpreadsheet", WRITE_ALL | {DRIVE_FILE})
GET_VALUES = Method(SERVICE, _RPC + "GetValues", READ_ALL | {DRIVE_FILE}, _READ_PARAMS)
UPDATE_VALUES = Method(
    SERVICE,
    _RPC + "UpdateValues",
    WRITE_ALL | {DRIVE_FILE},
    _RESPONSE_PARAMS | {"valueInputOption"},
)
BATCH_GET = Method(
    SERVICE, _RPC + "BatchGetValues", READ_ALL | {DRIVE_FILE}, _READ_PARAMS, frozenset({"ranges"})
)
BATCH_UPDATE = Method(SERVICE, _RPC + "BatchUpdateValues", WRITE_ALL | {DRIVE_FILE})


def bad(message: str) -> ApiError:
    """Sheets' 400: just code, message and status."""
    return ApiError(400, message, "INVALID_ARGUMENT")


def _set_fields(body: dict[str, Any]) -> dict[str, Any]:
    """The fields given a value: in Google's JSON mapping a ``null`` field is an unset one."""
    return {name: value for name, value in body.items() if value is not None}


def _spreadsheet(call: Call, *, write: bool) -> Spreadsheet:
    sheet_id = call.path["spreadsheetId"]
    spreadsheet = call.data.spreadsheets.get(sheet_id)
    if spreadsheet is None:
        raise ApiError(404, "Requested entity was not found.", "NOT_FOUND")
    if not call.token.scopes & (WRITE_ALL if write else READ_ALL):
        file = call.data.drive.files.get(sheet_id)  # drive.file: only what this app created
        if file is None or file.app_id != call.token.client_id:
            raise ApiError(403, "The caller does not have permission", "PERMISSION_DENIED")
    return spreadsheet


def _bounds(spreadsheet: Spreadsheet, text: str) -> Bounds:
    try:
        return spreadsheet.resolve(text)
    except RangeError as exc:
        raise bad(str(exc)) from None


def _read(call: Call, bounds: Bounds, render: str | None = None) -> dict[str, Any]:
    major = call.params.choice("majorDimension", _DIMENSIONS, "ROWS", _DIMENSION_TYPE)
    major = "ROWS" if major == "DIMENSION_UNSPECIFIED" else major
    if render is None:
        render = call.params.choice("valueRenderOption", _RENDER, "FORMATTED_VALUE", _RENDER_TYPE)
    try:
        values = ss.read(bounds, render, major)
    except RangeError as exc:
        raise bad(str(exc)) from None
    out: dict[str, Any] = {"range": bounds.text(), "majorDimension": major}
    if values:
        out["values"] = values
    return out


async def get_values(call: Call) -> dict[str, Any]:
    spreadsheet = _spreadsheet(call, write=False)
    return _read(call, _bounds(spreadsheet, call.path["range"]))


async def batch_get(call: Call) -> dict[str, Any]:
    spreadsheet = _spreadsheet(call, write=False)
    ranges = [_bounds(spreadsheet, text) for text in call.params.all("ranges")]
    out: dict[str, Any] = {"spreadsheetId": spreadsheet.spreadsheet_id}
    if ranges:
        out["valueRanges"] = [_read(call, bounds) for bounds in ranges]
    return out


def _input_option(value: Any) -> bool:
    """True for ``USER_ENTERED``; a 400 when the option is missing or unknown."""
    if value in (None, "", "INPUT_VALUE_OPTION_UNSPECIFIED"):
        raise bad("'valueInputOption' is required but not specified")
    if value not in _INPUT:
        raise bad(f"Invalid value at 'value_input_option' ({_INPUT_TYPE}), \"{value}\"")
    return bool(value == "USER_ENTERED")


def _value_range(
    spreadsheet: Spreadsheet, body: Any, where: str, url_range: str | None = None
) -> tuple[Bounds, list[list[ss.Value | None]]]:
    """A ValueRange of a request body, checked: where it goes and the rows to write there."""
    if not isinstance(body, dict):
        raise bad(f"Invalid {where}: expected a ValueRange object")
    body = _set_fields(body)
    check_keys(body, _VALUE_RANGE, where)
    text = body.get("range", url_range)
    if not isinstance(text, str):
        raise bad(f"Invalid {where}.range: a range is required")
    if url_range is not None and text != url_range:
        raise bad(f"Requested range [{url_range}] and the range in the body [{text}] differ")
    major = body.get("majorDimension", "ROWS")
    if major not in _DIMENSIONS:
        raise bad(f"Invalid value at '{where}.major_dimension' ({_DIMENSION_TYPE}), \"{major}\"")
    try:
        values = ss.check_values(body.get("values", []), f"{where}.values")
    except ValueError as exc:
        raise bad(str(exc)) from None
    if major == "COLUMNS":
        values = ss.transpose(values)
    bounds = _bounds(spreadsheet, text)
    try:
        ss.check_fits(bounds, values)
    except RangeError as exc:
        raise bad(str(exc)) from None
    return bounds, values


def _written(call: Call, spreadsheet: Spreadsheet, result: dict[str, Any]) -> dict[str, Any]:
    out = {"spreadsheetId": spreadsheet.spreadsheet_id, **result}
    file = call.data.drive.files.get(spreadsheet.spreadsheet_id)
    if file is not None:
        file.modified = call.world.now()
    return out


def _render_option(value: Any) -> str:
    if value is None:
        return "FORMATTED_VALUE"
    if value not in _RENDER:
        raise bad(f"Invalid value at 'response_value_render_option' ({_RENDER_TYPE}), \"{value}\"")
    return str(value)


def _with_data(call: Call, spreadsheet: Spreadsheet, result: dict[str, Any], render: str) -> None:
    """``updatedData`` (``includeValuesInResponse``): what the written range now holds."""
    written = _bounds(spreadsheet, result["updatedRange"])
    result["updatedData"] = _read(call, written, render)


async def update_values(call: Call) -> dict[str, Any]:
    spreadsheet = _spreadsheet(call, write=True)
    user_entered = _input_option(call.params.get("valueInputOption"))
    include = call.params.boolean("includeValuesInResponse", False)
    render = _render_option(call.params.get("responseValueRenderOption"))
    body = await call.json_body()
    bounds, values = _value_range(spreadsheet, body, "body", call.path["range"])
    result = _written(call, spreadsheet, ss.write(bounds, values, user_entered))
    if include:
        _with_data(call, spreadsheet, result, render)
    return result


async def batch_update(call: Call) -> dict[str, Any]:
    spreadsheet = _spreadsheet(call, write=True)
    body = _set_fields(await call.json_body())
    check_keys(body, _BATCH_UPDATE)
    user_entered = _input_option(body.get("valueInputOption"))
    include = body.get("includeValuesInResponse", False) is True
    render = _render_option(body.get("responseValueRenderOption"))
    data = body.get("data", [])
    if not isinstance(data, list):
        raise bad("Invalid data: expected a list of ValueRange objects")
    # Check every range before writing any: a batch is all or nothing, as at Google.
    checked = [_value_range(spreadsheet, item, f"data[{i}]") for i, item in enumerate(data)]
    responses = []
    sheets_updated = set()
    for bounds, values in checked:
        result = _written(call, spreadsheet, ss.write(bounds, values, user_entered))
        if "updatedCells" in result:
            sheets_updated.add(bounds.sheet.sheet_id)
        if include:
            _with_data(call, spreadsheet, result, render)
        responses.append(result)
    totals = {
        "totalUpdatedRows": sum(r.get("updatedRows", 0) for r in responses),
        "totalUpdatedColumns": sum(r.get("updatedColumns", 0) for r in responses),
        "totalUpdatedCells": sum(r.get("updatedCells", 0) for r in responses),
        "totalUpdatedSheets": len(sheets_updated),
    }
    out: dict[str, Any] = {"spreadsheetId": spreadsheet.spreadsheet_id}
    out.update({k: v for k, v in totals.items() if v})  # Google leaves zero counts out
    if responses:
        out["responses"] = responses
    return out


async def get_spreadsheet(call: Call) -> dict[str, Any]:
    spreadsheet = _spreadsheet(call, write=False)
    include_grid = call.params.boolean("includeGridData", False)
    ranges = [_bounds(spreadsheet, text) for text in call.params.all("ranges")]
    out = spreadsheet.resource()
    wanted = {id(b.sheet) for b in ranges}
    shown = [s for s in spreadsheet.sheets if not ranges or id(s) in wanted]
    out["sheets"] = []
    for sheet in shown:
        entry: dict[str, Any] = {
            "properties": ss.sheet_properties(sheet, spreadsheet.sheets.index(sheet))
        }
        if include_grid:
            own = [b for b in ranges if b.sheet is sheet] or [_bounds(spreadsheet, _whole(sheet))]
            entry["data"] = [ss.grid_data(b) for b in own]
        out["sheets"].append(entry)
    return out


def _whole(sheet: ss.Sheet) -> str:
    return "'" + sheet.title.replace("'", "''") + "'"


async def create_spreadsheet(call: Call) -> dict[str, Any]:
    body = _set_fields(await call.json_body())
    check_keys(body, _SPREADSHEET)
    properties = body.get("properties", {})
    if not isinstance(properties, dict):
        raise bad("Invalid spreadsheet.properties: expected an object")
    check_keys(properties, _SPREADSHEET_PROPERTIES, "properties")
    title = properties.get("title", "Untitled spreadsheet")
    if not isinstance(title, str):
        raise bad("Invalid spreadsheet.properties.title: expected a string")
    spreadsheet_id = file_id(secrets.token_hex(16), native=True)
    sheets = [_new_sheet(raw, i, spreadsheet_id) for i, raw in enumerate(_list(body, "sheets"))]
    titles = [sheet.title for sheet in sheets]
    for i, name in enumerate(titles):
        if name in titles[:i]:
            raise bad(f'A sheet with the name "{name}" already exists. Please enter another name.')
    try:
        ss.check_cell_limit(sum(sheet.row_count * sheet.column_count for sheet in sheets))
    except RangeError as exc:
        raise bad(str(exc)) from None
    spreadsheet = Spreadsheet(spreadsheet_id, title, sheets or [ss.Sheet(0, "Sheet1")])
    data = call.data
    data.spreadsheets[spreadsheet_id] = spreadsheet
    now = call.world.now()
    owner = call.token.user.name if call.token.user is not None else call.token.email
    data.drive.add(
        DriveFile(
            id=spreadsheet_id,
            name=title,
            mime_type=SPREADSHEET,
            parents=[data.drive.root_id],
            created=now,
            modified=now,
            owner_email=call.token.email,
            owner_name=owner,
            app_id=call.token.client_id,
        )
    )
    return spreadsheet.resource()


def _list(body: dict[str, Any], name: str) -> list[Any]:
    value = body.get(name, [])
    if not isinstance(value, list):
        raise bad(f"Invalid spreadsheet.{name}: expected a list")
    return value


def _new_sheet(raw: Any, index: int, spreadsheet_id: str) -> ss.Sheet:
    where = f"sheets[{index}]"
    if not isinstance(raw, dict):
        raise bad(f"Invalid spreadsheet.{where}: expected an object")
    check_keys(raw, frozenset({"properties"}), where)
    props = raw.get("properties", {})
    if not isinstance(props, dict):
        raise bad(f"Invalid spreadsheet.{where}.properties: expected an object")
    check_keys(props, _SHEET_PROPERTIES, f"{where}.properties")
    grid = props.get("gridProperties", {})
    if not isinstance(grid, dict):
        raise bad(f"Invalid spreadsheet.{where}.properties.gridProperties: expected an object")
    check_keys(grid, frozenset({"rowCount", "columnCount"}), f"{where}.properties.gridProperties")
    title = props.get("title", f"Sheet{index + 1}")
    default_id = 0 if index == 0 else ss.sheet_id(f"{spreadsheet_id}:{index}")
    numbers = {
        "sheetId": props.get("sheetId", default_id),
        "rowCount": grid.get("rowCount", 1000),
        "columnCount": grid.get("columnCount", 26),
    }
    for name, value in numbers.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < (name != "sheetId"):
            raise bad(f"Invalid spreadsheet.{where}: {name} must be a positive whole number")
    if not isinstance(title, str) or not title:
        raise bad(f"Invalid spreadsheet.{where}.properties.title: expected a non-empty string")
    return ss.Sheet(numbers["sheetId"], title, numbers["rowCount"], numbers["columnCount"])


_BATCH_UPDATE = frozenset(
    {"valueInputOption", "data", "includeValuesInResponse", "responseValueRenderOption"}
) | {"responseDateTimeRenderOption"}
_SPREADSHEET = frozenset({"spreadsheetId", "properties", "sheets", "spreadsheetUrl"})
_SPREADSHEET_PROPERTIES = frozenset({"title", "locale", "timeZone", "autoRecalc"})
_SHEET_PROPERTIES = frozenset({"sheetId", "title", "index", "sheetType", "gridProperties"})


def routes(world: World) -> list[Route]:
    base = "/v4/spreadsheets/{spreadsheetId}"
    return [
        endpoint("/v4/spreadsheets", world, {"POST": (CREATE, create_spreadsheet)}),
        endpoint(base + "/values:batchGet", world, {"GET": (BATCH_GET, batch_get)}),
        endpoint(base + "/values:batchUpdate", world, {"POST": (BATCH_UPDATE, batch_update)}),
        endpoint(
            base + "/values/{range:path}",
            world,
            {"GET": (GET_VALUES, get_values), "PUT": (UPDATE_VALUES, update_values)},
        ),
        endpoint(base, world, {"GET": (GET, get_spreadsheet)}),
    ]
