"""The Gmail slice, as googleapiclient and plain HTTP clients see it."""
# mypy: disable-error-code="no-untyped-call"

from __future__ import annotations

import base64
import contextlib
import email
from email import policy
from typing import Any

import google.auth.transport.requests
import google.oauth2.credentials
import google.oauth2.service_account
import httpx
import pytest
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from gtoken.emulator.client import Emulator, EmulatorError
from tests.support import login

A = "https://www.googleapis.com/auth/"
READONLY = A + "gmail.readonly"
METADATA = A + "gmail.metadata"
ADA = "ada@example.com"
SYSTEM_LABELS = {
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
}
INVALID = (
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie "
    "or other valid authentication credential. "
    "See https://developers.google.com/identity/sign-in/web/devconsole-project."
)


def access_token(emulator: Emulator, scope: str) -> str:
    """Ada's access token for a new client, granted ``scope``."""
    with contextlib.suppress(EmulatorError):  # she may exist already
        emulator.create_user(ADA, "Ada Lovelace")
    emulator.consent_auto(email=ADA)
    token: str = login(emulator, emulator.create_client(), scope)["access_token"]
    return token


@pytest.fixture
def gmail(emulator: Emulator) -> Any:
    token = access_token(emulator, READONLY)
    creds = google.oauth2.credentials.Credentials(token)
    return build(
        "gmail",
        "v1",
        credentials=creds,
        client_options={"api_endpoint": emulator.api_endpoint("gmail")},
        static_discovery=True,
    )


def api(emulator: Emulator, path: str, token: str | None, **params: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return httpx.get(f"{emulator.url}{path}", headers=headers, params=params)


def all_messages(gmail: Any, **query: Any) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    """Every message of a listing, following ``nextPageToken``: (messages, pages)."""
    pages = []
    request = gmail.users().messages().list(userId="me", **query)
    while request is not None:
        page = request.execute()
        pages.append(page)
        request = gmail.users().messages().list_next(request, page)
    return [m for page in pages for m in page.get("messages", [])], pages


def subjects(gmail: Any, messages: list[dict[str, str]]) -> list[str]:
    out = []
    for m in messages:
        meta = (
            gmail.users()
            .messages()
            .get(userId="me", id=m["id"], format="metadata", metadataHeaders=["Subject"])
            .execute()
        )
        out.append(meta["payload"]["headers"][0]["value"])
    return out


# -- through googleapiclient ---------------------------------------------------------------------


def test_labels_list_has_every_system_label_and_the_user_labels(gmail: Any) -> None:
    labels = gmail.users().labels().list(userId="me").execute()["labels"]
    system = {label["id"] for label in labels if label["type"] == "system"}
    user = {label["name"]: label["id"] for label in labels if label["type"] == "user"}
    assert system == SYSTEM_LABELS
    assert user == {"Work": "Label_1", "Receipts": "Label_2", "Travel Plans": "Label_3"}


def test_label_get_counts_its_messages(gmail: Any) -> None:
    work = gmail.users().labels().get(userId="me", id="Label_1").execute()
    assert work["name"] == "Work"
    assert work["messagesTotal"] == 4
    assert work["messagesUnread"] == 2
    assert work["threadsTotal"] == 3


def test_paging_through_a_query_returns_each_match_once(gmail: Any) -> None:
    messages, pages = all_messages(gmail, q="is:unread", maxResults=3)
    ids = [m["id"] for m in messages]
    assert len(ids) == 8  # nine unread, one of them in spam, which a listing leaves out
    assert len(set(ids)) == 8
    assert [len(p.get("messages", [])) for p in pages] == [3, 3, 2]
    assert all(p["resultSizeEstimate"] == 8 for p in pages)
    assert "nextPageToken" not in pages[-1]
    labels = [
        gmail.users().messages().get(userId="me", id=i, format="minimal").execute()["labelIds"]
        for i in ids
    ]
    assert all("UNREAD" in found and "SPAM" not in found for found in labels)


def test_listing_is_newest_first_and_leaves_out_spam_and_trash(gmail: Any) -> None:
    messages, _ = all_messages(gmail)
    dates = [
        int(
            gmail.users()
            .messages()
            .get(userId="me", id=m["id"], format="minimal")
            .execute()["internalDate"]
        )
        for m in messages
    ]
    assert len(messages) == 23
    assert dates == sorted(dates, reverse=True)
    everything, _ = all_messages(gmail, includeSpamTrash=True)
    assert len(everything) == 25


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            "label:work",
            [
                "Invitation: Design review",
                "Re: Quarterly report draft",
                "Quarterly report draft",
                "Welcome to the team",
            ],
        ),
        ("label:travel-plans", ["Booking confirmation 4821", "Your flight to Lisbon"]),
        (
            "label:STARRED",
            [
                "Photos from the hike",
                "Quarterly report draft",
                "Your flight to Lisbon",
                "Sunday lunch",
            ],
        ),
        ("is:starred from:sam", ["Photos from the hike"]),
        ("from:priya is:unread", ["Re: Quarterly report draft"]),
        ("subject:lisbon", ["Your flight to Lisbon"]),
        ("noodle", ["Lunch on Thursday?"]),
        ('"quarterly report" -is:unread', ["Quarterly report draft"]),
        ("in:spam", ["You have WON a prize"]),
        ("label:work is:unread subject:invitation", ["Invitation: Design review"]),
        ("from:nobody", []),
    ],
)
def test_search_operators(gmail: Any, query: str, expected: list[str]) -> None:
    messages, _ = all_messages(gmail, q=query)
    assert subjects(gmail, messages) == expected


