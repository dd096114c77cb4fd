"""Scope names: the short forms people type, the URLs Google wants, and comparing the two.

Google's scopes are URLs (``https://www.googleapis.com/auth/gmail.readonly``) plus the OpenID
Connect words ``openid``, ``email`` and ``profile``. People write ``gmail.readonly``; :func:`expand`
turns that into the URL, and ``mail`` into ``https://mail.google.com/``. Only words that start with
one of Google's APIs (:data:`GOOGLE_APIS`: ``gmail``, ``drive``, ``cloud-platform``, ...) are
Google's short names: any other word (``offline_access``, ``read``) is sent as it is, for OAuth
servers other than Google's, and ``literal:WORD`` sends ``WORD`` as it is whatever it looks like.

Google reports ``email`` and ``profile`` back as ``.../auth/userinfo.email`` and
``.../auth/userinfo.profile`` and may add ``openid``, so scopes are compared in their
:func:`canonical` form, where those pairs are equal. Granted scopes are kept as the server wrote
them in the ``scope`` field of its answer (:func:`from_google`), which may be fewer than were
asked (granular consent).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from gtoken.store.format import (
    AUTH_PREFIX,
    GOOGLE_APIS,
    LITERAL,
    MAIL,
    OIDC_URLS,
    lenient_scope,
    scope_form,
)

__all__ = [
    "AUTH_PREFIX",
    "DEVICE_FLOW_SCOPES",
    "GMAIL_SCOPES",
    "GOOGLE_APIS",
    "LITERAL",
    "MAIL",
    "SIGN_IN_SCOPES",
    "as_sent",
    "canonical",
    "covers",
    "expand",
    "from_google",
    "is_gmail",
    "missing",
    "normalize",
    "parse",
    "to_param",
    "written",
]

_EMAIL_URL: Final = OIDC_URLS["email"]
_PROFILE_URL: Final = OIDC_URLS["profile"]

# The OpenID Connect words and the URLs Google reports for them.
_OIDC_WORD: Final = {url: word for word, url in OIDC_URLS.items()}

#: Google's sign-in scopes, canonical. Testing apps' 7-day limit does not apply to these alone.
SIGN_IN_SCOPES: Final = frozenset({"openid", _EMAIL_URL, _PROFILE_URL})

#: The only scopes Google allows in the device flow (TVs and limited-input devices), canonical.
DEVICE_FLOW_SCOPES: Final = SIGN_IN_SCOPES | frozenset(
    AUTH_PREFIX + name for name in ("drive.appdata", "drive.file", "youtube", "youtube.readonly")
)

#: Gmail's documented scopes. A password change ends refresh tokens that carry any of them.
GMAIL_SCOPES: Final = frozenset({MAIL}) | frozenset(
    AUTH_PREFIX + "gmail." + name
    for name in (
        "readonly",
        "metadata",
        "modify",
        "insert",
        "compose",
        "send",
        "labels",
        "settings.basic",
        "settings.sharing",
        "addons.current.message.metadata",
        "addons.current.message.readonly",
        "addons.current.action.compose",
        "addons.current.message.action",
    )
)


def expand(word: str) -> str:
    """The scope meant by ``word``: Google's short names become their URL (``gmail.readonly``,
    ``drive``; ``mail`` is ``https://mail.google.com/``); ``openid``, ``email``, ``profile``,
    full URLs and words that are not Google's (``offline_access``, ``read``) stay as they are;
    ``literal:WORD`` stays marked so (:func:`to_param` sends it as ``WORD``).

    Raises ValueError, naming the word, for an empty word or one no OAuth server would take.
    """
    if not isinstance(word, str):
        raise TypeError(f"a scope is a str, not {type(word).__name__}")
    full = scope_form(word)
    if full is not None:
        return full
    stripped = word.strip()
    if not stripped:
        raise ValueError("empty scope: give a name such as 'gmail.readonly' or a scope URL")
    if len(stripped.split()) != 1:
        raise ValueError(
            f"scope {word!r} contains a space: give one scope per word (parse() splits a list)"
        )
    if stripped.startswith(("https://", "http://")):
        raise ValueError(
            f"scope {word!r} is not a valid scope URL: expected one like "
            f"'{AUTH_PREFIX}gmail.readonly'"
        )
    if stripped.startswith(LITERAL):
        raise ValueError(f"scope {word!r} names no scope after {LITERAL!r}")
    raise ValueError(
        f"scope {word!r} is neither a short name such as 'gmail.readonly', a full scope URL, nor "
        f"a plain word such as 'offline_access' (write {LITERAL}WORD to send a word as it is)"
    )


def _canonical_word(scope: str) -> str:
    return OIDC_URLS.get(scope, scope)


def canonical(scopes: Iterable[str]) -> frozenset[str]:
    """``scopes`` in the form used for comparing: expanded, with ``email``/``profile`` as the
    userinfo URLs Google reports. Raises ValueError for a malformed word (see :func:`expand`)."""
    if isinstance(scopes, str):
        raise TypeError("scopes is a collection of names; use parse() for a space-separated str")
    return frozenset(_canonical_word(expand(word)) for word in scopes)


def parse(space_separated: str) -> frozenset[str]:
    """Canonical scopes from a space-separated list typed by a person (``"gmail.readonly email"``).

    Raises ValueError for a malformed word.
    """
    return canonical(space_separated.split())


def from_google(scope_field: str) -> frozenset[str]:
    """The scopes of a server's own ``scope`` field (token response or redirect), as it wrote
    them (compare them with :func:`missing` or :func:`canonical`).

    Unlike :func:`parse`, never raises: the server's word is authoritative.
    """
    return written(scope_field.split())


def written(scopes: Iterable[str]) -> frozenset[str]:
    """``scopes`` as a server wrote them: each word once, without surrounding space."""
    return frozenset(word.strip() for word in scopes if word.strip())


def as_sent(scopes: Iterable[str]) -> frozenset[str]:
    """``scopes`` as they go to the server: ``literal:WORD`` is ``WORD``."""
    return frozenset(word.removeprefix(LITERAL) for word in scopes)


_lenient = lenient_scope


def normalize(scopes: Iterable[str]) -> frozenset[str]:
    """Canonical scopes from a store or file: like :func:`from_google`, never raises."""
    return frozenset(_lenient(word) for word in scopes if word.strip())


def missing(granted: Iterable[str], wanted: Iterable[str]) -> frozenset[str]:
    """The scopes of ``wanted`` that ``granted`` does not include, canonical."""
    granted = written(granted)
    return canonical(wanted) - normalize(granted) - {LITERAL + word for word in granted}


def covers(granted: Iterable[str], wanted: Iterable[str]) -> bool:
    """Whether ``granted`` includes every scope of ``wanted``."""
    return not missing(granted, wanted)


def is_gmail(scope: str) -> bool:
    """Whether ``scope`` (any form) is a Gmail scope."""
    full = _lenient(scope)
    return full == MAIL or full.startswith(AUTH_PREFIX + "gmail.")


def to_param(scopes: Iterable[str]) -> str:
    """The ``scope`` request parameter: expanded, one of each, sorted, space-separated.

    The sign-in scopes are sent as Google's OpenID Connect words (``email``, not
    ``.../userinfo.email``). Raises ValueError for a malformed word.
    """
    words = as_sent(_OIDC_WORD.get(full, full) for full in canonical(scopes))
    return " ".join(sorted(words))
