"""The scopes the emulator knows, as Google names them.

Google accepts full scope URLs, plus the OpenID Connect short names ``openid``, ``email`` and
``profile``; a short form such as ``gmail.readonly`` is *not* a scope to Google and is refused with
``invalid_scope``. The emulator does the same on its Google-side endpoints. Its own control API is
friendlier and also takes short forms (see :func:`expand_control`).
"""

from __future__ import annotations

from collections.abc import Iterable

AUTH = "https://www.googleapis.com/auth/"
EMAIL = AUTH + "userinfo.email"
PROFILE = AUTH + "userinfo.profile"
OPENID = "openid"
MAIL = "https://mail.google.com/"

#: Scopes every consent grants without a checkbox: Google's sign-in scopes.
BASIC = frozenset({OPENID, EMAIL, PROFILE})

_SHORT = {"email": EMAIL, "profile": PROFILE, "openid": OPENID}

_AUTH_SCOPES = [
    "gmail.readonly",
    "gmail.metadata",
    "gmail.modify",
    "gmail.insert",
    "gmail.compose",
    "gmail.send",
    "gmail.labels",
    "gmail.settings.basic",
    "gmail.settings.sharing",
    "gmail.addons.current.message.metadata",
    "gmail.addons.current.message.readonly",
    "gmail.addons.current.action.compose",
    "gmail.addons.current.message.action",
    "drive",
    "drive.readonly",
    "drive.file",
    "drive.appdata",
    "drive.metadata",
    "drive.metadata.readonly",
    "drive.photos.readonly",
    "drive.scripts",
    "drive.apps.readonly",
    "spreadsheets",
    "spreadsheets.readonly",
    "documents",
    "documents.readonly",
    "presentations",
    "calendar",
    "calendar.readonly",
    "calendar.events",
    "calendar.events.readonly",
    "contacts",
    "contacts.readonly",
    "tasks",
    "tasks.readonly",
    "youtube",
    "youtube.readonly",
    "youtube.upload",
    "youtube.force-ssl",
    "cloud-platform",
    "cloud-platform.read-only",
    "devstorage.read_only",
    "devstorage.read_write",
    "bigquery",
    "pubsub",
    "admin.directory.user",
    "admin.directory.user.readonly",
    "admin.directory.group",
    "userinfo.email",
    "userinfo.profile",
]

KNOWN = frozenset({AUTH + s for s in _AUTH_SCOPES} | {OPENID, MAIL})

#: What the device flow accepts (Google's "allowed scopes" list for limited-input devices).
DEVICE_ALLOWED = frozenset(
    {OPENID, EMAIL, PROFILE}
    | {AUTH + s for s in ("drive.appdata", "drive.file", "youtube", "youtube.readonly")}
)

#: Scopes whose refresh tokens die when the user changes password.
GMAIL = frozenset({MAIL} | {s for s in KNOWN if s.startswith(AUTH + "gmail.")})


def parse(raw: str) -> tuple[list[str], list[str]]:
    """Split a space-separated ``scope`` parameter into (known scopes, invalid strings).

    Known scopes come back in their canonical form (``email`` becomes the userinfo URL), in
    request order, without duplicates.
    """
    known: list[str] = []
    invalid: list[str] = []
    for word in raw.split():
        scope = _SHORT.get(word, word)
        if scope in KNOWN:
            if scope not in known:
                known.append(scope)
        elif word not in invalid:
            invalid.append(word)
    return known, invalid


def expand_control(words: Iterable[str]) -> list[str]:
    """Canonical scopes from the control API, which also takes ``gmail.readonly`` and ``mail``."""
    out: list[str] = []
    for word in words:
        if word == "mail":
            scope = MAIL
        elif word in _SHORT:
            scope = _SHORT[word]
        elif "/" not in word and ":" not in word:
            scope = AUTH + word
        else:
            scope = word
        if scope not in out:
            out.append(scope)
    return out


def granted_with_openid(scopes: Iterable[str]) -> list[str]:
    """Google adds ``openid`` whenever a userinfo scope was granted."""
    result = list(dict.fromkeys(scopes))
    if OPENID not in result and (EMAIL in result or PROFILE in result):
        result.append(OPENID)
    return result


def redirect_form(scopes: Iterable[str]) -> str:
    """The ``scope`` value of the redirect back: Google mixes short names and URLs there."""
    words = []
    for scope in scopes:
        if scope == EMAIL:
            words.extend(["email", EMAIL])
        elif scope == PROFILE:
            words.extend(["profile", PROFILE])
        else:
            words.append(scope)
    return " ".join(dict.fromkeys(words))


def label(scope: str) -> str:
    """A person-readable line for the consent page."""
    return _LABELS.get(scope, scope)


_LABELS = {
    OPENID: "Associate you with your personal info on Google",
    EMAIL: "See your primary Google Account email address",
    PROFILE: "See your personal info, including any personal info you've made publicly available",
    MAIL: "Read, compose, send, and permanently delete all your email from Gmail",
    AUTH + "gmail.readonly": "View your email messages and settings",
    AUTH + "gmail.metadata": "View your email message metadata such as labels and headers",
    AUTH + "gmail.modify": "Read, compose, and send emails from your Gmail account",
    AUTH + "gmail.send": "Send email on your behalf",
    AUTH + "gmail.labels": "See and edit your email labels",
    AUTH + "drive": "See, edit, create, and delete all of your Google Drive files",
    AUTH + "drive.readonly": "See and download all your Google Drive files",
    AUTH + "drive.file": "See, edit, create, and delete only the Drive files you use with this app",
    AUTH + "drive.metadata.readonly": "See information about your Google Drive files",
    AUTH + "spreadsheets": "See, edit, create, and delete all your Google Sheets spreadsheets",
    AUTH + "spreadsheets.readonly": "See all your Google Sheets spreadsheets",
}