def test_label_ids_are_all_required(gmail: Any) -> None:
    messages, _ = all_messages(gmail, labelIds=["Label_2", "Label_3"])
    assert subjects(gmail, messages) == ["Booking confirmation 4821"]


def _message_with_subject(gmail: Any, subject: str) -> str:
    messages, _ = all_messages(gmail, q=f'subject:"{subject}"')
    exact = [m for m, s in zip(messages, subjects(gmail, messages), strict=True) if s == subject]
    assert len(exact) == 1
    return exact[0]["id"]


def test_get_full_multipart_message_decodes_to_its_text_and_html(gmail: Any) -> None:
    message_id = _message_with_subject(gmail, "Your order has shipped")
    full = gmail.users().messages().get(userId="me", id=message_id).execute()
    payload = full["payload"]
    assert payload["mimeType"] == "multipart/alternative"
    assert payload["partId"] == ""
    headers = {h["name"]: h["value"] for h in payload["headers"]}
    assert headers["Subject"] == "Your order has shipped"
    assert headers["From"] == "Example Shop <orders@shop.example.com>"
    assert headers["To"] == f"Ada Lovelace <{ADA}>"
    assert headers["Message-ID"].startswith("<")
    text, rich = payload["parts"]
    assert (text["partId"], text["mimeType"]) == ("0", "text/plain")
    assert (rich["partId"], rich["mimeType"]) == ("1", "text/html")
    body = base64.urlsafe_b64decode(text["body"]["data"]).decode()
    assert body.startswith("Good news: order 1043")
    assert text["body"]["size"] == len(body.encode())
    assert "<p>Good news: order 1043" in base64.urlsafe_b64decode(rich["body"]["data"]).decode()
    assert full["snippet"].startswith("Good news: order 1043")
    assert full["threadId"] == message_id


def test_get_full_plain_message_keeps_non_ascii(gmail: Any) -> None:
    message_id = _message_with_subject(gmail, "Sunday lunch")
    payload = gmail.users().messages().get(userId="me", id=message_id).execute()["payload"]
    assert payload["mimeType"] == "text/plain"
    assert "parts" not in payload
    text = base64.urlsafe_b64decode(payload["body"]["data"]).decode("utf-8")
    assert "crème brûlée" in text


def test_get_raw_is_the_whole_rfc822_message(gmail: Any) -> None:
    message_id = _message_with_subject(gmail, "Your order has shipped")
    raw = gmail.users().messages().get(userId="me", id=message_id, format="raw").execute()
    assert "payload" not in raw
    data = base64.urlsafe_b64decode(raw["raw"])
    assert raw["sizeEstimate"] == len(data)
    parsed = email.message_from_bytes(data, policy=policy.default)
    assert parsed["Subject"] == "Your order has shipped"
    assert parsed["Delivered-To"] == ADA
    plain = parsed.get_body(preferencelist=("plain",))
    assert plain is not None
    assert plain.get_content().startswith("Good news: order 1043")


