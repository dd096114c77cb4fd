"""Each emulated user's mailbox, Drive and spreadsheets, seeded when the user is created.

Service accounts have no mailbox (Gmail refuses them) but do have a Drive and spreadsheets of
their own, empty at first: whatever they create with Sheets lands there. Those are kept beside
the world's service accounts, keyed by the account object, so they go when the world resets.
"""

from __future__ import annotations

import hashlib
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gtoken.emulator.apis.drive_files import Drive, file_id, seed_drive
from gtoken.emulator.apis.mailbox import Mailbox
from gtoken.emulator.apis.sample_mail import seed_mailbox
from gtoken.emulator.apis.spreadsheets import Spreadsheet, seed_budget

if TYPE_CHECKING:
    from gtoken.emulator.model import ServiceAccount


@dataclass(eq=False)
class UserData:
    """A user's API-side data: one Gmail mailbox, one Drive, the spreadsheets in that Drive."""

    mailbox: Mailbox
    drive: Drive
    spreadsheets: dict[str, Spreadsheet] = field(default_factory=dict)


def seed_user(email: str, name: str) -> UserData:
    """A small, deterministic mailbox and Drive for a new user (ids differ between users)."""
    budget = seed_budget(file_id(f"{email.lower()}:budget", native=True))
    return UserData(
        mailbox=seed_mailbox(email, name),
        drive=seed_drive(email, name, budget.spreadsheet_id),
        spreadsheets={budget.spreadsheet_id: budget},
    )


_SERVICE_ACCOUNT_DATA: weakref.WeakKeyDictionary[ServiceAccount, UserData] = (
    weakref.WeakKeyDictionary()
)


def service_account_data(account: ServiceAccount) -> UserData:
    """The service account's own Drive and spreadsheets, empty until it creates something."""
    data = _SERVICE_ACCOUNT_DATA.get(account)
    if data is None:
        email = account.client_email
        root = "0A" + hashlib.sha256(email.encode()).hexdigest()[:16] + "Uk9PVA"
        data = UserData(mailbox=Mailbox(), drive=Drive(root, email, email))
        _SERVICE_ACCOUNT_DATA[account] = data
    return data
