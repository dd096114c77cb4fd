"""The Drive v3 slice, as googleapiclient and plain HTTP clients see it."""
# mypy: disable-error-code="no-untyped-call"

from __future__ import annotations

import contextlib
import hashlib
from typing import Any

import google.auth.transport.requests
import google.oauth2.credentials
import google.oauth2.service_account
import httpx
import pytest
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from gtoken.emulator.client import Emulator, EmulatorError
from tests.support import login

A = "https://www.googleapis.com/auth/"
READONLY = A + "drive.readonly"
DRIVE_FILE = A + "drive.file"
ADA = "ada@example.com"
FOLDER = "application/vnd.google-apps.folder"
SEEDED = {
    "Projects",
    "Photos",
    "Budget",
    "Meeting notes",
    "Project plan",
    "Quarterly review",
    "Architecture diagram.png",
    "Invoice 2024-001.pdf",
    "Lease agreement.pdf",
    "Beach.jpg",
    "Mountains.jpg",
    "todo.txt",
    "contacts.csv",
    "Reading list",
    "old-backup.zip",
}


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


@pytest.fixture
def drive(emulator: Emulator) -> Any:
    return service(emulator, "drive", access_token(emulator, READONLY))


def api(emulator: Emulator, path: str, token: str | None, **params: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return httpx.get(f"{emulator.url}/drive/v3{path}", headers=headers, params=params)


def all_files(drive: Any, **query: Any) -> tuple[list[dict[str, Any]], int]:
    """Every file of a listing, following ``nextPageToken``: (files, number of pages)."""
    files: list[dict[str, Any]] = []
    pages = 0
    request = drive.files().list(**query)
    while request is not None:
        page = request.execute()
        pages += 1
        files.extend(page["files"])
        request = drive.files().list_next(request, page)
    return files, pages


def names(drive: Any, q: str, **query: Any) -> list[str]:
    files, _ = all_files(drive, q=q, fields="nextPageToken, files(name)", **query)
    return [f["name"] for f in files]


def file_named(drive: Any, name: str) -> dict[str, Any]:
    (found,) = all_files(drive, q=f"name = '{name}'", fields="files(id,name,mimeType)")[0]
    return found


# -- through googleapiclient ---------------------------------------------------------------------


def test_paging_with_fields_lists_every_file_once(drive: Any) -> None:
    files, pages = all_files(drive, pageSize=4, fields="nextPageToken, files(id, name, mimeType)")
    assert pages == 4
    assert len(files) == 15
    assert len({f["id"] for f in files}) == 15
    assert {f["name"] for f in files} == SEEDED  # the trashed file too: q does not exclude it
    assert all(set(f) == {"id", "name", "mimeType"} for f in files)


def test_default_fields_are_googles(drive: Any) -> None:
    page = drive.files().list(pageSize=2).execute()
    assert list(page) == ["kind", "nextPageToken", "incompleteSearch", "files"]
    assert page["kind"] == "drive#fileList"
    assert page["incompleteSearch"] is False
    assert [set(f) for f in page["files"]] == [{"kind", "id", "name", "mimeType"}] * 2
    last = drive.files().list(pageSize=1000).execute()
    assert "nextPageToken" not in last


def test_fields_without_next_page_token_lose_paging_as_at_google(drive: Any) -> None:
    page = drive.files().list(pageSize=2, fields="files/id").execute()
    assert list(page) == ["files"]
    assert [set(f) for f in page["files"]] == [{"id"}] * 2


def test_star_fields_give_the_whole_resource(drive: Any) -> None:
    (pdf,) = drive.files().list(q="name = 'Invoice 2024-001.pdf'", fields="*").execute()["files"]
    assert pdf["mimeType"] == "application/pdf"
    assert pdf["size"] == "48213"
    assert pdf["owners"][0]["emailAddress"] == ADA
    assert pdf["trashed"] is False
    assert pdf["createdTime"].endswith("Z")
    assert len(pdf["parents"]) == 1


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("trashed = true", {"old-backup.zip"}),
        (f"mimeType = '{FOLDER}'", {"Projects", "Photos"}),
        ("name contains 'plan'", {"Project plan"}),
        ("name contains 'PRO'", {"Projects", "Project plan"}),
        ("name contains 'lan'", set()),
        ("name = 'Budget'", {"Budget"}),
        (
            "mimeType contains 'image/' and not name contains 'beach'",
            {"Mountains.jpg", "Architecture diagram.png"},
        ),
        ("starred = true and trashed = false", {"Budget", "Lease agreement.pdf", "Mountains.jpg"}),
        ("name = 'todo.txt' or name = 'contacts.csv'", {"todo.txt", "contacts.csv"}),
        ("name = 'It\\'s not here'", set()),
        (
            "modifiedTime > '2024-01-27T00:00:00'",
            {"todo.txt", "contacts.csv", "Reading list", "old-backup.zip"},
        ),
    ],
)
def test_search_terms(drive: Any, q: str, expected: set[str]) -> None:
    assert set(names(drive, q)) == expected