def test_get_metadata_and_minimal(gmail: Any) -> None:
    message_id = _message_with_subject(gmail, "Re: Sunday lunch")
    meta = (
        gmail.users()
        .messages()
        .get(userId="me", id=message_id, format="metadata", metadataHeaders=["from", "In-Reply-To"])
        .execute()
    )
    assert [h["name"] for h in meta["payload"]["headers"]] == ["From", "In-Reply-To"]
    assert meta["labelIds"] == ["SENT"]
    minimal = gmail.users().messages().get(userId="me", id=message_id, format="minimal").execute()
    assert "payload" not in minimal
    assert set(minimal) == {
        "id",
        "threadId",
        "labelIds",
        "snippet",
        "sizeEstimate",
        "historyId",
        "internalDate",
    }
    # A reply lives in the thread of the message it answers.
    original = _message_with_subject(gmail, "Sunday lunch")
    assert minimal["threadId"] == original


def test_unknown_message_is_a_404_the_client_raises(gmail: Any) -> None:
    with pytest.raises(HttpError) as caught:
        gmail.users().messages().get(userId="me", id="18e0000000000000").execute()
    assert caught.value.resp.status == 404
    assert caught.value.reason == "Requested entity was not found."


# -- plain HTTP: the exact bodies ----------------------------------------------------------------


def test_missing_token_is_401_with_google_body_and_header(emulator: Emulator) -> None:
    response = api(emulator, "/gmail/v1/users/me/labels", None)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="https://accounts.google.com/"'
    error = response.json()["error"]
    assert error["status"] == "UNAUTHENTICATED"
    assert error["message"].startswith("Request is missing required authentication credential.")
    assert error["errors"][0]["reason"] == "required"


@pytest.mark.parametrize("how", ["garbage", "expired", "revoked"])
def test_invalid_token_is_401_with_google_body_and_header(emulator: Emulator, how: str) -> None:
    token = "ya29.not-a-token"
    if how != "garbage":
        token = access_token(emulator, READONLY)
    if how == "expired":
        emulator.advance(3600)
    if how == "revoked":
        httpx.post(f"{emulator.url}/revoke", data={"token": token}).raise_for_status()
    response = api(emulator, "/gmail/v1/users/me/labels", token)
    assert response.status_code == 401
    assert (
        response.headers["www-authenticate"]
        == 'Bearer realm="https://accounts.google.com/", error="invalid_token"'
    )
    error = response.json()["error"]
    assert {k: v for k, v in error.items() if k != "details"} == {
        "code": 401,
        "message": INVALID,
        "errors": [
            {
                "message": "Invalid Credentials",
                "domain": "global",
                "reason": "authError",
                "location": "Authorization",
                "locationType": "header",
            }
        ],
        "status": "UNAUTHENTICATED",
    }
    reason = "ACCESS_TOKEN_EXPIRED" if how == "expired" else "ACCESS_TOKEN_TYPE_UNSUPPORTED"
    assert error["details"][0]["reason"] == reason
    assert token not in response.text


def test_token_without_a_gmail_scope_is_403_insufficient_scopes(emulator: Emulator) -> None:
    token = access_token(emulator, A + "drive.readonly")
    response = api(emulator, "/gmail/v1/users/me/labels", token)
    assert response.status_code == 403
    assert response.json() == {
        "error": {
            "code": 403,
            "message": "Request had insufficient authentication scopes.",
            "errors": [
                {
                    "message": "Insufficient Permission",
                    "domain": "global",
                    "reason": "insufficientPermissions",
                }
            ],
            "status": "PERMISSION_DENIED",
            "details": [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
                    "domain": "googleapis.com",
                    "metadata": {
                        "service": "gmail.googleapis.com",
                        "method": "caribou.api.proto.MailboxService.ListLabels",
                    },
                }
            ],
        }
    }
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith(
        'Bearer realm="https://accounts.google.com/", error="insufficient_scope"'
    )
    assert READONLY in challenge


def test_labels_scope_lists_labels_but_not_messages(emulator: Emulator) -> None:
    token = access_token(emulator, A + "gmail.labels")
    assert api(emulator, "/gmail/v1/users/me/labels", token).status_code == 200
    assert api(emulator, "/gmail/v1/users/me/messages", token).status_code == 403


