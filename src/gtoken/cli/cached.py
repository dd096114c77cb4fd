"""``gtoken token`` straight from the store, for the common case: a stored token still valid.

``gtoken token`` runs before every ``curl`` of a script, so its common case has to cost little
more than starting Python. This module reads the account's access token from the SQLite store
and opens it with the key, importing only ``sqlite3`` and cryptography's AES-GCM (not even
``json`` in the usual case); not :mod:`gtoken.store`, :mod:`gtoken.accounts` or ``argparse``,
which take several times longer to import than the whole answer.

It only ever answers "here is the token" when the library would hand out the same token without
asking Google, and ``None`` otherwise: no store or key yet, a token that expires within
``min_ttl``, an account that needs consent, an account name that fits none or several, a scope
that is not plainly granted, files others can read, a schema or sealed format this module does
not know, a key that does not open the value. Then the command goes through
:class:`gtoken.accounts.Accounts`, which refreshes, explains and fails as it should. So nothing
here raises or words an error, and a change to the store's format costs speed, never a wrong
answer. ``tests/cli/test_cached.py`` holds it to the store: same home, same account, same token.
"""

from __future__ import annotations

import binascii
import os
import sqlite3
import stat
import time
from collections.abc import Iterable, Mapping

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing, which takes a while
if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ["Cached", "cached_token", "gtoken_home"]

# What this reader knows of the store (gtoken.store.schema, .keys, .crypto); anything else is
# left to the library.
_STORE_FILE = "store.sqlite3"
_KEY_FILE = "key.json"
_SCHEMA_VERSION = 2
_APPLICATION_ID = 0x67746F6B
_SEALED_PREFIX = "v1"
_NONCE_SIZE = 12
_KEY_SIZE = 32
_COLUMNS = "id, email, scopes, status, is_default, updated_at, expires_at, access_token"
_ORDER = " ORDER BY client_id, email, id"
# Each through an index (the partial one of defaults, the id's, the e-mail's): one account among
# thousands is found without reading the others.
_DEFAULTS = f"SELECT {_COLUMNS} FROM accounts WHERE is_default = 1{_ORDER}"  # noqa: S608
_FIRST_TWO = f"SELECT {_COLUMNS} FROM accounts{_ORDER} LIMIT 2"  # noqa: S608
_NAMED = (
    f"SELECT {_COLUMNS} FROM accounts"  # noqa: S608
    f" WHERE id = ? OR lower(email) = lower(?){_ORDER} LIMIT 2"
)

# Scope words as gtoken.oauth.scopes.canonical compares them.
_AUTH_PREFIX = "https://www.googleapis.com/auth/"
_WORDS = {
    "openid": "openid",
    "email": _AUTH_PREFIX + "userinfo.email",
    "profile": _AUTH_PREFIX + "userinfo.profile",
    "mail": "https://mail.google.com/",
}
_SHORT_FORM_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")

# id, email, scopes, status, is_default, updated_at, expires_at, access_token (sealed)
_Row = tuple[str, str | None, str, str, int, int, int | None, str | None]


class Cached:
    """A stored access token that is valid for long enough. ``repr`` hides the token."""

    __slots__ = ("access_token", "account", "expires_at", "scopes")

    def __init__(
        self, access_token: str, *, expires_at: int, scopes: tuple[str, ...], account: str
    ) -> None:
        self.access_token = access_token
        self.expires_at = expires_at
        self.scopes = scopes
        self.account = account

    def __repr__(self) -> str:
        return f"Cached(account={self.account!r}, expires_at={self.expires_at})"


def gtoken_home(env: Mapping[str, str]) -> str:
    """gtoken's directory, as :func:`gtoken.store.gtoken_home` finds it."""
    given = env.get("GTOKEN_HOME")
    if given:
        return os.path.expanduser(given)
    xdg = env.get("XDG_DATA_HOME")
    if xdg and os.path.isabs(xdg):
        return os.path.join(xdg, "gtoken")
    return os.path.join(os.path.expanduser("~"), ".local", "share", "gtoken")


def cached_token(
    env: Mapping[str, str],
    *,
    account: str | None = None,
    scopes: Iterable[str] = (),
    min_ttl: float,
    now: float | None = None,
) -> Cached | None:
    """The stored token of ``account`` (default: the default account) when it is valid for
    ``min_ttl`` more seconds and has ``scopes``; None whenever the library should decide."""
    try:
        return _read(env, account, tuple(scopes), min_ttl, time.time() if now is None else now)
    except Exception:
        # Whatever went wrong here, the library meets it again and explains it properly.
        return None