def test_trashed_false_leaves_the_trash_out(drive: Any) -> None:
    found = names(drive, "trashed = false")
    assert len(found) == 14
    assert "old-backup.zip" not in found


def test_in_parents_lists_a_folder(drive: Any) -> None:
    projects = file_named(drive, "Projects")
    inside = names(drive, f"'{projects['id']}' in parents and trashed = false")
    assert set(inside) == {
        "Meeting notes",
        "Project plan",
        "Quarterly review",
        "Architecture diagram.png",
    }
    top = names(drive, f"'root' in parents and mimeType != '{FOLDER}' and trashed = false")
    assert set(top) == {
        "Budget",
        "Invoice 2024-001.pdf",
        "Lease agreement.pdf",
        "todo.txt",
        "contacts.csv",
        "Reading list",
    }


def test_order_by(drive: Any) -> None:
    by_name = names(drive, "trashed = false", orderBy="name")
    assert by_name == sorted(by_name, key=str.casefold)
    assert names(drive, "trashed = false", orderBy="name desc") == by_name[::-1]
    folders_first = names(drive, "trashed = false", orderBy="folder,name")
    assert folders_first[:2] == ["Photos", "Projects"]
    files, _ = all_files(drive, orderBy="modifiedTime desc", fields="files(modifiedTime)")
    times = [f["modifiedTime"] for f in files]
    assert times == sorted(times, reverse=True)


def test_get_with_fields_and_the_root_alias(drive: Any) -> None:
    budget = file_named(drive, "Budget")
    got = drive.files().get(fileId=budget["id"], fields="id,name,parents,owners/emailAddress")
    got = got.execute()
    root = drive.files().get(fileId="root", fields="id,name,mimeType").execute()
    assert got == {
        "id": budget["id"],
        "name": "Budget",
        "parents": [root["id"]],
        "owners": [{"emailAddress": ADA}],
    }
    assert root["name"] == "My Drive"
    assert root["mimeType"] == FOLDER
    assert set(drive.files().get(fileId=budget["id"]).execute()) == {
        "kind",
        "id",
        "name",
        "mimeType",
    }


def test_download_matches_size_and_checksum(drive: Any) -> None:
    pdf = file_named(drive, "Invoice 2024-001.pdf")
    meta = drive.files().get(fileId=pdf["id"], fields="size,md5Checksum").execute()
    content = drive.files().get_media(fileId=pdf["id"]).execute()
    assert content.startswith(b"%PDF-")
    assert len(content) == int(meta["size"])
    assert hashlib.md5(content).hexdigest() == meta["md5Checksum"]


def test_google_docs_cannot_be_downloaded(drive: Any) -> None:
    doc = file_named(drive, "Meeting notes")
    with pytest.raises(HttpError) as caught:
        drive.files().get_media(fileId=doc["id"]).execute()
    assert caught.value.resp.status == 403
    assert caught.value.error_details[0]["reason"] == "fileNotDownloadable"


def test_unknown_file_is_drives_404(emulator: Emulator) -> None:
    token = access_token(emulator, READONLY)
    response = api(emulator, "/files/1nope", token)
    assert response.status_code == 404
    assert response.json() == {
        "error": {
            "code": 404,
            "message": "File not found: 1nope.",
            "errors": [
                {
                    "message": "File not found: 1nope.",
                    "domain": "global",
                    "reason": "notFound",
                    "location": "fileId",
                    "locationType": "parameter",
                }
            ],
        }
    }


# -- scopes --------------------------------------------------------------------------------------


def test_drive_file_sees_only_what_its_app_created(emulator: Emulator) -> None:
    client = emulator.create_client()
    own = access_token(emulator, f"{DRIVE_FILE} {A}spreadsheets", client)
    other = access_token(emulator, DRIVE_FILE)
    drive = service(emulator, "drive", own)
    assert drive.files().list().execute()["files"] == []
    budget_id = file_named(service(emulator, "drive", access_token(emulator, READONLY)), "Budget")
    assert api(emulator, f"/files/{budget_id['id']}", own).status_code == 404

    sheets = service(emulator, "sheets", own)
    created = sheets.spreadsheets().create(body={"properties": {"title": "Made here"}}).execute()
    (seen,) = drive.files().list(fields="files(id,name,mimeType)").execute()["files"]
    assert seen == {
        "id": created["spreadsheetId"],
        "name": "Made here",
        "mimeType": "application/vnd.google-apps.spreadsheet",
    }
    assert api(emulator, "/files", other).json()["files"] == []
    assert api(emulator, f"/files/{seen['id']}", other).status_code == 404


def test_metadata_scope_lists_but_cannot_download(emulator: Emulator) -> None:
    token = access_token(emulator, A + "drive.metadata.readonly")
    drive = service(emulator, "drive", token)
    pdf = file_named(drive, "Lease agreement.pdf")
    response = api(emulator, f"/files/{pdf['id']}", token, alt="media")
    assert response.status_code == 403
    assert response.json()["error"]["message"] == "Request had insufficient authentication scopes."


