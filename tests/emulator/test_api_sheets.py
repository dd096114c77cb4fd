"""The Sheets v4 slice, as googleapiclient, gspread and plain HTTP clients see it."""
# mypy: disable-error-code="no-untyped-call"

from __future__ import annotations

import contextlib
from typing import Any
from urllib.parse import quote

import google.oauth2.credentials
import gspread
import httpx
import pytest
import requests
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from gtoken.emulator.client import Emulator, EmulatorError
from tests.support import login

A = "https://www.googleapis.com/auth/"
SHEETS = A + "spreadsheets"
READONLY = A + "spreadsheets.readonly"
ADA = "ada@example.com"
BUDGET = [
    ["Category", "January", "February", "March"],
    ["Rent", "1200", "1200", "1200"],
    ["Groceries", "310.5", "290.25", "305"],
    ["Transport", "64", "58", "71.2"],
    ["Fun", "120", "95", "180"],
]


def access_token(emulator: Emulator, scope: str, client: dict[str, Any] | None = None) -> str:
    """Ada's access token for ``client`` (a new one by default), granted ``scope``."""
    with contextlib.suppress(EmulatorError):  # she may exist already
        emulator.create_user(ADA, "Ada Lovelace")
    emulator.consent_auto(email=ADA)
    token: str = login(emulator, client or emulator.create_client(), scope)["access_token"]
    return token


def service(emulator: Emulator, api: str, token: str) -> Any:
    version = {"drive": "v3", "sheets": "v4"}[api]
    return build(
        api,
        version,
        credentials=google.oauth2.credentials.Credentials(token),
        client_options={"api_endpoint": emulator.api_endpoint(api)},  # type: ignore[arg-type]
        static_discovery=True,
    )


def budget_id(emulator: Emulator) -> str:
    """The seeded spreadsheet's id, found the way a program would: in Drive."""
    drive = service(emulator, "drive", access_token(emulator, A + "drive.metadata.readonly"))
    mime = "application/vnd.google-apps.spreadsheet"
    query = f"mimeType = '{mime}' and name = 'Budget'"
    (found,) = drive.files().list(q=query).execute()["files"]
    assert found["name"] == "Budget"
    return str(found["id"])


@pytest.fixture
def sheets(emulator: Emulator) -> Any:
    return service(emulator, "sheets", access_token(emulator, SHEETS))


@pytest.fixture
def budget(emulator: Emulator) -> str:
    return budget_id(emulator)


def values(sheets: Any, spreadsheet_id: str, cells: str, **options: Any) -> Any:
    request = (
        sheets.spreadsheets().values().get(spreadsheetId=spreadsheet_id, range=cells, **options)
    )
    return request.execute()


def http(
    emulator: Emulator,
    method: str,
    path: str,
    token: str,
    headers: dict[str, str] | None = None,
    **kwargs: Any,
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}", **(headers or {})}
    return httpx.request(method, f"{emulator.url}/v4/spreadsheets{path}", headers=headers, **kwargs)


# -- reading -------------------------------------------------------------------------------------


def test_get_spreadsheet(sheets: Any, budget: str) -> None:
    got = sheets.spreadsheets().get(spreadsheetId=budget).execute()
    assert got["spreadsheetId"] == budget
    assert got["properties"]["title"] == "Budget"
    first, second = got["sheets"]
    assert first["properties"] == {
        "sheetId": 0,
        "title": "Sheet1",
        "index": 0,
        "sheetType": "GRID",
        "gridProperties": {"rowCount": 1000, "columnCount": 26},
    }
    assert (second["properties"]["title"], second["properties"]["index"]) == ("Q1 Notes", 1)


def test_get_spreadsheet_with_grid_data(sheets: Any, budget: str) -> None:
    got = sheets.spreadsheets().get(
        spreadsheetId=budget, ranges=["Sheet1!B2:C3"], includeGridData=True
    )
    (sheet,) = got.execute()["sheets"]
    (grid,) = sheet["data"]
    assert (grid["startRow"], grid["startColumn"]) == (1, 1)
    first = grid["rowData"][0]["values"][0]
    assert first == {
        "userEnteredValue": {"numberValue": 1200},
        "effectiveValue": {"numberValue": 1200},
        "formattedValue": "1200",
    }


