"""A user's Drive: files and folders, the seeded sample, and Drive v3's JSON for a file.

Each file remembers which OAuth client created it (``app_id``); that is what the ``drive.file``
scope sees. The seeded files were made "elsewhere" (``app_id`` is ``None``), so a ``drive.file``
token sees none of them until its app creates something.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any

from gtoken.emulator.apis.fields import Schema

FOLDER = "application/vnd.google-apps.folder"
DOCUMENT = "application/vnd.google-apps.document"
SPREADSHEET = "application/vnd.google-apps.spreadsheet"
PRESENTATION = "application/vnd.google-apps.presentation"
GOOGLE_APPS = "application/vnd.google-apps."

_MAGIC = {
    "application/pdf": b"%PDF-1.4\n",
    "image/png": b"\x89PNG\r\n\x1a\n",
    "image/jpeg": b"\xff\xd8\xff\xe0",
}
_VIEW = {
    DOCUMENT: "https://docs.google.com/document/d/{id}/edit?usp=drivesdk",
    SPREADSHEET: "https://docs.google.com/spreadsheets/d/{id}/edit?usp=drivesdk",
    PRESENTATION: "https://docs.google.com/presentation/d/{id}/edit?usp=drivesdk",
    FOLDER: "https://drive.google.com/drive/folders/{id}",
}
_USER_SCHEMA: Schema = dict.fromkeys(
    ("kind", "displayName", "me", "permissionId", "emailAddress", "photoLink")
)
#: Every field :meth:`DriveFile.resource` can return, for checking ``fields``.
FILE_SCHEMA: Schema = {
    **dict.fromkeys(
        [
            "kind",
            "id",
            "name",
            "mimeType",
            "starred",
            "trashed",
            "explicitlyTrashed",
            "parents",
            "spaces",
            "version",
            "webViewLink",
            "webContentLink",
            "iconLink",
            "createdTime",
            "modifiedTime",
            "ownedByMe",
            "shared",
            "size",
            "md5Checksum",
            "fileExtension",
            "fullFileExtension",
            "originalFilename",
            "quotaBytesUsed",
        ]
    ),
    "owners": _USER_SCHEMA,
    "lastModifyingUser": _USER_SCHEMA,
}


def rfc3339(seconds: float) -> str:
    """Drive's timestamps: UTC with milliseconds and a ``Z``."""
    when = dt.datetime.fromtimestamp(seconds, dt.UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


@dataclass(eq=False)
class DriveFile:
    id: str
    name: str
    mime_type: str
    parents: list[str]
    created: float
    modified: float
    owner_email: str
    owner_name: str
    size: int | None = None  # binary files only; Google's own formats use no quota
    trashed: bool = False
    starred: bool = False
    #: The client id of the app that created the file; ``None`` for files made elsewhere.
    app_id: str | None = None
    space: str = "drive"

    @property
    def is_folder(self) -> bool:
        return self.mime_type == FOLDER

    @property
    def binary(self) -> bool:
        return not self.mime_type.startswith(GOOGLE_APPS)

    def content(self) -> bytes:
        """Deterministic bytes of the file's size, starting with its type's magic number."""
        size = self.size or 0
        out = bytearray(_MAGIC.get(self.mime_type, b""))
        block = hashlib.sha256(self.id.encode()).digest()
        while len(out) < size:
            out += block
            block = hashlib.sha256(block).digest()
        return bytes(out[:size])

    def resource(self) -> dict[str, Any]:
        """The file with every field Drive v3 gives it (``fields=*``)."""
        owner = {
            "kind": "drive#user",
            "displayName": self.owner_name,
            "me": True,
            "permissionId": hashlib.sha256(self.owner_email.encode()).hexdigest()[:20],
            "emailAddress": self.owner_email,
            "photoLink": "https://lh3.googleusercontent.com/a/default-user=s64",
        }
        out: dict[str, Any] = {
            "kind": "drive#file",
            "id": self.id,
            "name": self.name,
            "mimeType": self.mime_type,
            "starred": self.starred,
            "trashed": self.trashed,
            "explicitlyTrashed": self.trashed,
            "parents": list(self.parents),
            "spaces": [self.space],
            "version": "3",
            "webViewLink": _VIEW.get(
                self.mime_type, "https://drive.google.com/file/d/{id}/view?usp=drivesdk"
            ).format(id=self.id),
            "iconLink": f"https://drive-thirdparty.googleusercontent.com/16/type/{self.mime_type}",
            "createdTime": rfc3339(self.created),
            "modifiedTime": rfc3339(self.modified),
            "owners": [owner],
            "lastModifyingUser": owner,
            "ownedByMe": True,
            "shared": False,
            "quotaBytesUsed": str(self.size or 0),
        }
        if self.binary and not self.is_folder:
            content = self.content()
            extension = self.name.rsplit(".", 1)[1] if "." in self.name else ""
            out.update(
                webContentLink=f"https://drive.google.com/uc?id={self.id}&export=download",
                size=str(len(content)),
                md5Checksum=hashlib.md5(content, usedforsecurity=False).hexdigest(),
                originalFilename=self.name,
                fileExtension=extension,
                fullFileExtension=extension,
            )
        return out


@dataclass(eq=False)
class Drive:
    root_id: str
    owner_email: str
    owner_name: str
    files: dict[str, DriveFile] = field(default_factory=dict)

    def root(self) -> DriveFile:
        """``My Drive`` itself, which ``files.get`` answers for ``root``."""
        return DriveFile(
            id=self.root_id,
            name="My Drive",
            mime_type=FOLDER,
            parents=[],
            created=_START.timestamp(),
            modified=_START.timestamp(),
            owner_email=self.owner_email,
            owner_name=self.owner_name,
        )

    def add(self, file: DriveFile) -> DriveFile:
        self.files[file.id] = file
        return file


def file_id(seed: str, *, native: bool) -> str:
    """A Drive-looking id: 44 characters for Google's own formats, 33 for uploads."""
    digest = hashlib.sha256(seed.encode()).digest()
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    body = "".join(alphabet[b % 64] for b in digest + hashlib.sha256(digest).digest())
    return "1" + body[: 43 if native else 32]


_START = dt.datetime(2024, 1, 5, 9, 30, tzinfo=dt.UTC)
# (key, name, mimeType, parent key or None for My Drive, size, trashed, starred)
_SEED: tuple[tuple[str, str, str, str | None, int | None, bool, bool], ...] = (
    ("projects", "Projects", FOLDER, None, None, False, False),
    ("photos", "Photos", FOLDER, None, None, False, False),
    ("budget", "Budget", SPREADSHEET, None, None, False, True),
    ("notes", "Meeting notes", DOCUMENT, "projects", None, False, False),
    ("plan", "Project plan", DOCUMENT, "projects", None, False, False),
    ("review", "Quarterly review", PRESENTATION, "projects", None, False, False),
    ("diagram", "Architecture diagram.png", "image/png", "projects", 18_431, False, False),
    ("invoice", "Invoice 2024-001.pdf", "application/pdf", None, 48_213, False, False),
    ("lease", "Lease agreement.pdf", "application/pdf", None, 131_072, False, True),
    ("beach", "Beach.jpg", "image/jpeg", "photos", 65_536, False, False),
    ("mountains", "Mountains.jpg", "image/jpeg", "photos", 90_112, False, True),
    ("todo", "todo.txt", "text/plain", None, 312, False, False),
    ("contacts", "contacts.csv", "text/csv", None, 2_048, False, False),
    ("reading", "Reading list", DOCUMENT, None, None, False, False),
    ("backup", "old-backup.zip", "application/zip", None, 524_288, True, False),
)


def seed_drive(email: str, name: str, spreadsheet_id: str) -> Drive:
    """The sample Drive every user starts with; ``Budget`` is the seeded spreadsheet."""
    root_id = "0A" + file_id(f"{email}:root", native=False)[1:17] + "Uk9PVA"
    drive = Drive(root_id=root_id, owner_email=email, owner_name=name)
    ids: dict[str, str] = {}
    for n, (key, title, mime, parent, size, trashed, starred) in enumerate(_SEED):
        native = mime.startswith(GOOGLE_APPS)
        ids[key] = spreadsheet_id if key == "budget" else file_id(f"{email}:{key}", native=native)
        created = (_START + dt.timedelta(days=2 * n, hours=n)).timestamp()
        drive.add(
            DriveFile(
                id=ids[key],
                name=title,
                mime_type=mime,
                parents=[ids[parent] if parent else drive.root_id],
                created=created,
                modified=created + 3600 * (7 * n % 30 + 1),
                owner_email=email,
                owner_name=name,
                size=size,
                trashed=trashed,
                starred=starred,
            )
        )
    return drive
