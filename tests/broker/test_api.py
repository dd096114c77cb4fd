"""The broker's HTTP API against the emulator, on SQLite and PostgreSQL: connect links, the
callback, tokens, connections, API keys and their permissions, problem+json errors."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from gtoken.emulator.client import Emulator
from tests.broker.conftest import APP, RETURN_URL, Served, connect_user, follow
from tests.support import Clock

EMAIL = "ada@example.com"
JSON = "application/json"


def test_connect_then_token(served: Served, emulator: Emulator) -> None:
    landed = connect_user(served, emulator, "user-42", EMAIL)
    assert landed.status_code == 303
    back = urlsplit(landed.headers["location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == APP + "/connected"
    assert parse_qs(back.query) == {
        "from": ["gtoken"],
        "status": ["connected"],
        "user_id": ["user-42"],
    }
    with served.http("tokens:read") as http:
        reply = http.post("/v1/connections/user-42/token", json={"scopes": ["gmail.readonly"]})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert set(body) == {"access_token", "expires_at", "scopes"}
    assert "https://www.googleapis.com/auth/gmail.readonly" in body["scopes"]
    info = httpx.get(f"{emulator.url}/tokeninfo", params={"access_token": body["access_token"]})
    assert info.status_code == 200
    assert info.json()["email"] == EMAIL

    with served.http("connections:manage") as http:
        conn = http.get("/v1/connections/user-42").json()
    assert conn["status"] == "active"
    assert conn["email"] == EMAIL
    assert "access_token" not in conn
    assert "refresh_token" not in conn
    assert body["access_token"] not in str(conn)


def test_every_token_is_audited(served: Served, emulator: Emulator) -> None:
    connect_user(served, emulator, "user-1", EMAIL)
    with served.http("tokens:read") as http:
        for _ in range(3):
            assert http.post("/v1/connections/user-1/token", json={}).status_code == 200
    with served.http("admin") as http:
        entries = http.get("/v1/audit", params={"user_id": "user-1"}).json()["entries"]
    assert len(entries) == 3
    key_id = served.keys["tokens:read"].split("_")[1]
    assert {e["key_id"] for e in entries} == {key_id}
    assert {e["caller"] for e in entries} == {"127.0.0.1"}
    assert all(e["client_id"] == served.client_id for e in entries)


def test_min_ttl_refreshes_once(served: Served, emulator: Emulator) -> None:
    emulator.configure(access_token_lifetime=120)
    connect_user(served, emulator, "user-1", EMAIL)
    before = emulator.stats()["token"].get("refresh_token", 0)
    with served.http() as http:
        first = http.post("/v1/connections/user-1/token", json={"min_ttl": 60}).json()
        fresh = http.post("/v1/connections/user-1/token", json={"min_ttl": 600}).json()
        again = http.post("/v1/connections/user-1/token", json={"min_ttl": 60}).json()
    assert fresh["access_token"] != first["access_token"]
    assert again["access_token"] == fresh["access_token"]
    assert emulator.stats()["token"].get("refresh_token", 0) == before + 1


def test_connect_link_tampered_with(served: Served, emulator: Emulator) -> None:
    with served.http("connections:manage") as http:
        url = http.post(
            "/v1/connect-links",
            json={"user_id": "user-1", "scopes": ["gmail.readonly"], "return_url": RETURN_URL},
        ).json()["url"]
    head, payload, signature = url.rsplit(".", 2)
    # Another user's id in the payload, the signature kept.
    import base64
    import json

    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data["u"] = "user-2"
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")
    for bad in (
        f"{head}.{forged}.{signature}",
        f"{head}.{payload}.{signature[:-2]}AA",
        url[:-10],
        served.url + "/connect/nonsense",
    ):
        reply = httpx.get(bad)
        assert reply.status_code == 400, bad
        assert "location" not in reply.headers
        assert "cannot be used" in reply.text
    assert emulator.stats()["token"].get("authorization_code", 0) == 0


def test_connect_link_expired(served: Served, emulator: Emulator, clock: Clock) -> None:
    with served.http("connections:manage") as http:
        made = http.post(
            "/v1/connect-links", json={"user_id": "user-1", "scopes": ["gmail.readonly"]}
        ).json()
    clock.offset += 901
    reply = httpx.get(made["url"])
    assert reply.status_code == 410
    assert "expired" in reply.text


@pytest.mark.parametrize(
    "return_url",
    [
        "https://evil.example.net/steal",
        "https://app.example.com.evil.example.net/",
        "http://app.example.com/connected",  # another scheme is another origin
        "https://app.example.com:8443/x",
        "javascript:alert(1)",
        "//evil.example.net/",
    ],
)
def test_return_url_outside_allowed_origins(served: Served, return_url: str) -> None:
    with served.http("connections:manage") as http:
        reply = http.post(
            "/v1/connect-links",
            json={"user_id": "user-1", "scopes": ["gmail.readonly"], "return_url": return_url},
        )
    assert reply.status_code == 400
    assert reply.headers["content-type"] == "application/problem+json"
    assert reply.json()["type"].split(":")[-1] in ("return-url-not-allowed", "bad-return-url")


def test_callback_replayed(served: Served, emulator: Emulator) -> None:
    emulator.create_user(EMAIL)
    emulator.consent_auto(email=EMAIL, grant="all")
    with served.http("connections:manage") as http:
        url = http.post(
            "/v1/connect-links",
            json={"user_id": "user-1", "scopes": ["gmail.readonly"], "return_url": RETURN_URL},
        ).json()["url"]
    to_google = httpx.get(url)
    assert to_google.status_code == 303
    to_callback = httpx.get(to_google.headers["location"])
    callback = to_callback.headers["location"]
    assert callback.startswith(served.url + "/connect/callback")
    first = httpx.get(callback)
    assert first.status_code == 303
    replayed = httpx.get(callback)
    assert replayed.status_code == 400
    assert "location" not in replayed.headers
    assert "already used" in replayed.text
    assert emulator.stats()["token"].get("authorization_code", 0) == 1


def test_consent_denied_returns_with_the_error(served: Served, emulator: Emulator) -> None:
    landed = connect_user(served, emulator, "user-1", EMAIL, grant="deny")
    query = parse_qs(urlsplit(landed.headers["location"]).query)
    assert query["status"] == ["error"]
    assert query["error"] == ["access_denied"]
    with served.http("connections:manage") as http:
        assert http.get("/v1/connections/user-1").status_code == 404


def test_user_revoked_at_google_gets_409_with_reconnect_link(
    served: Served, emulator: Emulator
) -> None:
    emulator.configure(access_token_lifetime=30)
    connect_user(served, emulator, "user-1", EMAIL)
    emulator.revoke_user(EMAIL)
    with served.http() as http:
        reply = http.post(
            "/v1/connections/user-1/token",
            json={"min_ttl": 60, "return_url": RETURN_URL},
        )
    assert reply.status_code == 409
    assert reply.headers["content-type"] == "application/problem+json"
    problem = reply.json()
    assert problem["type"] == "urn:gtoken:problem:consent-required"
    assert "revoked" in (problem["cause"] + " ".join(problem["likely_causes"])).lower()
    reconnect = problem["reconnect_url"]
    assert reconnect.startswith(served.url + "/connect/")
    with served.http("connections:manage") as http:
        assert http.get("/v1/connections/user-1").json()["status"] == "needs_consent"
    # The user reconnects through the link and lands back on the app.
    emulator.consent_auto(email=EMAIL, grant="all")
    landed = follow(reconnect)
    assert parse_qs(urlsplit(landed.headers["location"]).query)["status"] == ["connected"]
    with served.http() as http:
        assert http.post("/v1/connections/user-1/token", json={}).status_code == 200


def test_token_for_unknown_user_is_409(served: Served) -> None:
    with served.http() as http:
        reply = http.post("/v1/connections/nobody/token", json={"scopes": ["gmail.readonly"]})
    assert reply.status_code == 409
    assert reply.json()["reconnect_url"].startswith(served.url + "/connect/")


def test_scope_not_granted_is_409(served: Served, emulator: Emulator) -> None:
    connect_user(served, emulator, "user-1", EMAIL)
    with served.http() as http:
        reply = http.post("/v1/connections/user-1/token", json={"scopes": ["drive.file"]})
    assert reply.status_code == 409
    assert "drive.file" in reply.json()["detail"]


def test_google_failing_for_now_is_503_with_retry_after(served: Served, emulator: Emulator) -> None:
    emulator.configure(access_token_lifetime=30)
    connect_user(served, emulator, "user-1", EMAIL)
    emulator.fault(endpoint="token", status=503, count=10)
    with served.http() as http:
        reply = http.post("/v1/connections/user-1/token", json={"min_ttl": 60})
    assert reply.status_code == 503
    assert int(reply.headers["retry-after"]) > 0
    emulator.clear_faults()
    with served.http("connections:manage") as http:
        assert http.get("/v1/connections/user-1").json()["status"] == "active"


def test_api_key_without_permission_is_403(served: Served) -> None:
    with served.http("tokens:read") as http:
        reply = http.post("/v1/connect-links", json={"user_id": "u", "scopes": ["gmail.readonly"]})
        assert reply.status_code == 403
        assert reply.json()["type"] == "urn:gtoken:problem:forbidden"
        assert http.get("/v1/connections").status_code == 403
        assert http.delete("/v1/connections/u").status_code == 403
        assert http.get("/v1/audit").status_code == 403
    with served.http("connections:manage") as http:
        assert http.post("/v1/connections/u/token", json={}).status_code == 403


def test_api_key_revoked_unknown_or_missing_is_401(served: Served) -> None:
    key = served.keys["tokens:read"]
    served.broker.records.revoke_key(key.split("_")[1])
    for headers in (
        {"Authorization": f"Bearer {key}"},
        {"Authorization": f"Bearer {key[:-3]}abc"},
        {"Authorization": "Bearer gtk_nope_nope"},
        {"Authorization": "Bearer something-else"},
        {},
    ):
        reply = httpx.post(f"{served.url}/v1/connections/u/token", json={}, headers=headers)
        assert reply.status_code == 401, headers
        assert reply.headers["www-authenticate"] == "Bearer"
        assert key not in reply.text


def test_key_limited_to_another_client(served: Served) -> None:
    _, secret = served.broker.records.create_key("other", ["tokens:read"], "other-client")
    reply = httpx.post(
        f"{served.url}/v1/connections/u/token",
        json={},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert reply.status_code == 400  # the broker keeps no such client


def test_list_and_delete_connections(served: Served, emulator: Emulator) -> None:
    for n in range(5):
        connect_user(served, emulator, f"user-{n}", f"u{n}@example.com")
    with served.http("connections:manage") as http:
        page = http.get("/v1/connections", params={"limit": 2}).json()
        seen = [c["user_id"] for c in page["connections"]]
        while page["next"]:
            page = http.get("/v1/connections", params={"limit": 2, "after": page["next"]}).json()
            seen += [c["user_id"] for c in page["connections"]]
        assert seen == [f"user-{n}" for n in range(5)]
        assert http.delete("/v1/connections/user-3").status_code == 204
        assert http.get("/v1/connections/user-3").status_code == 404
        assert http.delete("/v1/connections/user-3").status_code == 404
        active = http.get("/v1/connections", params={"status": "active"}).json()
        assert len(active["connections"]) == 4
        assert http.get("/v1/connections", params={"status": "nope"}).status_code == 422
        assert http.get("/v1/connections", params={"after": "!!"}).status_code == 400
    with served.http() as http:
        assert http.post("/v1/connections/user-3/token", json={}).status_code == 409


def test_bad_requests_are_problems(served: Served) -> None:
    with served.http("admin") as http:
        for reply in (
            http.post("/v1/connect-links", json={"user_id": "", "scopes": ["x"]}),
            http.post("/v1/connect-links", json={"user_id": "u", "scopes": []}),
            http.post("/v1/connect-links", json={"user_id": "u", "scopes": ["not a scope"]}),
            http.post(
                "/v1/connect-links", content=b"{", headers={"content-type": "application/json"}
            ),
            http.post("/v1/connections/u/token", json={"min_ttl": -1}),
            http.post("/v1/connections/u/token", json={"surprise": 1}),
            http.get("/v1/nothing-here"),
        ):
            assert 400 <= reply.status_code < 500, reply.text
            assert reply.headers["content-type"] == "application/problem+json", reply.text
            assert reply.json()["type"].startswith("urn:gtoken:problem:")


def test_operations_endpoints(served: Served, emulator: Emulator) -> None:
    connect_user(served, emulator, "user-1", EMAIL)
    assert httpx.get(f"{served.url}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{served.url}/readyz").status_code == 200
    with served.http() as http:
        http.post("/v1/connections/user-1/token", json={})
    metrics = httpx.get(f"{served.url}/metrics").text
    assert 'gtoken_broker_connections{status="active"} 1.0' in metrics
    assert (
        'gtoken_broker_requests_total{method="POST",route="/v1/connections/{user_id}/token",'
        'status="200"} 1.0'
    ) in metrics
    assert "gtoken_broker_request_seconds_bucket" in metrics
    assert "gtoken_broker_webhook_backlog 0.0" in metrics
    reply = httpx.get(f"{served.url}/healthz", headers={"x-request-id": "abc123"})
    assert reply.headers["x-request-id"] == "abc123"


def test_openapi_document_comes_from_the_handlers(served: Served) -> None:
    doc = httpx.get(f"{served.url}/openapi.json").json()
    paths = doc["paths"]
    assert set(paths) >= {
        "/v1/connect-links",
        "/v1/connections",
        "/v1/connections/{user_id}",
        "/v1/connections/{user_id}/token",
    }
    token = paths["/v1/connections/{user_id}/token"]["post"]
    assert set(token["responses"]) >= {"200", "401", "403", "409", "503"}
    schema = doc["components"]["schemas"]["TokenOut"]
    assert set(schema["properties"]) == {"access_token", "expires_at", "scopes"}


def test_nothing_secret_in_the_logs(
    served: Served, emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    # The suite's canary hook also checks every issued secret against the captured output.
    connect_user(served, emulator, "user-1", EMAIL)
    with served.http() as http:
        http.post("/v1/connections/user-1/token", json={})
    for key in served.keys.values():
        assert key not in caplog.text
    time.sleep(0)