def test_values_get_formatted_and_unformatted(sheets: Any, budget: str) -> None:
    formatted = values(sheets, budget, "Sheet1!A1:D5")
    assert formatted == {"range": "Sheet1!A1:D5", "majorDimension": "ROWS", "values": BUDGET}
    raw = values(sheets, budget, "Sheet1!B3:D3", valueRenderOption="UNFORMATTED_VALUE")
    assert raw["values"] == [[310.5, 290.25, 305]]


@pytest.mark.parametrize(
    ("cells", "reported", "expected"),
    [
        ("A1:B2", "Sheet1!A1:B2", [["Category", "January"], ["Rent", "1200"]]),
        ("Sheet1", "Sheet1!A1:Z1000", BUDGET),
        ("Sheet1!A:A", "Sheet1!A1:A1000", [[row[0]] for row in BUDGET]),
        ("Sheet1!C4", "Sheet1!C4", [["58"]]),
        ("Sheet1!A5:B", "Sheet1!A5:B1000", [["Fun", "120"]]),
        ("'Q1 Notes'!A1:C3", "'Q1 Notes'!A1:C3", [["Rent goes up in April"]]),
        ("Q1 Notes", "'Q1 Notes'!A1:Z1000", [["Rent goes up in April"]]),
        ("Sheet1!F1:G9", "Sheet1!F1:G9", None),
    ],
)
def test_a1_notation(sheets: Any, budget: str, cells: str, reported: str, expected: Any) -> None:
    got = values(sheets, budget, cells)
    assert got["range"] == reported
    assert got.get("values") == expected


def test_columns_major_dimension(sheets: Any, budget: str) -> None:
    got = values(sheets, budget, "Sheet1!A1:B3", majorDimension="COLUMNS")
    assert got["majorDimension"] == "COLUMNS"
    assert got["values"] == [["Category", "Rent", "Groceries"], ["January", "1200", "310.5"]]


# -- writing -------------------------------------------------------------------------------------


def test_batch_update_then_get_and_batch_get(sheets: Any, budget: str) -> None:
    body = {
        "valueInputOption": "USER_ENTERED",
        "data": [
            {"range": "Sheet1!F1:G2", "values": [["Total", "42"], ["=SUM(B2:D2)", "TRUE"]]},
            {"range": "'Q1 Notes'!A3", "values": [["'007"]]},
        ],
    }
    result = sheets.spreadsheets().values().batchUpdate(spreadsheetId=budget, body=body).execute()
    assert result == {
        "spreadsheetId": budget,
        "totalUpdatedRows": 3,
        "totalUpdatedColumns": 3,
        "totalUpdatedCells": 5,
        "totalUpdatedSheets": 2,
        "responses": [
            {
                "spreadsheetId": budget,
                "updatedRange": "Sheet1!F1:G2",
                "updatedRows": 2,
                "updatedColumns": 2,
                "updatedCells": 4,
            },
            {
                "spreadsheetId": budget,
                "updatedRange": "'Q1 Notes'!A3",
                "updatedRows": 1,
                "updatedColumns": 1,
                "updatedCells": 1,
            },
        ],
    }
    formatted = values(sheets, budget, "Sheet1!F1:G2")["values"]
    assert formatted == [["Total", "42"], ["=SUM(B2:D2)", "TRUE"]]
    got = (
        sheets.spreadsheets()
        .values()
        .batchGet(
            spreadsheetId=budget,
            ranges=["Sheet1!F1:G2", "'Q1 Notes'!A1:A3"],
            valueRenderOption="UNFORMATTED_VALUE",
        )
        .execute()
    )
    assert got["spreadsheetId"] == budget
    first, second = got["valueRanges"]
    assert first["values"] == [["Total", 42], ["=SUM(B2:D2)", True]]
    assert second == {
        "range": "'Q1 Notes'!A1:A3",
        "majorDimension": "ROWS",
        "values": [["Rent goes up in April"], [], ["007"]],
    }


