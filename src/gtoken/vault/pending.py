"""Pending consents: what a consent started, kept in the database until its callback.

The state itself is not stored, only its SHA-256; the PKCE verifier is sealed. A pending consent
is taken (read and deleted) in one transaction, so it serves one callback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from gtoken.vault.storage import STATES, Storage

__all__ = ["PendingConsent", "add_state", "take_state"]

_STATE_COLUMNS = (
    "state_hash, client_id, user_id, redirect_uri, scopes, nonce, verifier, created_at, expires_at"
)


@dataclass(frozen=True, kw_only=True, repr=False)
class PendingConsent:
    """A consent the vault started and waits to finish: the state's row, verifier opened."""

    state_hash: str
    client_id: str
    user_id: str
    redirect_uri: str
    scopes: frozenset[str]
    nonce: str
    verifier: str
    created_at: int
    expires_at: int

    def __repr__(self) -> str:
        return (
            f"PendingConsent(client_id={self.client_id!r}, user_id={self.user_id!r}, "
            f"expires_at={self.expires_at})"
        )


def add_state(
    storage: Storage,
    *,
    state_hash: str,
    client_id: str,
    user_id: str,
    redirect_uri: str,
    scopes: Iterable[str],
    nonce: str,
    verifier: str,
    ttl: int,
) -> None:
    now = storage.now()
    sealed = storage.seal_value(STATES, state_hash, "verifier", verifier)
    with storage.db.transaction() as sql:
        # Consents nobody finished go when they can no longer be finished.
        sql.run(f"DELETE FROM {STATES} WHERE expires_at < ?", (now - 60,))  # noqa: S608
        sql.run(
            f"INSERT INTO {STATES} ({_STATE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
            (
                state_hash,
                client_id,
                user_id,
                redirect_uri,
                " ".join(sorted(scopes)),
                nonce,
                sealed,
                now,
                now + ttl,
            ),
        )


def take_state(
    storage: Storage, state_hash: str, check: Callable[[PendingConsent], None]
) -> PendingConsent | None:
    """The pending consent ``state_hash``, removed so that it cannot be used again; None when
    there is none. ``check`` runs first: when it raises, the consent stays as it was."""
    with storage.db.transaction() as sql:
        row = sql.one(
            f"SELECT {_STATE_COLUMNS} FROM {STATES} WHERE state_hash = ?",  # noqa: S608
            (state_hash,),
        )
        if row is None:
            return None
        h, client_id, user_id, redirect_uri, scopes, nonce, sealed, created, expires = row
        pending = PendingConsent(
            state_hash=h,
            client_id=client_id,
            user_id=user_id,
            redirect_uri=redirect_uri,
            scopes=frozenset(scopes.split()),
            nonce=nonce,
            verifier=storage.open_value(STATES, h, "verifier", sealed, "a pending consent") or "",
            created_at=int(created),
            expires_at=int(expires),
        )
        check(pending)
        taken = sql.run(f"DELETE FROM {STATES} WHERE state_hash = ?", (h,))  # noqa: S608
        # Another process may have taken it between the read and the delete (PostgreSQL
        # reads committed rows without locking them): only the one that deleted it may use it.
        return pending if taken == 1 else None
