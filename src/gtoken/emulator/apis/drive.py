"""Drive v3: ``files.list`` (search, order, paging, partial responses) and ``files.get``.

Which files a token sees depends on its scopes, as at Google: ``drive``, ``drive.readonly`` and
the ``drive.metadata`` scopes see the whole Drive; ``drive.file`` only what its own app created;
``drive.appdata`` only the app's ``appDataFolder`` space; ``drive.photos.readonly`` (a retired
scope) nothing here. Downloads (``alt=media``) need a scope that reads content. A service account
without a user has a Drive of its own, empty until it creates something through Sheets.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from gtoken.emulator import scopes as sc
from gtoken.emulator.apis import drive_query, fields
from gtoken.emulator.apis.api_errors import ApiError, error_item
from gtoken.emulator.apis.common import Call, Method, endpoint, insufficient_scopes
from gtoken.emulator.apis.drive_files import FILE_SCHEMA, DriveFile
from gtoken.emulator.apis.paging import page_offset, page_token
from gtoken.emulator.model import AccessToken, World

SERVICE = "drive.googleapis.com"
_A = sc.AUTH
DRIVE_FILE = _A + "drive.file"
APPDATA = _A + "drive.appdata"
#: Scopes that see every file of the Drive.
WHOLE_DRIVE = frozenset(
    _A + s for s in ("drive", "drive.readonly", "drive.metadata", "drive.metadata.readonly")
)
#: Scopes that may read a file's content.
CONTENT = frozenset({_A + "drive", _A + "drive.readonly", DRIVE_FILE, APPDATA})
_SCOPES = WHOLE_DRIVE | {DRIVE_FILE, APPDATA, _A + "drive.photos.readonly"}
_SHARED = frozenset({"includeLabels", "includePermissionsForView", "supportsAllDrives"})
_SHARED |= {"supportsTeamDrives"}

LIST = Method(
    SERVICE,
    "google.apps.drive.v3.DriveFiles.List",
    _SCOPES,
    _SHARED
    | {
        "corpora",
        "corpus",
        "driveId",
        "includeItemsFromAllDrives",
        "includeTeamDriveItems",
        "orderBy",
        "pageSize",
        "pageToken",
        "q",
        "spaces",
        "teamDriveId",
    },
    own_fields=True,
)
GET = Method(
    SERVICE,
    "google.apps.drive.v3.DriveFiles.Get",
    _SCOPES,
    _SHARED | {"acknowledgeAbuse"},
    own_fields=True,
    alts=frozenset({"json", "media"}),
)
DOWNLOAD = Method(SERVICE, GET.rpc, CONTENT)

LIST_DEFAULT = "kind,nextPageToken,incompleteSearch,files(kind,id,name,mimeType)"
GET_DEFAULT = "kind,id,name,mimeType"
_LIST_SCHEMA: fields.Schema = {
    **dict.fromkeys(("kind", "nextPageToken", "incompleteSearch")),
    "files": FILE_SCHEMA,
}
_SPACES = frozenset({"drive", "appDataFolder", "photos"})
_ORDER_KEYS: dict[str, Callable[[DriveFile], Any]] = {
    "name": lambda f: f.name.casefold(),
    "name_natural": lambda f: [
        int(p) if p.isdigit() else p for p in re.split(r"(\d+)", f.name.casefold())
    ],
    "createdTime": lambda f: f.created,
    "modifiedTime": lambda f: f.modified,
    "modifiedByMeTime": lambda f: f.modified,
    "viewedByMeTime": lambda f: f.modified,
    "recency": lambda f: max(f.created, f.modified),
    "folder": lambda f: not f.is_folder,
    "starred": lambda f: f.starred,
    "quotaBytesUsed": lambda f: f.size or 0,
    "sharedWithMeTime": lambda f: 0,
}


def invalid(message: str, location: str, reason: str = "invalid") -> ApiError:
    """Drive's own 400: no ``status``, the parameter named in ``location``."""
    return ApiError(400, message, None, errors=[error_item(message, reason, location)])


def _visible(token: AccessToken, file: DriveFile) -> bool:
    if file.space == "appDataFolder":
        return APPDATA in token.scopes and file.app_id == token.client_id
    if token.scopes & WHOLE_DRIVE:
        return True
    return DRIVE_FILE in token.scopes and file.app_id == token.client_id


