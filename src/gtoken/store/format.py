"""What a gtoken home holds and how, in the standard library only.

The store (:mod:`gtoken.store`), the accounts layer (:mod:`gtoken.accounts`) and the fast path of
``gtoken token`` (:mod:`gtoken.cli.cached`, which answers from the files without importing the
store) all read these facts and rules from here, so that they cannot drift apart: a change of
format costs the fast path speed (it declines and the library answers), never a different answer.

Imports nothing beyond what Python has loaded at start-up (``re`` and ``json`` only on rare paths),
because ``gtoken token`` runs before every ``curl`` of a script.
"""

from __future__ import annotations

import binascii
import os
import stat

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing, which takes a while
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from datetime import datetime
    from typing import TypeVar

    T = TypeVar("T")

__all__ = [
    "ACCOUNT_ORDER",
    "APPLICATION_ID",
    "ASSOCIATED_DATA_LABEL",
    "AUTH_PREFIX",
    "DEFAULT_MIN_TTL",
    "DIR_MODE",
    "DIR_OPEN_BITS",
    "ENV_HOME",
    "ENV_KEY",
    "FILE_MODE",
    "FILE_OPEN_BITS",
    "GOOGLE_APIS",
    "KEY_FILE",
    "KEY_SIZE",
    "LITERAL",
    "MAIL",
    "NONCE_SIZE",
    "OIDC_URLS",
    "SCHEMA_VERSION",
    "SEALED_VERSION",
    "STORE_FILE",
    "STORE_SIDE_FILES",
    "TAG_SIZE",
    "associated_data",
    "canonical_scope",
    "decode_base64url",
    "decode_key",
    "default_account",
    "from_unix_seconds",
    "gtoken_home",
    "is_private",
    "key_in_file",
    "lenient_scope",
    "named_accounts",
    "scope_form",
    "sealed_parts",
    "unix_seconds",
]

# -- the home ------------------------------------------------------------------------------------

ENV_HOME = "GTOKEN_HOME"
ENV_KEY = "GTOKEN_KEY"
STORE_FILE = "store.sqlite3"
KEY_FILE = "key.json"
#: The files SQLite keeps beside the store, which hold its data too.
STORE_SIDE_FILES = ("-wal", "-shm", "-journal")
#: The home is 0700 and every file in it 0600, owned by the user gtoken runs as.
DIR_MODE = 0o700
FILE_MODE = 0o600
#: The bits that make a directory, or a file, reachable by others.
DIR_OPEN_BITS = 0o077
FILE_OPEN_BITS = 0o066


def gtoken_home(env: Mapping[str, str]) -> str:
    """gtoken's directory: ``$GTOKEN_HOME``, else ``$XDG_DATA_HOME/gtoken``, else
    ``~/.local/share/gtoken``. Nothing is created."""
    given = env.get(ENV_HOME)
    if given:
        return os.path.expanduser(given)
    xdg = env.get("XDG_DATA_HOME")
    # The XDG spec says a relative XDG_DATA_HOME is invalid and must be ignored.
    if xdg and os.path.isabs(xdg):
        return os.path.join(xdg, "gtoken")
    return os.path.join(os.path.expanduser("~"), ".local", "share", "gtoken")


def is_private(st: os.stat_result, *, directory: bool) -> bool:
    """Whether what ``st`` describes is of the kind asked, this user's, and closed to others."""
    if directory != stat.S_ISDIR(st.st_mode):
        return False
    if st.st_mode & (DIR_OPEN_BITS if directory else FILE_OPEN_BITS):
        return False
    return st.st_uid == os.geteuid()


# -- the store file ------------------------------------------------------------------------------

#: ``PRAGMA application_id`` of a gtoken store: "gtok".
APPLICATION_ID = 0x67746F6B
#: ``PRAGMA user_version``: the schema version this code writes (gtoken.store.schema).
SCHEMA_VERSION = 2
#: The order accounts are listed in; which default wins a tie depends on it.
ACCOUNT_ORDER = "client_id, email, id"


def read_only_mode(store: str) -> str:
    """How SQLite opens the store where nothing can be written (a read-only home): with no WAL
    file beside it the file alone is the whole store, and SQLite must not try to make the
    shared-memory file it cannot create there (``immutable``); with one, it reads through it."""
    return "ro" if os.path.exists(store + "-wal") else "ro&immutable=1"


#: The accounts marked default (one per client), found through the partial index on them.
DEFAULTS_WHERE = "is_default = 1"
#: The few accounts a name (lower-cased; bound twice) may fit, found through the id's and the
#: e-mail's indexes; :func:`named_accounts` decides which do.
NAMED_WHERE = "(id = ? OR lower(email) = lower(?))"

# -- sealed values ---------------------------------------------------------------------------------
#
# A sealed value is text: ``v1:<kid>:<base64url(nonce || ciphertext || tag), unpadded>``,
# AES-256-GCM with a 96-bit nonce, and associated data binding it to its place (table, row, field).

