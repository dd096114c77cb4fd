"""The sample mailbox every emulated user starts with: 25 messages, ids unique per user.

Some are unread, starred or important, some carry the user labels, three are replies in a thread,
one is in spam, one in the trash, one a draft; about half have an HTML alternative.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import re
from dataclasses import dataclass
from email.utils import format_datetime, formataddr

from gtoken.emulator.apis.mailbox import SYSTEM_LABELS, USER_LABELS, Label, Mailbox, Message

_CONTACTS = {
    "priya": ("Priya Raman", "priya.raman@example.com"),
    "sam": ("Sam Okafor", "sam.okafor@example.org"),
    "mum": ("Mum", "mum@family.example.net"),
    "shop": ("Example Shop", "orders@shop.example.com"),
    "github": ("GitHub", "notifications@github.example.com"),
    "travel": ("Trip Desk", "bookings@trips.example.net"),
    "news": ("Python Weekly", "newsletter@weekly.example.org"),
    "bank": ("Example Bank", "alerts@bank.example.com"),
    "forum": ("Async Forum", "digest@forum.example.net"),
    "social": ("Friendly Social", "notify@social.example.com"),
    "prize": ("Prize Office", "winner@prize.example.biz"),
    "it": ("IT Support", "it-support@example.com"),
    "hotel": ("Harbour Hotel", "stay@hotel.example.net"),
    "calendar": ("Google Calendar", "calendar-notification@example.com"),
}


@dataclass(frozen=True)
class _Mail:
    who: str  # a key of _CONTACTS
    subject: str
    body: str
    labels: tuple[str, ...]
    outgoing: bool = False  # sent by the user rather than to them
    rich: bool = False  # with an HTML alternative
    replies_to: int | None = None  # the number (from 1) of the message it answers


_SEED = (
    _Mail(
        "priya",
        "Welcome to the team",
        "Hi! Great to have you with us. Your desk is by the window; coffee is on the second floor.",
        ("INBOX", "CATEGORY_PERSONAL", "IMPORTANT", "Label_1"),
    ),
    _Mail(
        "shop",
        "Your order has shipped",
        "Good news: order 1043 (a mechanical keyboard) is on its way and should arrive Tuesday.",
        ("INBOX", "CATEGORY_UPDATES", "Label_2"),
        rich=True,
    ),
    _Mail(
        "github",
        "[gtoken] Pull request #12 merged",
        "Your pull request 'Refresh exactly once' was merged into main.",
        ("INBOX", "CATEGORY_UPDATES", "UNREAD"),
        rich=True,
    ),
    _Mail(
        "priya",
        "Re: Welcome to the team",
        "Thank you, Priya! Looking forward to it.",
        ("SENT",),
        outgoing=True,
        replies_to=1,
    ),
    _Mail(
        "mum",
        "Sunday lunch",
        "Are you coming on Sunday? Bring the crème brûlée if you can.",
        ("INBOX", "CATEGORY_PERSONAL", "STARRED", "UNREAD"),
    ),
    _Mail(
        "travel",
        "Your flight to Lisbon",
        "Booking ABC123: Lisbon, 14 June, departing 07:40. Check-in opens 24 hours before.",
        ("INBOX", "CATEGORY_UPDATES", "STARRED", "Label_3"),
        rich=True,
    ),
    _Mail(
        "news",
        "This week in Python",
        "Type hints at scale, a faster asyncio, and the packaging news you missed.",
        ("INBOX", "CATEGORY_PROMOTIONS", "UNREAD"),
        rich=True,
    ),
    _Mail(
        "bank",
        "Your statement is ready",
        "Your March statement is ready to view in online banking.",
        ("INBOX", "CATEGORY_UPDATES", "Label_2"),
    ),
    _Mail(
        "sam",
        "Lunch on Thursday?",
        "Fancy lunch on Thursday? The new noodle place opened near the station.",
        ("INBOX", "CATEGORY_PERSONAL"),
    ),
    _Mail(
        "sam",
        "Re: Lunch on Thursday?",
        "Yes please, 12:30 works for me.",
        ("SENT",),
        outgoing=True,
        replies_to=9,
    ),
    _Mail(
        "sam",
        "Re: Lunch on Thursday?",
        "Great, see you there at 12:30.",
        ("INBOX", "CATEGORY_PERSONAL", "UNREAD"),
        replies_to=9,
    ),
    _Mail(
        "forum",
        "Daily digest: async Python",
        "Three new topics today: cancellation scopes, task groups and timeouts.",
        ("INBOX", "CATEGORY_FORUMS"),
    ),
    _Mail(
        "social",
        "You have 3 new followers",
        "Three people started following you this week.",
        ("INBOX", "CATEGORY_SOCIAL", "UNREAD"),
        rich=True,
    ),
    _Mail(
        "prize",
        "You have WON a prize",
        "Claim your prize now by sending your bank details.",
        ("SPAM", "UNREAD"),
    ),
    _Mail(
        "shop",
        "Last chance: 50% off",
        "Our spring sale ends tonight.",
        ("TRASH", "CATEGORY_PROMOTIONS"),
        rich=True,
    ),
    _Mail(
        "priya",
        "Notes for the offsite",
        "Agenda: roadmap, hiring, and the token broker demo.",
        ("DRAFT",),
        outgoing=True,
    ),
    _Mail(
        "priya",
        "Quarterly report draft",
        "Here is the draft of the quarterly report. Can you check the numbers in section 2?",
        ("INBOX", "CATEGORY_PERSONAL", "IMPORTANT", "STARRED", "Label_1"),
        rich=True,
    ),
    _Mail(
        "priya",
        "Re: Quarterly report draft",
        "I've updated section 2 with the March figures.",
        ("INBOX", "CATEGORY_PERSONAL", "UNREAD", "Label_1"),
        replies_to=17,
    ),
    _Mail(
        "it",
        "Password expiry reminder",
        "Your password expires in 7 days. Change it from the account page.",
        ("INBOX", "CATEGORY_UPDATES", "IMPORTANT"),
    ),
    _Mail(
        "hotel",
        "Booking confirmation 4821",
        "Your room is booked for 14 to 18 June. Breakfast is included.",
        ("INBOX", "CATEGORY_UPDATES", "Label_2", "Label_3"),
        rich=True,
    ),
    _Mail(
        "mum",
        "Re: Sunday lunch",
        "Yes, I'll be there at one, with dessert.",
        ("SENT",),
        outgoing=True,
        replies_to=5,
    ),
    _Mail(
        "calendar",
        "Invitation: Design review",
        "Design review, Friday 10:00 to 11:00. Join with the link in the event.",
        ("INBOX", "CATEGORY_PERSONAL", "UNREAD", "Label_1"),
        rich=True,
    ),
    _Mail(
        "news",
        "This week in Python: packaging",
        "Wheels, lock files and what changed in pip this month.",
        ("INBOX", "CATEGORY_PROMOTIONS", "UNREAD"),
        rich=True,
    ),
    _Mail(
        "sam",
        "Photos from the hike",
        "Here are the photos from Saturday's hike. The view from the top was worth it.",
        ("INBOX", "CATEGORY_PERSONAL", "STARRED"),
    ),
    _Mail(
        "shop",
        "Your receipt",
        "Thanks for shopping with us. Total paid: 89.00 EUR.",
        ("INBOX", "CATEGORY_UPDATES", "Label_2"),
        rich=True,
    ),
)
_START = dt.datetime(2024, 3, 1, 8, 0, tzinfo=dt.UTC)
_STEP = dt.timedelta(hours=9, minutes=17)


def _hex_id(email: str, n: int) -> str:
    digest = hashlib.sha256(f"{email.lower()}:message:{n}".encode()).hexdigest()
    return "18e" + digest[:13]


def seed_mailbox(email: str, name: str) -> Mailbox:
    """The sample mailbox every user starts with: the same 25 messages, ids unique per user."""
    mailbox = Mailbox()
    for label_id in SYSTEM_LABELS:
        mailbox.labels[label_id] = Label(label_id, label_id, "system")
    for label_id, label_name in USER_LABELS:
        mailbox.labels[label_id] = Label(label_id, label_name, "user")
    built: dict[int, Message] = {}
    for n, mail in enumerate(_SEED, 1):
        other = _CONTACTS[mail.who]
        sender, recipient = ((name, email), other) if mail.outgoing else (other, (name, email))
        when = _START + _STEP * n
        parent = built.get(mail.replies_to) if mail.replies_to is not None else None
        headers = {} if mail.outgoing else {"Delivered-To": email}
        headers.update(
            {
                "From": formataddr(sender),
                "To": formataddr(recipient),
                "Subject": mail.subject,
                "Date": format_datetime(when),
                "Message-ID": f"<{_hex_id(email, n)}.{n}@mail.gtoken-emulator.example>",
            }
        )
        if parent is not None:
            headers["In-Reply-To"] = headers["References"] = parent.header("Message-ID")
        built[n] = Message(
            id=_hex_id(email, n),
            thread_id=parent.thread_id if parent is not None else _hex_id(email, n),
            label_ids=list(mail.labels),
            internal_date=int(when.timestamp() * 1000),
            history_id=4000 + n * 37,
            headers=headers,
            text=mail.body,
            html=_html(mail.body) if mail.rich else None,
        )
    mailbox.messages = sorted(built.values(), key=lambda m: m.internal_date, reverse=True)
    return mailbox


def _html(text: str) -> str:
    paragraphs = "".join(f"<p>{html.escape(s)}</p>" for s in re.split(r"(?<=\.) ", text))
    return f'<div dir="ltr">{paragraphs}</div>\n'
