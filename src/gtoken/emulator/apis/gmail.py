"""Gmail v1: the profile, labels, and listing, searching and reading messages.

``userId`` is ``me`` or the token's own address; anything else is "Delegation denied", as Google
answers. A service-account token without a user (no domain-wide delegation) has no mailbox:
Gmail answers 400 "Precondition check failed.". The ``gmail.metadata`` scope sees labels and
headers only: no ``q``, no ``format=full`` or ``raw``.
"""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from gtoken.emulator import scopes as sc
from gtoken.emulator.apis import gmail_search
from gtoken.emulator.apis.api_errors import ApiError, error_item
from gtoken.emulator.apis.common import Call, Method, endpoint
from gtoken.emulator.apis.mailbox import Mailbox, Message, message_json
from gtoken.emulator.apis.paging import page_offset, page_token
from gtoken.emulator.model import World

SERVICE = "gmail.googleapis.com"
_RPC = "caribou.api.proto.MailboxService."
_A = sc.AUTH
_READ = frozenset({sc.MAIL, _A + "gmail.readonly", _A + "gmail.modify", _A + "gmail.metadata"})
_METADATA_ONLY = frozenset({_A + "gmail.metadata", _A + "gmail.addons.current.message.metadata"})
_ADDONS = frozenset(
    _A + f"gmail.addons.current.message.{s}" for s in ("action", "metadata", "readonly")
)
_FORMATS = ("minimal", "full", "raw", "metadata")

PROFILE = Method(
    SERVICE, _RPC + "GetProfile", _READ | {_A + "gmail.compose"}, frozenset({"userId"})
)
LIST_LABELS = Method(SERVICE, _RPC + "ListLabels", _READ | {_A + "gmail.labels"})
GET_LABEL = Method(SERVICE, _RPC + "GetLabel", _READ | {_A + "gmail.labels"})
LIST_MESSAGES = Method(
    SERVICE,
    _RPC + "ListMessages",
    _READ,
    frozenset({"includeSpamTrash", "maxResults", "pageToken", "q"}),
    frozenset({"labelIds"}),
)
GET_MESSAGE = Method(
    SERVICE,
    _RPC + "GetMessage",
    _READ | _ADDONS,
    frozenset({"format"}),
    frozenset({"metadataHeaders"}),
)


def _error(status: int, message: str, status_name: str, reason: str) -> ApiError:
    return ApiError(status, message, status_name, errors=[error_item(message, reason)])


def not_found() -> ApiError:
    return _error(404, "Requested entity was not found.", "NOT_FOUND", "notFound")


def _mailbox(call: Call) -> Mailbox:
    """The mailbox ``userId`` names, if this token may read it."""
    user = call.token.user
    if user is None:
        raise _error(400, "Precondition check failed.", "FAILED_PRECONDITION", "failedPrecondition")
    user_id = call.path["userId"]
    if user_id != "me" and user_id.lower() != user.email.lower():
        raise _error(403, f"Delegation denied for {user.email}", "PERMISSION_DENIED", "forbidden")
    return user.data.mailbox


def _metadata_only(call: Call) -> bool:
    """True when the token reads messages through a metadata scope alone."""
    readers = call.token.scopes & (GET_MESSAGE.scopes - _ADDONS | _METADATA_ONLY)
    return bool(readers) and readers <= _METADATA_ONLY


async def get_profile(call: Call) -> dict[str, Any]:
    mailbox = _mailbox(call)
    return {
        "emailAddress": call.token.email,
        "messagesTotal": len(mailbox.messages),
        "threadsTotal": len({m.thread_id for m in mailbox.messages}),
        "historyId": str(max((m.history_id for m in mailbox.messages), default=1)),
    }


async def list_labels(call: Call) -> dict[str, Any]:
    mailbox = _mailbox(call)
    return {"labels": [label.summary() for label in mailbox.labels.values()]}