def _read(
    env: Mapping[str, str], account: str | None, scopes: tuple[str, ...], min_ttl: float, now: float
) -> Cached | None:
    home = gtoken_home(env)
    path = os.path.join(home, _STORE_FILE)
    if not (_private(home, 0o077, directory=True) and _private(path, 0o066)):
        return None
    for suffix in ("-wal", "-shm", "-journal"):
        if os.path.lexists(path + suffix) and not _private(path + suffix, 0o066):
            return None
    row = _account_row(path, account)
    if row is None:
        return None
    account_id, email, stored_scopes, status, _default, _updated, expires_at, sealed = row
    if status != "active" or not isinstance(sealed, str) or type(expires_at) is not int:
        return None
    if not expires_at - now > min_ttl:
        return None
    granted = {_canonical(word) for word in stored_scopes.split()}
    if any(_canonical(word) not in granted for word in scopes):
        return None
    access_token = _open(sealed, account_id, env, home)
    if not access_token:
        return None
    return Cached(
        access_token,
        expires_at=expires_at,
        scopes=tuple(sorted(stored_scopes.split())),
        account=email or account_id,
    )


def _private(path: str, others: int, *, directory: bool = False) -> bool:
    """Whether ``path`` is this user's and closed to others, as the store requires."""
    st = os.stat(path)
    if directory != stat.S_ISDIR(st.st_mode) or st.st_mode & others:
        return False
    return st.st_uid == os.geteuid()


def _account_row(path: str, account: str | None) -> _Row | None:
    if any(c in path for c in "?#%"):
        return None  # would need URI escaping; rare enough to leave to the library
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        application = conn.execute("PRAGMA application_id").fetchone()[0]
        if version != _SCHEMA_VERSION or application != _APPLICATION_ID:
            return None
        return _choose(conn, account)
    finally:
        conn.close()


def _choose(conn: sqlite3.Connection, account: str | None) -> _Row | None:
    """The row :meth:`gtoken.accounts.Accounts.find` picks, or None where it would not pick one
    plainly."""
    rows: list[_Row]
    if account is None:
        defaults: list[_Row] = conn.execute(_DEFAULTS).fetchall()
        if defaults:
            # max() keeps the first of equals, like the library's over the same order.
            return max(defaults, key=lambda row: row[5])
        rows = conn.execute(_FIRST_TWO).fetchall()
    else:
        wanted = account.strip().lower()
        rows = conn.execute(_NAMED, (wanted, wanted)).fetchall()
    return rows[0] if len(rows) == 1 else None


def _canonical(word: str) -> str:
    """A scope word in the form stored scopes are compared in; a word this cannot read plainly
    comes back as it is, which no stored scope matches."""
    word = word.strip()
    if word in _WORDS:
        return _WORDS[word]
    if word.startswith("https://"):
        return word
    if word[:1].isalpha() and set(word) <= _SHORT_FORM_CHARS:
        return _AUTH_PREFIX + word
    return " " + word


def _open(sealed: str, account_id: str, env: Mapping[str, str], home: str) -> str | None:
    """The access token sealed as ``v1:<key id>:<base64url(nonce || ciphertext || tag)>`` with
    associated data ``["gtoken-sealed-v1", "accounts", <id>, "access_token"]``."""
    version, kid, body = sealed.split(":", 2)
    if version != _SEALED_PREFIX:
        return None
    key = _key(kid, env, home)
    if key is None:
        return None
    raw = binascii.a2b_base64(
        body.replace("-", "+").replace("_", "/") + "=" * (-len(body) % 4), strict_mode=True
    )
    associated = _json_list(["gtoken-sealed-v1", "accounts", account_id, "access_token"])
    plain = _aesgcm(key).decrypt(raw[:_NONCE_SIZE], raw[_NONCE_SIZE:], associated.encode())
    return bytes(plain).decode("utf-8")


def _json_list(words: list[str]) -> str:
    """``json.dumps(words)``, without importing json for the plain words it almost always is."""
    if all(word.isascii() and word.isprintable() and not set(word) & {'"', "\\"} for word in words):
        return "[" + ", ".join(f'"{word}"' for word in words) + "]"
    import json

    return json.dumps(words)


def _key(kid: str, env: Mapping[str, str], home: str) -> bytes | None:
    """The key that may have sealed a value of key id ``kid``. AES-GCM's tag is the check that
    it did: a wrong key fails to open the value, and the library takes over."""
    given = env.get("GTOKEN_KEY")
    if given:
        return _decode_key(given)
    path = os.path.join(home, _KEY_FILE)
    if not _private(path, 0o066):
        return None
    with open(path, encoding="utf-8") as f:
        text = f.read()
    # The key file as gtoken.store.keys writes it lists '"<kid>": "<base64>"'; a base64 key has
    # no quote to end it early. Anything else is read as the JSON it is.
    marker = f'"{kid}": "'
    start = text.find(marker)
    if start < 0:
        import json

        return _decode_key(json.loads(text)["keys"][kid])
    start += len(marker)
    return _decode_key(text[start : text.index('"', start)])


def _decode_key(text: str) -> bytes | None:
    compact = "".join(text.split()).replace("-", "+").replace("_", "/")
    key = binascii.a2b_base64(compact + "=" * (-len(compact) % 4), strict_mode=True)
    return key if len(key) == _KEY_SIZE else None


def _aesgcm(key: bytes) -> AESGCM:
    try:
        # The very class cryptography's public ``aead.AESGCM`` is, without that module's imports
        # (typing, enum and more), which would add half again to the command's time.
        from cryptography.hazmat.bindings._rust import openssl
    except ImportError:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        return AESGCM(key)
    return openssl.aead.AESGCM(key)