def test_metadata_scope_refuses_q_and_full_and_raw(emulator: Emulator) -> None:
    token = access_token(emulator, METADATA)
    refused = api(emulator, "/gmail/v1/users/me/messages", token, q="is:unread")
    assert refused.status_code == 403
    assert refused.json()["error"]["message"] == "Metadata scope does not support 'q' parameter"
    assert refused.json()["error"]["status"] == "PERMISSION_DENIED"
    listing = api(emulator, "/gmail/v1/users/me/messages", token, labelIds="UNREAD")
    assert listing.status_code == 200
    message_id = listing.json()["messages"][0]["id"]
    path = f"/gmail/v1/users/me/messages/{message_id}"
    for fmt in ("full", "raw"):
        response = api(emulator, path, token, format=fmt)
        assert response.status_code == 403
        message = f"Metadata scope doesn't allow format {fmt.upper()}"
        assert response.json()["error"]["message"] == message
    assert api(emulator, path, token).status_code == 403  # full is the default
    meta = api(emulator, path, token, format="metadata")
    assert meta.status_code == 200
    assert "headers" in meta.json()["payload"]


def test_metadata_scope_with_readonly_reads_everything(emulator: Emulator) -> None:
    token = access_token(emulator, f"{METADATA} {READONLY}")
    assert api(emulator, "/gmail/v1/users/me/messages", token, q="is:unread").status_code == 200


def test_user_id_is_me_or_the_token_owner(emulator: Emulator) -> None:
    token = access_token(emulator, READONLY)
    assert api(emulator, f"/gmail/v1/users/{ADA}/labels", token).status_code == 200
    other = api(emulator, "/gmail/v1/users/grace@example.com/labels", token)
    assert other.status_code == 403
    assert other.json()["error"]["message"] == f"Delegation denied for {ADA}"


def test_profile(emulator: Emulator) -> None:
    token = access_token(emulator, READONLY)
    profile = api(emulator, "/gmail/v1/users/me/profile", token).json()
    assert profile["emailAddress"] == ADA
    assert profile["messagesTotal"] == 25
    assert profile["threadsTotal"] == 20  # five of the messages are replies


def test_each_user_has_their_own_mailbox(emulator: Emulator) -> None:
    ada = access_token(emulator, READONLY)
    emulator.create_user("grace@example.com", "Grace Hopper")
    emulator.consent_auto(email="grace@example.com")
    grace = login(emulator, emulator.create_client(), READONLY)["access_token"]
    ada_ids = {
        m["id"] for m in api(emulator, "/gmail/v1/users/me/messages", ada).json()["messages"]
    }
    grace_list = api(emulator, "/gmail/v1/users/me/messages", grace).json()["messages"]
    assert len(grace_list) == 23
    assert not ada_ids & {m["id"] for m in grace_list}
    foreign = api(emulator, f"/gmail/v1/users/me/messages/{grace_list[0]['id']}", ada)
    assert foreign.status_code == 404


def _service_account_token(emulator: Emulator, scope: str, subject: str | None = None) -> str:
    key = emulator.create_service_account(delegation_scopes=[scope])
    creds = google.oauth2.service_account.Credentials.from_service_account_info(
        key, scopes=[scope], subject=subject
    )
    creds.refresh(google.auth.transport.requests.Request())
    return str(creds.token)


def test_service_account_without_a_user_has_no_mailbox(emulator: Emulator) -> None:
    token = _service_account_token(emulator, READONLY)
    response = api(emulator, "/gmail/v1/users/me/labels", token)
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": 400,
            "message": "Precondition check failed.",
            "errors": [
                {
                    "message": "Precondition check failed.",
                    "domain": "global",
                    "reason": "failedPrecondition",
                }
            ],
            "status": "FAILED_PRECONDITION",
        }
    }


def test_service_account_with_delegation_reads_the_users_mailbox(emulator: Emulator) -> None:
    emulator.create_user(ADA, "Ada Lovelace")
    token = _service_account_token(emulator, READONLY, subject=ADA)
    listing = api(emulator, "/gmail/v1/users/me/messages", token, q="label:work")
    assert listing.status_code == 200
    assert listing.json()["resultSizeEstimate"] == 4