async def get_label(call: Call) -> dict[str, Any]:
    mailbox = _mailbox(call)
    label = mailbox.labels.get(call.path["id"])
    if label is None:
        raise not_found()
    tagged = [m for m in mailbox.messages if label.id in m.label_ids]
    unread = [m for m in tagged if "UNREAD" in m.label_ids]
    return {
        **label.summary(),
        "messagesTotal": len(tagged),
        "messagesUnread": len(unread),
        "threadsTotal": len({m.thread_id for m in tagged}),
        "threadsUnread": len({m.thread_id for m in unread}),
    }


async def list_messages(call: Call) -> dict[str, Any]:
    mailbox = _mailbox(call)
    params = call.params
    query = params.get("q") or ""
    if query and _metadata_only(call):
        message = "Metadata scope does not support 'q' parameter"
        raise _error(403, message, "PERMISSION_DENIED", "forbidden")
    size = params.integer("maxResults", 100, type_name="TYPE_UINT32")
    size = min(size or 100, 500)  # Google caps silently at 500; 0 means the default
    label_ids = params.all("labelIds")
    unknown = [label for label in label_ids if label not in mailbox.labels]
    if unknown:
        raise _error(400, f"Invalid label: {unknown[0]}", "INVALID_ARGUMENT", "invalidArgument")
    include_spam_trash = params.boolean("includeSpamTrash", False)
    matches = _matching(mailbox, query, label_ids, include_spam_trash)
    key = repr((query, sorted(label_ids), include_spam_trash))
    offset = page_offset(params.get("pageToken"), key)
    if offset is None:
        raise _error(400, "Invalid pageToken", "INVALID_ARGUMENT", "invalidArgument")
    page = matches[offset : offset + size]
    out: dict[str, Any] = {}
    if page:
        out["messages"] = [{"id": m.id, "threadId": m.thread_id} for m in page]
    if offset + size < len(matches):
        out["nextPageToken"] = page_token(offset + size, key)
    out["resultSizeEstimate"] = len(matches)
    return out


def _matching(
    mailbox: Mailbox, query: str, label_ids: list[str], include_spam_trash: bool
) -> list[Message]:
    search = gmail_search.parse(query, mailbox.labels)
    hidden = set() if include_spam_trash or search.wants_spam_trash else {"SPAM", "TRASH"}
    hidden -= set(label_ids)
    return [
        m
        for m in mailbox.messages
        if all(label in m.label_ids for label in label_ids)
        and not hidden & set(m.label_ids)
        and search.test(m)
    ]


async def get_message(call: Call) -> dict[str, Any]:
    mailbox = _mailbox(call)
    message_id = call.path["id"]
    fmt = call.params.choice(
        "format", _FORMATS, "full", "type.googleapis.com/caribou.api.proto.MessageFormat"
    )
    if fmt in ("full", "raw") and _metadata_only(call):
        refusal = f"Metadata scope doesn't allow format {fmt.upper()}"
        raise _error(403, refusal, "PERMISSION_DENIED", "forbidden")
    if not all(c in "0123456789abcdefABCDEF" for c in message_id):
        raise _error(400, "Invalid id value", "INVALID_ARGUMENT", "invalidArgument")
    message = mailbox.message(message_id.lower())
    if message is None:
        raise not_found()
    return message_json(message, fmt, call.params.all("metadataHeaders"))


def routes(world: World) -> list[Route]:
    base = "/gmail/v1/users/{userId}"
    return [
        endpoint(base + "/profile", world, {"GET": (PROFILE, get_profile)}),
        endpoint(base + "/labels", world, {"GET": (LIST_LABELS, list_labels)}),
        endpoint(base + "/labels/{id}", world, {"GET": (GET_LABEL, get_label)}),
        endpoint(base + "/messages", world, {"GET": (LIST_MESSAGES, list_messages)}),
        endpoint(base + "/messages/{id}", world, {"GET": (GET_MESSAGE, get_message)}),
    ]
