"""``gtoken token`` straight from the store, for the common case: a stored token still valid.

``gtoken token`` runs before every ``curl`` of a script, so its common case has to cost little
more than starting Python. This module reads the account's access token from the SQLite store
and opens it with the key, importing only ``sqlite3``, the store's format
(:mod:`gtoken.store.format`, standard library only) and cryptography's AES-GCM (not even
``json`` in the usual case); not :mod:`gtoken.store`, :mod:`gtoken.accounts` or ``argparse``,
which take several times longer to import than the whole answer. Everything it knows of the
store (file names, versions, the sealed-value format, keys, which account is the default, which
scopes count) comes from :mod:`gtoken.store.format`, which the store and the accounts layer
read too.

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

import os
import sqlite3
import sys
import time
from collections.abc import Iterable, Mapping

from gtoken.store import format

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing, which takes a while
if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ["Cached", "cached_token"]

_COLUMNS = "id, email, scopes, status, is_default, updated_at, expires_at, access_token"
# Built from constants only, never from input. Each goes through an index (the partial one of
# defaults, the id's, the e-mail's): one account among thousands is found without reading the
# others.
_ORDER = f" ORDER BY {format.ACCOUNT_ORDER}"
_DEFAULTS = f"SELECT {_COLUMNS} FROM accounts WHERE {format.DEFAULTS_WHERE}{_ORDER}"  # noqa: S608
_FIRST_TWO = f"SELECT {_COLUMNS} FROM accounts{_ORDER} LIMIT 2"  # noqa: S608
_NAMED = f"SELECT {_COLUMNS} FROM accounts WHERE {format.NAMED_WHERE}{_ORDER}"  # noqa: S608

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
    home = format.gtoken_home(env)
    path = os.path.join(home, format.STORE_FILE)
    if not (_private(home, directory=True) and _private(path)):
        return None
    for suffix in format.STORE_SIDE_FILES:
        if os.path.lexists(path + suffix) and not _private(path + suffix):
            return None
    row = _account_row(path, account)
    if row is None:
        return None
    account_id, email, stored_scopes, status, _default, _updated, expires_at, sealed = row
    if status != "active" or not isinstance(sealed, str) or type(expires_at) is not int:
        return None
    if not expires_at - now > min_ttl:
        return None
    granted = {format.lenient_scope(word) for word in stored_scopes.split()}
    if any(format.canonical_scope(word) not in granted for word in scopes):
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


def _private(path: str, *, directory: bool = False) -> bool:
    """Whether ``path`` is this user's and closed to others, as the store requires."""
    return format.is_private(os.stat(path), directory=directory)


def _account_row(path: str, account: str | None) -> _Row | None:
    if any(c in path for c in "?#%"):
        return None  # would need URI escaping; rare enough to leave to the library
    try:
        return _read_row(f"file:{path}?mode=ro", account)
    except sqlite3.OperationalError:
        if os.access(os.path.dirname(path) or ".", os.W_OK):
            raise
        # A read-only home: read the file as the store does there.
        return _read_row(f"file:{path}?mode={format.read_only_mode(path)}", account)


def _read_row(uri: str, account: str | None) -> _Row | None:
    conn = sqlite3.connect(uri, uri=True)
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        application = conn.execute("PRAGMA application_id").fetchone()[0]
        if version != format.SCHEMA_VERSION or application != format.APPLICATION_ID:
            return None
        return _choose(conn, account)
    finally:
        conn.close()


def _choose(conn: sqlite3.Connection, account: str | None) -> _Row | None:
    """The row :meth:`gtoken.accounts.Accounts.find` picks, or None where it would not pick one
    plainly: the few rows the store's indexes give, judged by gtoken.store.format's rule."""
    rows: list[_Row]
    if account is None:
        rows = conn.execute(_DEFAULTS).fetchall() or conn.execute(_FIRST_TWO).fetchall()
        return format.default_account(rows, is_default=_is_default, updated_at=_updated_at)
    name = account.strip().lower()
    rows = conn.execute(_NAMED, (name, name)).fetchall()
    matches = format.named_accounts(rows, account, id=_id, email=_email)
    return matches[0] if len(matches) == 1 else None


def _is_default(row: _Row) -> bool:
    return row[4] == 1


def _updated_at(row: _Row) -> int:
    return row[5]


def _id(row: _Row) -> str:
    return row[0]


def _email(row: _Row) -> str | None:
    return row[1] if isinstance(row[1], str) else None


def _open(sealed: str, account_id: str, env: Mapping[str, str], home: str) -> str | None:
    """The access token in ``sealed``, as :func:`gtoken.store.crypto.open_sealed` opens it."""
    parts = format.sealed_parts(sealed)
    if parts is None:
        return None
    kid, body = parts
    key = _key(kid, env, home)
    if key is None or len(key) != format.KEY_SIZE:
        return None
    raw = format.decode_base64url(body)
    associated = format.associated_data("accounts", account_id, "access_token")
    nonce, sealed_bytes = raw[: format.NONCE_SIZE], raw[format.NONCE_SIZE :]
    return bytes(_aesgcm(key).decrypt(nonce, sealed_bytes, associated)).decode("utf-8")


def _key(kid: str, env: Mapping[str, str], home: str) -> bytes | None:
    """The key that may have sealed a value of key id ``kid``. AES-GCM's tag is the check that
    it did: a wrong key fails to open the value, and the library takes over."""
    given = env.get(format.ENV_KEY)
    if given:
        return format.decode_key(given)
    path = os.path.join(home, format.KEY_FILE)
    if not _private(path):
        return None
    with open(path, encoding="utf-8") as f:
        text = format.key_in_file(f.read(), kid)
    return None if text is None else format.decode_key(text)


def _aesgcm(key: bytes) -> AESGCM:
    """cryptography's public ``AESGCM``, loaded without its package's start-up.

    Importing ``cryptography.hazmat.primitives.ciphers.aead`` the usual way first runs the
    ``ciphers`` package, whose imports (typing, enum and more) would add half again to the
    command's time; the ``aead`` module itself needs none of it. So its file is run on its own,
    unregistered; if that fails in any way, the usual import serves. ``tests/cli/test_cached.py``
    checks that both give the very same class."""
    try:
        cls = _standalone_aead().AESGCM  # type: ignore[attr-defined]
    except Exception:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        cls = AESGCM
    return cls(key)  # type: ignore[no-any-return]


def _standalone_aead() -> object:
    import importlib.machinery

    import cryptography

    path = os.path.join(cryptography.__path__[0], "hazmat", "primitives", "ciphers", "aead.py")
    loader = importlib.machinery.SourceFileLoader(
        "cryptography.hazmat.primitives.ciphers.aead", path
    )
    module = type(sys)(loader.name)
    module.__file__ = path
    loader.exec_module(module)
    return module