@pytest.mark.parametrize(
    ("path", "params", "message"),
    [
        (
            "/messages",
            {"maxResults": "ten"},
            "Invalid value at 'max_results' (TYPE_UINT32), \"ten\"",
        ),
        ("/messages", {"maxResults": "-1"}, "Invalid value at 'max_results' (TYPE_UINT32), \"-1\""),
        (
            "/messages",
            {"includeSpamTrash": "maybe"},
            "Invalid value at 'include_spam_trash' (TYPE_BOOL), \"maybe\"",
        ),
        ("/messages", {"pageToken": "not-a-token"}, "Invalid pageToken"),
        (
            "/messages",
            {"q": "a", "colour": "red"},
            'Invalid JSON payload received. Unknown name "colour": Cannot bind query parameter. '
            "Field 'colour' could not be found in request message.",
        ),
        ("/messages", {"labelIds": "Label_9"}, "Invalid label: Label_9"),
        ("/messages/xyz", {}, "Invalid id value"),
        (
            "/messages/18e0000000000000",
            {"format": "FULL"},
            "Invalid value at 'format' (type.googleapis.com/caribou.api.proto.MessageFormat), "
            '"FULL"',
        ),
    ],
)
def test_bad_parameters_are_400_never_500(
    emulator: Emulator, path: str, params: dict[str, str], message: str
) -> None:
    token = access_token(emulator, READONLY)
    response = api(emulator, "/gmail/v1/users/me" + path, token, **params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["message"] == message
    assert error["status"] == "INVALID_ARGUMENT"


def test_max_results_is_capped_at_500_and_repeated_single_params_refused(
    emulator: Emulator,
) -> None:
    token = access_token(emulator, READONLY)
    big = api(emulator, "/gmail/v1/users/me/messages", token, maxResults="100000")
    assert big.status_code == 200
    assert len(big.json()["messages"]) == 23
    repeated = httpx.get(
        f"{emulator.url}/gmail/v1/users/me/messages?q=a&q=b",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert repeated.status_code == 400


def test_page_token_of_another_query_is_refused(emulator: Emulator) -> None:
    token = access_token(emulator, READONLY)
    first = api(emulator, "/gmail/v1/users/me/messages", token, q="is:unread", maxResults=2)
    page_token = first.json()["nextPageToken"]
    same = api(
        emulator,
        "/gmail/v1/users/me/messages",
        token,
        q="is:unread",
        maxResults=2,
        pageToken=page_token,
    )
    assert same.status_code == 200
    other = api(
        emulator, "/gmail/v1/users/me/messages", token, q="is:starred", pageToken=page_token
    )
    assert other.status_code == 400


def test_unknown_paths_and_methods_answer_google_json(emulator: Emulator) -> None:
    token = access_token(emulator, READONLY)
    headers = {"Authorization": f"Bearer {token}"}
    missing = httpx.get(f"{emulator.url}/gmail/v1/users/me/drafts", headers=headers)
    assert missing.status_code == 404
    assert missing.json()["error"]["status"] == "NOT_FOUND"
    wrong = httpx.delete(f"{emulator.url}/gmail/v1/users/me/labels", headers=headers)
    assert wrong.status_code == 405
    assert wrong.json()["error"]["code"] == 405
    assert wrong.headers["allow"] == "GET"


@pytest.mark.parametrize(
    "params",
    [
        {"q": "(" * 5000 + "lunch"},
        {"q": "NOT " * 3000 + "lunch"},
        {"q": '"unterminated subject:( label: is: -'},
        {"q": "😀 \x00 é " * 200},
        {"q": "after:99999999999999999999 before:2024/13/45"},
        {"labelIds": "NO_SUCH_LABEL"},
        {"pageToken": "%%%"},
        {"maxResults": "99999999999999999999"},
    ],
)
def test_nonsense_queries_never_fail_the_server(emulator: Emulator, params: dict[str, str]) -> None:
    token = access_token(emulator, READONLY)
    response = api(emulator, "/gmail/v1/users/me/messages", token, **params)
    assert response.status_code in (200, 400)
    body = response.json()
    assert "resultSizeEstimate" in body or body["error"]["status"] == "INVALID_ARGUMENT"


def test_deeply_nested_query_matches_nothing_rather_than_failing(emulator: Emulator) -> None:
    token = access_token(emulator, READONLY)
    deep = api(emulator, "/gmail/v1/users/me/messages", token, q="(" * 100 + "lunch" + ")" * 100)
    assert deep.json() == {"resultSizeEstimate": 0}
    shallow = api(emulator, "/gmail/v1/users/me/messages", token, q="((lunch))")
    assert shallow.json()["resultSizeEstimate"] == 5