def test_appdata_scope_sees_its_space_only(emulator: Emulator) -> None:
    token = access_token(emulator, A + "drive.appdata")
    assert api(emulator, "/files", token, spaces="appDataFolder").json()["files"] == []
    refused = api(emulator, "/files", token)
    assert refused.status_code == 403
    message = "The granted scopes do not give access to all of the requested spaces."
    assert refused.json()["error"]["message"] == message
    readonly = access_token(emulator, READONLY)
    assert api(emulator, "/files", readonly, spaces="appDataFolder").status_code == 403


def test_gmail_token_is_refused_with_drive_error_info(emulator: Emulator) -> None:
    token = access_token(emulator, A + "gmail.readonly")
    response = api(emulator, "/files", token)
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["status"] == "PERMISSION_DENIED"
    assert error["details"][0]["metadata"] == {
        "service": "drive.googleapis.com",
        "method": "google.apps.drive.v3.DriveFiles.List",
    }


def test_missing_token_is_401(emulator: Emulator) -> None:
    response = api(emulator, "/files", None)
    assert response.status_code == 401
    assert response.json()["error"]["status"] == "UNAUTHENTICATED"


def test_service_account_has_its_own_empty_drive(emulator: Emulator) -> None:
    key = emulator.create_service_account()
    creds = google.oauth2.service_account.Credentials.from_service_account_info(
        key, scopes=[A + "drive"]
    )
    creds.refresh(google.auth.transport.requests.Request())
    response = api(emulator, "/files", str(creds.token))
    assert response.status_code == 200
    assert response.json()["files"] == []


# -- bad requests --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "location", "message"),
    [
        ({"q": "title = 'x'"}, "q", "Invalid Value"),
        ({"q": "name = 'unterminated"}, "q", "Invalid Value"),
        ({"q": "trashed = maybe"}, "q", "Invalid Value"),
        ({"q": "name contains 'a' and"}, "q", "Invalid Value"),
        ({"q": "modifiedTime > 'yesterday'"}, "q", "Invalid Value"),
        (
            {"pageSize": "0"},
            "pageSize",
            "Invalid value '0'. Values must be within the range: [1, 1000]",
        ),
        (
            {"pageSize": "1001"},
            "pageSize",
            "Invalid value '1001'. Values must be within the range: [1, 1000]",
        ),
        ({"pageToken": "garbage"}, "pageToken", "Invalid Value"),
        ({"orderBy": "size"}, "orderBy", "Invalid Value"),
        ({"orderBy": "name sideways"}, "orderBy", "Invalid Value"),
        ({"spaces": "elsewhere"}, "spaces", "Invalid Value"),
        ({"fields": "files(id,colour)"}, "fields", "Invalid field selection files/colour"),
        ({"fields": "files(id"}, "fields", "Invalid field selection files(id"),
    ],
)
def test_bad_list_parameters_are_drive_400s(
    emulator: Emulator, params: dict[str, str], location: str, message: str
) -> None:
    token = access_token(emulator, READONLY)
    response = api(emulator, "/files", token, **params)
    assert response.status_code == 400
    (item,) = response.json()["error"]["errors"]
    assert item["location"] == location
    assert item["locationType"] == "parameter"
    assert item["message"] == message
    assert response.json()["error"]["message"] == message


def test_non_numeric_page_size_is_a_binding_error(emulator: Emulator) -> None:
    token = access_token(emulator, READONLY)
    response = api(emulator, "/files", token, pageSize="ten")
    assert response.status_code == 400
    assert response.json()["error"]["status"] == "INVALID_ARGUMENT"


def test_unknown_paths_and_methods_answer_google_json(emulator: Emulator) -> None:
    token = access_token(emulator, READONLY)
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{emulator.url}/drive/v3/about", headers=headers).status_code == 404
    wrong = httpx.post(f"{emulator.url}/drive/v3/files", headers=headers, json={})
    assert wrong.status_code == 405
    assert wrong.json()["error"]["code"] == 405


@pytest.mark.parametrize(
    "params",
    [
        {"q": "(" * 5000 + "name = 'x'"},
        {"q": "not " * 3000 + "name = 'x'"},
        {"q": "(" * 100 + "trashed = false" + ")" * 100},
        {"q": "modifiedTime > '0001-01-01T00:00:00+14:00'"},
        {"q": "name = '\x00😀'"},
        {"fields": "files(" * 3000},
        {"fields": "files/" * 3000 + "id"},
        {"pageToken": "OTk5OTk5OTk5OTk5OTk5OTk5OTk5"},
        {"orderBy": ",,,"},
    ],
)
def test_nonsense_never_fails_the_server(emulator: Emulator, params: dict[str, str]) -> None:
    token = access_token(emulator, READONLY)
    response = api(emulator, "/files", token, **params)
    assert response.status_code in (200, 400)
    body = response.json()
    assert "files" in body or body["error"]["code"] == 400