SEALED_VERSION = "v1"
KEY_SIZE = 32
NONCE_SIZE = 12
TAG_SIZE = 16
ASSOCIATED_DATA_LABEL = "gtoken-sealed-v1"
_HEX = frozenset("0123456789abcdef")
_BASE64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def sealed_parts(sealed: str) -> tuple[str, str] | None:
    """The key id and the base64url body of a sealed value, or None if it is not one."""
    version, _, rest = sealed.partition(":")
    kid, _, body = rest.partition(":")
    if version != SEALED_VERSION or len(kid) != 8 or not set(kid) <= _HEX:
        return None
    if not body or not set(body) <= _BASE64URL:
        return None
    return kid, body


def decode_base64url(body: str) -> bytes:
    """The bytes of unpadded base64url text; ValueError when it is not."""
    standard = body.replace("-", "+").replace("_", "/")
    return binascii.a2b_base64(standard + "=" * (-len(standard) % 4), strict_mode=True)


def associated_data(table: str, row: str, field: str) -> bytes:
    """The associated data a value sealed for ``(table, row, field)`` is bound to: the JSON list
    ``["gtoken-sealed-v1", table, row, field]``, which keeps the parts apart whatever they hold."""
    words = (ASSOCIATED_DATA_LABEL, table, row, field)
    if all(w.isascii() and w.isprintable() and not set(w) & {'"', "\\"} for w in words):
        # json.dumps's output for such words, without importing json on the hot path.
        return ("[" + ", ".join(f'"{w}"' for w in words) + "]").encode("utf-8")
    import json

    return json.dumps(list(words)).encode("utf-8")


# -- keys ----------------------------------------------------------------------------------------


def decode_key(text: str) -> bytes:
    """A key as ``GTOKEN_KEY`` and the key file give it: base64 (standard or URL-safe alphabet,
    padding optional, spaces ignored). ValueError when it is not base64; the length is the
    caller's to check against :data:`KEY_SIZE`."""
    compact = "".join(text.split()).replace("-", "+").replace("_", "/")
    return binascii.a2b_base64(compact + "=" * (-len(compact) % 4), strict_mode=True)


def key_in_file(text: str, kid: str) -> str | None:
    """The base64 of key ``kid`` in the text of a key file, ``{"current": kid, "keys": {kid:
    base64, ...}}``, or None when it lists no such key."""
    # As gtoken writes the file, a key is listed as '"<kid>": "<base64>"', and base64 has no
    # quote to end it early; anything else is read as the JSON it is.
    marker = f'"{kid}": "'
    start = text.find(marker)
    if start >= 0:
        start += len(marker)
        return text[start : text.index('"', start)]
    import json

    keys = json.loads(text).get("keys")
    found = keys.get(kid) if isinstance(keys, dict) else None
    return found if isinstance(found, str) else None


# -- accounts ------------------------------------------------------------------------------------

#: An access token closer than this to its expiry is refreshed before it is handed out.
DEFAULT_MIN_TTL = 120.0


def default_account(
    accounts: list[T], *, is_default: Callable[[T], bool], updated_at: Callable[[T], int]
) -> T | None:
    """The account used when none is named, from ``accounts`` in :data:`ACCOUNT_ORDER`: the
    last updated of those marked default (the first of equals), else the only one; None when
    there are several and none is the default."""
    defaults = [a for a in accounts if is_default(a)]
    if defaults:
        return max(defaults, key=updated_at)
    return accounts[0] if len(accounts) == 1 else None


def named_accounts(
    accounts: Iterable[T], name: str, *, id: Callable[[T], str], email: Callable[[T], str | None]
) -> list[T]:
    """The accounts ``name`` (an account id, or an email in any case) names."""
    wanted = name.strip().lower()
    return [a for a in accounts if id(a) == wanted or (email(a) or "").lower() == wanted]


def unix_seconds(moment: datetime | None) -> int | None:
    """``moment`` as the store keeps times: whole seconds since the epoch."""
    return None if moment is None else int(moment.timestamp())


def from_unix_seconds(seconds: float | None) -> datetime | None:
    """A time as the store keeps it, as an aware UTC datetime."""
    if seconds is None:
        return None
    from datetime import UTC, datetime

    return datetime.fromtimestamp(seconds, UTC)


# -- scopes --------------------------------------------------------------------------------------
#
# Scopes are stored and compared in their canonical form: full URLs, with the OpenID Connect words
# email and profile as the userinfo URLs Google reports for them (gtoken.oauth.scopes).