def test_raw_input_keeps_strings(sheets: Any, budget: str) -> None:
    body = {"values": [["42", "=1+1", 7, True]]}
    result = (
        sheets.spreadsheets()
        .values()
        .update(spreadsheetId=budget, range="Sheet1!A7", valueInputOption="RAW", body=body)
        .execute()
    )
    assert result["updatedRange"] == "Sheet1!A7:D7"
    assert result["updatedCells"] == 4
    raw = values(sheets, budget, "Sheet1!A7:D7", valueRenderOption="UNFORMATTED_VALUE")
    assert raw["values"] == [["42", "=1+1", 7, True]]


def test_update_can_return_the_written_values(sheets: Any, budget: str) -> None:
    result = (
        sheets.spreadsheets()
        .values()
        .update(
            spreadsheetId=budget,
            range="Sheet1!H1:H2",
            valueInputOption="USER_ENTERED",
            includeValuesInResponse=True,
            responseValueRenderOption="UNFORMATTED_VALUE",
            body={"majorDimension": "COLUMNS", "values": [["1.50", "x"]]},
        )
        .execute()
    )
    assert result["updatedData"] == {
        "range": "Sheet1!H1:H2",
        "majorDimension": "ROWS",
        "values": [[1.5], ["x"]],
    }


def test_empty_strings_clear_and_nulls_skip(sheets: Any, budget: str) -> None:
    body = {"values": [["", None, "kept"], ["", "", ""]]}
    sheets.spreadsheets().values().update(
        spreadsheetId=budget, range="Sheet1!A4:C5", valueInputOption="RAW", body=body
    ).execute()
    got = values(sheets, budget, "Sheet1!A3:D6")["values"]
    assert got == [
        ["Groceries", "310.5", "290.25", "305"],
        ["", "64", "kept", "71.2"],
        ["", "", "", "180"],
    ]


def test_a_failing_batch_writes_nothing(sheets: Any, budget: str) -> None:
    body = {
        "valueInputOption": "RAW",
        "data": [
            {"range": "Sheet1!A1", "values": [["changed"]]},
            {"range": "Sheet1!B1:C1", "values": [["far", "too", "wide"]]},
        ],
    }
    with pytest.raises(HttpError) as caught:
        sheets.spreadsheets().values().batchUpdate(spreadsheetId=budget, body=body).execute()
    assert caught.value.resp.status == 400
    assert caught.value.reason == (
        "Requested writing within range [Sheet1!B1:C1], but tried writing to column [D]"
    )
    assert values(sheets, budget, "Sheet1!A1")["values"] == [["Category"]]


def test_writes_past_the_grid_grow_it(sheets: Any, budget: str) -> None:
    sheets.spreadsheets().values().update(
        spreadsheetId=budget,
        range="Sheet1!AA1001",
        valueInputOption="RAW",
        body={"values": [["far"]]},
    ).execute()
    grid = sheets.spreadsheets().get(spreadsheetId=budget).execute()["sheets"][0]["properties"]
    assert grid["gridProperties"] == {"rowCount": 1001, "columnCount": 27}
    assert values(sheets, budget, "Sheet1!AA1001")["values"] == [["far"]]


def test_create_makes_a_drive_file_of_the_app(emulator: Emulator) -> None:
    client = emulator.create_client()
    token = access_token(emulator, A + "drive.file", client)
    sheets = service(emulator, "sheets", token)
    body = {
        "properties": {"title": "Team plan"},
        "sheets": [{"properties": {"title": "Tasks"}}, {"properties": {"title": "Done"}}],
    }
    created = sheets.spreadsheets().create(body=body).execute()
    new_id = created["spreadsheetId"]
    assert [s["properties"]["title"] for s in created["sheets"]] == ["Tasks", "Done"]
    assert created["spreadsheetUrl"].endswith(f"/d/{new_id}/edit")
    sheets.spreadsheets().values().update(
        spreadsheetId=new_id, range="Tasks!A1", valueInputOption="RAW", body={"values": [["ok"]]}
    ).execute()
    assert values(sheets, new_id, "Tasks!A1")["values"] == [["ok"]]
    # drive.file reaches only what this app created: not the seeded spreadsheet.
    with pytest.raises(HttpError) as caught:
        values(sheets, budget_id(emulator), "A1")
    assert caught.value.resp.status == 403
    assert caught.value.reason == "The caller does not have permission"