def _masked(call: Call, default: str, schema: fields.Schema, value: dict[str, Any]) -> Any:
    selection = call.params.get("fields") or default
    try:
        mask = fields.parse(selection)
        fields.check(mask, schema)
    except fields.FieldsError as exc:
        message = f"Invalid field selection {exc.selection}"
        raise invalid(message, "fields", "invalidParameter") from None
    return fields.apply(mask, value)


def _spaces(call: Call) -> set[str]:
    spaces = {s.strip() for s in (call.params.get("spaces") or "drive").split(",")}
    if not spaces <= _SPACES:
        raise invalid("Invalid Value", "spaces")
    if "appDataFolder" in spaces and APPDATA not in call.token.scopes:
        message = "The granted scopes do not allow use of the Application Data folder."
        raise ApiError(403, message, None, errors=[error_item(message, "insufficientScopes")])
    if "drive" in spaces and not call.token.scopes & (_SCOPES - {APPDATA}):
        message = "The granted scopes do not give access to all of the requested spaces."
        raise ApiError(403, message, None, errors=[error_item(message, "insufficientScopes")])
    return spaces


def _order(files: list[DriveFile], order_by: str | None) -> list[DriveFile]:
    ordered = sorted(files, key=lambda f: f.id)
    keys = [k.strip() for k in order_by.split(",")] if order_by else ["modifiedTime desc"]
    for entry in reversed(keys):  # stable sorts, last key first
        name, _, direction = entry.partition(" ")
        direction = direction.strip().lower()
        if name not in _ORDER_KEYS or direction not in ("", "asc", "desc"):
            raise invalid("Invalid Value", "orderBy")
        ordered.sort(key=_ORDER_KEYS[name], reverse=direction == "desc")
    return ordered


async def list_files(call: Call) -> dict[str, Any]:
    params = call.params
    size = params.integer("pageSize", 100)
    if not 1 <= size <= 1000:
        message = f"Invalid value '{size}'. Values must be within the range: [1, 1000]"
        raise invalid(message, "pageSize")
    spaces = _spaces(call)
    drive = call.data.drive
    query = params.get("q") or ""
    try:
        test = drive_query.parse(query, drive.root_id) if query.strip() else None
    except drive_query.QueryError:
        raise invalid("Invalid Value", "q") from None
    candidates = [
        f
        for f in drive.files.values()
        if f.space in spaces and _visible(call.token, f) and (test is None or test(f))
    ]
    ordered = _order(candidates, params.get("orderBy"))
    key = repr((query, params.get("orderBy"), sorted(spaces)))
    offset = page_offset(params.get("pageToken"), key)
    if offset is None:
        raise invalid("Invalid Value", "pageToken")
    out: dict[str, Any] = {"kind": "drive#fileList"}
    if offset + size < len(ordered):
        out["nextPageToken"] = page_token(offset + size, key)
    out["incompleteSearch"] = False
    out["files"] = [f.resource() for f in ordered[offset : offset + size]]
    return dict(_masked(call, LIST_DEFAULT, _LIST_SCHEMA, out))


async def get_file(call: Call) -> dict[str, Any] | Response:
    drive = call.data.drive
    file_id = call.path["fileId"]
    file = drive.root() if file_id in ("root", drive.root_id) else drive.files.get(file_id)
    if file is None or not (file.id == drive.root_id or _visible(call.token, file)):
        message = f"File not found: {file_id}."
        raise ApiError(404, message, None, errors=[error_item(message, "notFound", "fileId")])
    if call.params.get("alt") == "media":
        return _download(call, file)
    return dict(_masked(call, GET_DEFAULT, FILE_SCHEMA, file.resource()))


def _download(call: Call, file: DriveFile) -> Response:
    if not call.token.scopes & CONTENT:
        raise insufficient_scopes(DOWNLOAD)
    if not file.binary or file.is_folder:
        message = (
            "Only files with binary content can be downloaded. Use Export with Docs Editors files."
        )
        raise ApiError(
            403, message, None, errors=[error_item(message, "fileNotDownloadable", "alt")]
        )
    return Response(file.content(), media_type=file.mime_type)


def routes(world: World) -> list[Route]:
    return [
        endpoint("/drive/v3/files", world, {"GET": (LIST, list_files)}),
        endpoint("/drive/v3/files/{fileId}", world, {"GET": (GET, get_file)}),
    ]