AUTH_PREFIX = "https://www.googleapis.com/auth/"
MAIL = "https://mail.google.com/"
OIDC_URLS = {"email": AUTH_PREFIX + "userinfo.email", "profile": AUTH_PREFIX + "userinfo.profile"}
_SHORT_FIRST = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_SHORT_CHARS = _SHORT_FIRST | frozenset("0123456789_-")
_ALNUM = _SHORT_FIRST | frozenset("0123456789")
_PLAIN_LAST = _ALNUM | frozenset("_-")
_PLAIN_CHARS = _ALNUM | frozenset("._:~+=-")
# What RFC 6749 (3.3) allows in a scope word: printable ASCII but space, '"' and '\\'.
_SCOPE_TOKEN_CHARS = frozenset(chr(c) for c in range(0x21, 0x7F)) - frozenset('"\\')
#: ``literal:WORD`` is the scope ``WORD``, sent as it is.
LITERAL = "literal:"
#: The first part of Google's short scope names (``gmail`` in ``gmail.readonly``, ``drive``,
#: ``cloud-platform``): the APIs of https://developers.google.com/identity/protocols/oauth2/scopes.
#: Other words are not Google's and are sent as they are.
GOOGLE_APIS = frozenset(
    [
        "adexchange",
        "admin",
        "admob",
        "adsense",
        "adsensehost",
        "adwords",
        "analytics",
        "androidenterprise",
        "androidmanagement",
        "androidpublisher",
        "apps",
        "bigquery",
        "bigtable",
        "blogger",
        "books",
        "business",
        "calendar",
        "chat",
        "chrome",
        "chromewebstore",
        "classroom",
        "cloud-billing",
        "cloud-identity",
        "cloud-platform",
        "cloud-translation",
        "cloud_debugger",
        "cloud_search",
        "cloudkms",
        "cloudplatformprojects",
        "cloudruntimeconfig",
        "compute",
        "contacts",
        "content",
        "dataportability",
        "datastore",
        "ddmconversions",
        "devstorage",
        "dfareporting",
        "dfatrafficking",
        "dialogflow",
        "directory",
        "display-video",
        "documents",
        "doubleclickbidmanager",
        "doubleclicksearch",
        "drive",
        "ediscovery",
        "firebase",
        "fitness",
        "forms",
        "games",
        "gmail",
        "groups",
        "homegraph",
        "iam",
        "indexing",
        "jobs",
        "keep",
        "logging",
        "manufacturercenter",
        "meetings",
        "monitoring",
        "ndev",
        "photoslibrary",
        "postmaster",
        "presentations",
        "pubsub",
        "sasportal",
        "script",
        "service",
        "siteverification",
        "spanner",
        "spreadsheets",
        "sqlservice",
        "streetviewpublish",
        "tagmanager",
        "tasks",
        "trace",
        "user",
        "userinfo",
        "webmasters",
        "youtube",
        "youtubepartner",
        "yt-analytics",
        "yt-analytics-monetary",
    ]
)
# A full scope: an https URL with a host and no spaces, quotes or separators.
_URL_FORM = r"https://[A-Za-z0-9.-]+\.[A-Za-z]{2,}(?::\d+)?/[^\s\"'<>,;{}|\\^`]*"


def scope_form(word: str) -> str | None:
    """The scope meant by ``word``: Google's short names become their URL (``gmail.readonly``,
    ``drive``; ``mail`` is ``https://mail.google.com/``); ``openid``, ``email``, ``profile``, full
    URLs and plain words that are not Google's (``offline_access``, ``read``) stay as they are;
    ``literal:WORD`` stays marked so (it is sent as ``WORD``). None for a word no OAuth server
    would take, or a short name of Google's that is malformed."""
    word = word.strip()
    if not word or len(word.split()) != 1:
        return None
    if word.startswith(LITERAL):
        rest = word[len(LITERAL) :]
        return word if rest and set(rest) <= _SCOPE_TOKEN_CHARS else None
    if word == "mail":
        return MAIL
    if word in ("openid", "email", "profile"):
        return word
    if word.startswith(("https://", "http://")):
        import re

        ok = re.fullmatch(_URL_FORM, word) is not None and not word.endswith("/auth/")
        return word if ok else None
    stem = word.split(".", 1)[0]
    if set(stem) <= _SHORT_CHARS and stem in GOOGLE_APIS:
        # Dotted words of letters, digits, '_' and '-', the first starting with a letter
        # (drive.file, youtube.force-ssl, devstorage.read_only).
        parts = word.split(".")
        if word[0] not in _SHORT_FIRST or not all(p and set(p) <= _SHORT_CHARS for p in parts):
            return None
        return AUTH_PREFIX + word
    # A plain word sent as it is (offline_access, read:org, api.read): letters and digits with
    # . _ : ~ + = - inside; no slashes or quotes, which mark a mangled URL or a pasted list.
    if word[0] in _ALNUM and word[-1] in _PLAIN_LAST and set(word) <= _PLAIN_CHARS:
        return word
    return None


def canonical_scope(word: str) -> str | None:
    """``word`` in the form scopes are stored and compared in, or None when it is no scope."""
    full = scope_form(word)
    return None if full is None else OIDC_URLS.get(full, full)


def lenient_scope(word: str) -> str:
    """The canonical form of a scope Google granted or a store holds, whose word is
    authoritative: one that is no scope gtoken knows stays as it is."""
    if word.startswith(("https://", "http://")):
        return word  # a full URL is its own canonical form, whether gtoken knows its shape or not
    full = scope_form(word)
    return word if full is None else OIDC_URLS.get(full, full)
