"""Each emulated user's mailbox, Drive and spreadsheets, seeded when the user is created."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(eq=False)
class UserData:
    """A user's API-side data. Filled in by the API slices."""


def seed_user(email: str, name: str) -> UserData:
    """A small, deterministic mailbox and Drive for a new user."""
    return UserData()