# -- gspread -------------------------------------------------------------------------------------


class _ToEmulator(requests.Session):
    """A requests session that sends gspread's Google URLs to the emulator."""

    def __init__(self, url: str, token: str) -> None:
        super().__init__()
        self.url = url
        self.headers["Authorization"] = f"Bearer {token}"

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        url = str(url)
        for host in ("https://sheets.googleapis.com", "https://www.googleapis.com"):
            url = url.replace(host, self.url)
        return super().request(str(method), url, *args, **kwargs)


def test_gspread_reads_and_writes(emulator: Emulator, budget: str) -> None:
    token = access_token(emulator, SHEETS)
    # gspread documents auth=None with a session of one's own; its type hints disagree.
    client = gspread.Client(auth=None, session=_ToEmulator(emulator.url, token))  # type: ignore[arg-type]
    spreadsheet = client.open_by_key(budget)
    assert spreadsheet.title == "Budget"
    sheet = spreadsheet.sheet1
    assert sheet.get_all_values()[:2] == BUDGET[:2]
    sheet.update([["Savings", 300]], "A6:B6")
    assert sheet.get("A6:B6") == [["Savings", "300"]]
    assert spreadsheet.worksheet("Q1 Notes").acell("A1").value == "Rent goes up in April"


# -- refusals ------------------------------------------------------------------------------------


def test_readonly_scope_cannot_write(emulator: Emulator, budget: str) -> None:
    token = access_token(emulator, READONLY)
    assert http(emulator, "GET", f"/{budget}/values/A1", token).status_code == 200
    response = http(
        emulator,
        "PUT",
        f"/{budget}/values/A1",
        token,
        params={"valueInputOption": "RAW"},
        json={"values": [["x"]]},
    )
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["message"] == "Request had insufficient authentication scopes."
    assert error["details"][0]["metadata"] == {
        "service": "sheets.googleapis.com",
        "method": "google.apps.sheets.v4.SpreadsheetsService.UpdateValues",
    }


def test_unknown_spreadsheet_is_404(emulator: Emulator) -> None:
    response = http(emulator, "GET", "/1nope/values/A1", access_token(emulator, SHEETS))
    assert response.status_code == 404
    assert response.json() == {
        "error": {"code": 404, "message": "Requested entity was not found.", "status": "NOT_FOUND"}
    }


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        ("Nowhere!A1", "Unable to parse range: Nowhere!A1"),
        ("Sheet1!A0", "Unable to parse range: A0"),
        ("Sheet1!A1:", "Unable to parse range: A1:"),
        ("Sheet1!B", "Unable to parse range: B"),
        ("'Q1 Notes", "Unable to parse range: 'Q1 Notes"),
        (
            "Sheet1!A999:A1001",
            "Range ('Sheet1'!A999:A1001) exceeds grid limits. Max rows: 1000, max columns: 26",
        ),
    ],
)
def test_bad_ranges_are_400(emulator: Emulator, budget: str, cells: str, message: str) -> None:
    token = access_token(emulator, SHEETS)
    response = http(emulator, "GET", f"/{budget}/values/{quote(cells, safe='')}", token)
    assert response.status_code == 400
    assert response.json() == {
        "error": {"code": 400, "message": message, "status": "INVALID_ARGUMENT"}
    }


