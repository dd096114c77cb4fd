"""A Gmail mailbox: labels and messages, and Gmail's JSON for each.

Messages are real RFC 822 messages built with the ``email`` package, so ``format=raw`` is the
message itself and ``format=full`` is its MIME tree, as Gmail serves them.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import html
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from typing import Any

SYSTEM_LABELS = (
    "INBOX",
    "SENT",
    "DRAFT",
    "SPAM",
    "TRASH",
    "UNREAD",
    "STARRED",
    "IMPORTANT",
    "CATEGORY_PERSONAL",
    "CATEGORY_SOCIAL",
    "CATEGORY_PROMOTIONS",
    "CATEGORY_UPDATES",
    "CATEGORY_FORUMS",
    "CHAT",
)
#: System labels Gmail hides from the label list and from message lists.
_HIDDEN = frozenset({"SPAM", "TRASH", "IMPORTANT", "CHAT"})
USER_LABELS = (("Label_1", "Work"), ("Label_2", "Receipts"), ("Label_3", "Travel Plans"))


@dataclass(frozen=True)
class Label:
    id: str
    name: str
    type: str  # "system" or "user"

    def summary(self) -> dict[str, Any]:
        """The label as ``labels.list`` shows it."""
        out: dict[str, Any] = {"id": self.id, "name": self.name}
        if self.type == "user":
            out.update(messageListVisibility="show", labelListVisibility="labelShow")
        elif self.id in _HIDDEN:
            out.update(messageListVisibility="hide", labelListVisibility="labelHide")
        out["type"] = self.type
        return out


@dataclass(eq=False)
class Message:
    """One message. Its MIME form is built on first use: the ``email`` package is slow, and
    listing and searching need only the headers and text kept here."""

    id: str
    thread_id: str
    label_ids: list[str]
    internal_date: int  # milliseconds since the epoch, as Gmail counts
    history_id: int
    headers: dict[str, str]
    text: str  # the plain-text body, for search and the snippet
    html: str | None = None  # an HTML alternative, making the message multipart/alternative

    def header(self, name: str) -> str:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), "")

    @property
    def snippet(self) -> str:
        return gmail_snippet(self.text)

    @functools.cached_property
    def mime(self) -> EmailMessage:
        mime = EmailMessage()
        for name, value in self.headers.items():
            mime[name] = value
        mime.set_content(self.text + "\n")
        if self.html is not None:
            mime.add_alternative(self.html, subtype="html")
            mime.set_boundary("000000000000" + hashlib.sha256(self.id.encode()).hexdigest()[:12])
            for part in mime.iter_parts():
                del part["MIME-Version"]  # the email package repeats it in each part; Gmail not
        return mime

    @functools.cached_property
    def raw(self) -> bytes:
        """The RFC 822 message, with CRLF line ends."""
        return self.mime.as_bytes(policy=policy.SMTP)


@dataclass(eq=False)
class Mailbox:
    labels: dict[str, Label] = field(default_factory=dict)
    messages: list[Message] = field(default_factory=list)  # newest first

    def message(self, message_id: str) -> Message | None:
        return next((m for m in self.messages if m.id == message_id), None)


def gmail_snippet(text: str) -> str:
    """The start of the body, whitespace collapsed, HTML-escaped the way Gmail escapes it."""
    flat = " ".join(text.split())[:200]
    return html.escape(flat, quote=True).replace("&#x27;", "&#39;")


# -- Gmail's JSON --------------------------------------------------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode()


def message_json(message: Message, fmt: str, metadata_headers: list[str]) -> dict[str, Any]:
    """``users.messages.get`` in ``fmt`` (minimal, metadata, full or raw)."""
    out: dict[str, Any] = {
        "id": message.id,
        "threadId": message.thread_id,
        "labelIds": list(message.label_ids),
        "snippet": message.snippet,
        "sizeEstimate": len(message.raw),
        "historyId": str(message.history_id),
        "internalDate": str(message.internal_date),
    }
    if fmt == "raw":
        out["raw"] = b64url(message.raw)
    elif fmt == "metadata":
        wanted = {h.lower() for h in metadata_headers}
        headers = [h for h in _headers(message.mime) if not wanted or h["name"].lower() in wanted]
        out["payload"] = {"mimeType": message.mime.get_content_type(), "headers": headers}
    elif fmt == "full":
        out["payload"] = _part_json(message.mime, "")
    return out


def _headers(part: EmailMessage) -> list[dict[str, str]]:
    return [{"name": name, "value": str(value)} for name, value in part.items()]


def _part_json(part: EmailMessage, part_id: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "partId": part_id,
        "mimeType": part.get_content_type(),
        "filename": part.get_filename() or "",
        "headers": _headers(part),
    }
    if part.is_multipart():
        prefix = f"{part_id}." if part_id else ""
        out["body"] = {"size": 0}
        out["parts"] = [
            _part_json(child, f"{prefix}{i}")
            for i, child in enumerate(part.iter_parts())
            if isinstance(child, EmailMessage)
        ]
    else:
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        out["body"] = {"size": len(data), "data": b64url(data)}
    return out