@pytest.mark.parametrize(
    ("params", "body", "message"),
    [
        ({}, {"values": [["x"]]}, "'valueInputOption' is required but not specified"),
        (
            {"valueInputOption": "TYPED"},
            {"values": [["x"]]},
            "Invalid value at 'value_input_option' "
            '(type.googleapis.com/google.apps.sheets.v4.ValueInputOption), "TYPED"',
        ),
        (
            {"valueInputOption": "RAW"},
            {"values": "x"},
            "Invalid body.values: expected a list of lists of values",
        ),
        (
            {"valueInputOption": "RAW"},
            {"values": [[{"a": 1}]]},
            "Invalid body.values[0][0]: a cell holds a string, number, boolean or null",
        ),
        (
            {"valueInputOption": "RAW"},
            {"values": [["x"]], "colour": 1},
            "Invalid JSON payload received. Unknown name \"colour\" at 'body': Cannot find field.",
        ),
        (
            {"valueInputOption": "RAW"},
            {"range": "B2", "values": [["x"]]},
            "Requested range [A1] and the range in the body [B2] differ",
        ),
    ],
)
def test_bad_writes_are_400(
    emulator: Emulator, budget: str, params: dict[str, str], body: Any, message: str
) -> None:
    token = access_token(emulator, SHEETS)
    response = http(emulator, "PUT", f"/{budget}/values/A1", token, params=params, json=body)
    assert response.status_code == 400
    assert response.json()["error"]["message"] == message
    assert values(service(emulator, "sheets", token), budget, "A1")["values"] == [["Category"]]


def test_malformed_json_body_is_400(emulator: Emulator, budget: str) -> None:
    token = access_token(emulator, SHEETS)
    response = http(
        emulator,
        "POST",
        f"/{budget}/values:batchUpdate",
        token,
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["status"] == "INVALID_ARGUMENT"


def test_oversized_body_is_refused(emulator: Emulator, budget: str) -> None:
    token = access_token(emulator, SHEETS)
    huge = {"valueInputOption": "RAW", "data": [{"range": "A1", "values": [["x" * 70_000]]}]}
    response = http(emulator, "POST", f"/{budget}/values:batchUpdate", token, json=huge)
    assert response.status_code == 413
    assert "larger than" in response.json()["error"]["message"]


def test_unknown_paths_and_methods_answer_google_json(emulator: Emulator, budget: str) -> None:
    token = access_token(emulator, SHEETS)
    assert http(emulator, "POST", f"/{budget}/values:clear", token).status_code == 404
    wrong = http(emulator, "DELETE", f"/{budget}", token)
    assert wrong.status_code == 405
    assert wrong.json()["error"]["code"] == 405
    missing = http(emulator, "GET", f"/{budget}/developerMetadata/1", token)
    assert missing.status_code == 404
    assert missing.json()["error"]["status"] == "NOT_FOUND"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"valueInputOption": "RAW", "data": [{"range": "A1", "values": [[NaN]]}]}', "JSON"),
        (b'{"valueInputOption": "RAW", "data": [{"range": "A1", "values": [[1e400]]}]}', "values"),
        (
            b'{"valueInputOption": "RAW", "data": [{"range": "A1", "values": [[1'
            + b"0" * 400
            + b"]]}]}",
            "values",
        ),
        (b'{"data": ' + b"[" * 100_00 + b"]" * 100_00 + b"}", "JSON"),
        (
            b'{"valueInputOption": "RAW", "data": [{"range": "ZZZ9999999", "values": [["x"]]}]}',
            "above the limit of 10000000 cells",
        ),
        (
            b'{"valueInputOption": "RAW", "data": [{"range": "A1:B2:C3", "values": [["x"]]}]}',
            "parse",
        ),
        (b"[1, 2]", "object"),
    ],
)
def test_nonsense_writes_are_refused_without_harm(
    emulator: Emulator, budget: str, body: bytes, message: str
) -> None:
    token = access_token(emulator, SHEETS)
    headers = {"Content-Type": "application/json"}
    path = f"/{budget}/values:batchUpdate"
    response = http(emulator, "POST", path, token, headers=headers, content=body)
    assert response.status_code == 400
    assert message in response.json()["error"]["message"]
    assert values(service(emulator, "sheets", token), budget, "A1")["values"] == [["Category"]]


def test_user_entered_huge_number_stays_text(sheets: Any, budget: str) -> None:
    sheets.spreadsheets().values().update(
        spreadsheetId=budget,
        range="A1",
        valueInputOption="USER_ENTERED",
        body={"values": [["1e400"]]},
    ).execute()
    got = values(sheets, budget, "A1", valueRenderOption="UNFORMATTED_VALUE")
    assert got["values"] == [["1e400"]]
