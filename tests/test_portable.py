# google-auth leaves Credentials' constructor and to_json unannotated; calling them is the point.
# mypy: disable-error-code="no-untyped-call"
"""gtoken import and export: the token files people have, read safely and adopted against the
emulator, and the authorized_user file google-auth reads back.

Token files are made by google-auth itself (``Credentials.to_json()``, ``pickle.dumps`` of a real
``Credentials``) from a real sign-in at the emulator. No secret is compared in a message by
printing it: :func:`assert_hidden` checks that none of them appears.
"""

from __future__ import annotations

import builtins
import json
import os
import pickle
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from google.auth.credentials import AnonymousCredentials
from google.oauth2.credentials import Credentials

from gtoken.accounts import Accounts
from gtoken.emulator.client import Emulator
from gtoken.errors import ConfigError, ConsentRequired, InvalidClient
from gtoken.files import Imported, adopt_imported, authorized_user, read_token_file
from gtoken.store import AccountRecord
from tests.support import Clock, login

AUTH = "https://www.googleapis.com/auth/"
GMAIL_RO = AUTH + "gmail.readonly"
EMAIL = AUTH + "userinfo.email"
SCOPES = ["openid", "email", GMAIL_RO]
ADA = "ada@example.com"


def google_credentials(
    emulator: Emulator,
    *,
    scopes: list[str] = SCOPES,
    secrets: dict[str, Any] | None = None,
    account: str = "",
) -> tuple[Credentials, dict[str, Any]]:
    """What a quickstart holds after its sign-in: google-auth Credentials from a real login at
    the emulator, and the client_secret.json it signed in with."""
    secrets = secrets or emulator.create_client()
    emulator.create_user(ADA)
    emulator.consent_auto(email=ADA)
    body = login(emulator, secrets, " ".join(scopes), access_type="offline")
    info = secrets["installed"]
    creds = Credentials(
        body["access_token"],
        refresh_token=body["refresh_token"],
        token_uri=info["token_uri"],
        client_id=info["client_id"],
        client_secret=info["client_secret"],
        scopes=scopes,
        account=account,
    )
    creds.expiry = datetime.now(UTC).replace(tzinfo=None) + timedelta(seconds=body["expires_in"])
    return creds, secrets


def secrets_of(creds: Credentials) -> list[str]:
    return [creds.token, creds.refresh_token, creds.client_secret]


def assert_hidden(text: str, secrets: list[str]) -> None:
    for secret in secrets:
        assert secret not in text, "a secret appears in the text"


def write(path: Path, document: object) -> Path:
    path.write_text(json.dumps(document))
    return path


# -- each format imports, and the account then works ---------------------------------------------


def test_a_quickstart_token_json_is_adopted_and_refreshed_later(
    emulator: Emulator, accounts: Accounts, clock: Clock, tmp_path: Path
) -> None:
    creds, _ = google_credentials(emulator)
    path = tmp_path / "token.json"
    path.write_text(creds.to_json())

    imported = read_token_file(path)
    assert imported.format == "token.json"
    assert imported.client.client_id == creds.client_id
    assert imported.scopes == frozenset({"openid", EMAIL, GMAIL_RO})
    assert imported.expiry is not None
    assert imported.expiry.tzinfo is not None
    assert imported.email is None  # google-auth wrote "account": ""

    record = adopt_imported(accounts, imported)
    user = next(u for u in emulator._call("GET", "/users")["users"] if u["email"] == ADA)
    assert (record.email, record.sub) == (ADA, user["sub"])
    assert record.is_default
    assert set(record.scopes) == {"openid", EMAIL, GMAIL_RO}
    assert record.refresh_token == creds.refresh_token

    token = accounts.token(scopes=["gmail.readonly"])
    assert token.access_token == record.access_token  # fresh from the import's own refresh
    clock.advance(3600)
    assert accounts.token().access_token != record.access_token
    assert_hidden(repr(imported) + repr(record), secrets_of(creds))


def test_an_authorized_user_file_is_adopted(
    emulator: Emulator, accounts: Accounts, tmp_path: Path
) -> None:
    creds, _ = google_credentials(emulator)
    # As gcloud auth application-default login writes it.
    path = write(
        tmp_path / "application_default_credentials.json",
        {
            "account": "",
            "client_id": creds.client_id,
            "client_secret": creds.client_secret,
            "quota_project_id": "my-project",
            "refresh_token": creds.refresh_token,
            "type": "authorized_user",
            "universe_domain": "googleapis.com",
        },
    )
    imported = read_token_file(path)
    assert (imported.format, imported.quota_project_id) == ("authorized_user", "my-project")
    assert imported.access_token is None
    assert imported.scopes is None
    record = adopt_imported(accounts, imported)
    assert record.email == ADA
    assert set(record.scopes) == {"openid", EMAIL, GMAIL_RO}  # Google's word, not the file's
    assert accounts.token().access_token == record.access_token


def test_a_token_pickle_is_adopted(emulator: Emulator, accounts: Accounts, tmp_path: Path) -> None:
    creds, _ = google_credentials(emulator, scopes=[GMAIL_RO, "email"], account=ADA)
    path = tmp_path / "token.pickle"
    path.write_bytes(pickle.dumps(creds))
    imported = read_token_file(path)
    assert imported.format == "token.pickle"
    assert imported.email == ADA
    assert imported.refresh_token == creds.refresh_token
    record = adopt_imported(accounts, imported)
    assert record.email == ADA
    assert accounts.token(scopes=["gmail.readonly"]).access_token == record.access_token


def test_an_oauth2client_token_json_is_adopted(
    emulator: Emulator, accounts: Accounts, tmp_path: Path
) -> None:
    creds, _ = google_credentials(emulator)
    # The quickstarts before 2019 saved oauth2client's OAuth2Credentials.to_json().
    path = write(
        tmp_path / "token.json",
        {
            "access_token": creds.token,
            "client_id": creds.client_id,
            "client_secret": creds.client_secret,
            "refresh_token": creds.refresh_token,
            "token_expiry": "2019-01-01T00:00:00Z",
            "token_uri": "https://oauth2.googleapis.com/token",
            "user_agent": None,
            "revoke_uri": "https://oauth2.googleapis.com/revoke",
            "id_token": None,
            "scopes": [GMAIL_RO],
            "token_info_uri": "https://oauth2.googleapis.com/tokeninfo",
            "invalid": False,
            "_class": "OAuth2Credentials",
            "_module": "oauth2client.client",
        },
    )
    imported = read_token_file(path)
    assert imported.format == "oauth2client"
    assert imported.expiry == datetime(2019, 1, 1, tzinfo=UTC)
    record = adopt_imported(accounts, imported)
    assert record.email == ADA
    assert accounts.token().access_token == record.access_token


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_pickles_of_every_protocol_read_like_the_json(tmp_path: Path, protocol: int) -> None:
    creds = Credentials(
        "ya29.a0AccessTokenForPickles0123456789",
        refresh_token="1//0gRefreshTokenForPickles0123456789",
        token_uri="https://oauth2.googleapis.com/token",
        client_id="123-abc.apps.googleusercontent.com",
        client_secret="GOCSPX-PickledClientSecret012",
        scopes=[GMAIL_RO],
        quota_project_id="billing-project",
    )
    creds.expiry = datetime(2030, 1, 2, 3, 4, 5, 678)
    as_json = read_token_file(write(tmp_path / "token.json", json.loads(creds.to_json())))
    (tmp_path / "token.pickle").write_bytes(pickle.dumps(creds, protocol=protocol))
    as_pickle = read_token_file(tmp_path / "token.pickle")
    assert as_pickle.format == "token.pickle"
    assert as_pickle.quota_project_id == "billing-project"  # to_json leaves it out
    assert as_pickle.expiry == datetime(2030, 1, 2, 3, 4, 5, 678, tzinfo=UTC)
    assert (as_pickle.client, as_pickle.refresh_token, as_pickle.access_token) == (
        as_json.client,
        as_json.refresh_token,
        as_json.access_token,
    )
    assert as_pickle.scopes == as_json.scopes == frozenset({GMAIL_RO})


def test_a_testing_apps_refresh_token_limit_is_kept(
    emulator: Emulator, accounts: Accounts, clock: Clock, tmp_path: Path
) -> None:
    secrets = emulator.create_client(publishing_status="testing", test_users=[ADA])
    creds, _ = google_credentials(emulator, secrets=secrets)
    path = tmp_path / "token.json"
    path.write_text(creds.to_json())
    clock.advance(24 * 3600)
    record = adopt_imported(accounts, read_token_file(path))
    assert record.refresh_token_expires_at is not None
    days_left = (record.refresh_token_expires_at - clock()) / 86400
    assert 5.9 < days_left < 6.1


# -- what gtoken refuses to adopt --------------------------------------------------------------


def test_a_refresh_token_google_refuses_stores_nothing(
    emulator: Emulator, accounts: Accounts, tmp_path: Path
) -> None:
    creds, _ = google_credentials(emulator)
    path = tmp_path / "token.json"
    path.write_text(creds.to_json())
    emulator.revoke_user(ADA)
    with pytest.raises(ConsentRequired) as caught:
        adopt_imported(accounts, read_token_file(path))
    message = str(caught.value)
    assert str(path) in message
    assert "no longer works" in message
    assert "gtoken login" in message
    assert caught.value.likely_causes
    assert accounts.list() == []
    assert_hidden(message, secrets_of(creds))


def test_a_wrong_client_secret_stores_nothing(
    emulator: Emulator, accounts: Accounts, tmp_path: Path
) -> None:
    creds, _ = google_credentials(emulator)
    document = json.loads(creds.to_json())
    document["client_secret"] = "GOCSPX-NotTheRightSecretAtAll0"
    with pytest.raises(InvalidClient) as caught:
        adopt_imported(accounts, read_token_file(write(tmp_path / "token.json", document)))
    assert "token.json" in str(caught.value)
    assert accounts.list() == []
    assert_hidden(str(caught.value), [*secrets_of(creds), document["client_secret"]])


def test_a_client_secret_json_is_refused_with_the_login_command(
    emulator: Emulator, tmp_path: Path
) -> None:
    secrets = emulator.create_client()
    path = write(tmp_path / "client_secret.json", secrets)
    with pytest.raises(ConfigError) as caught:
        read_token_file(path)
    assert f"gtoken login --client-secrets {path}" in str(caught.value)
    assert_hidden(str(caught.value), [secrets["installed"]["client_secret"]])


def test_a_service_account_key_is_refused(emulator: Emulator, tmp_path: Path) -> None:
    key = emulator.create_service_account()
    with pytest.raises(ConfigError) as caught:
        read_token_file(write(tmp_path / "sa.json", key))
    message = str(caught.value)
    assert "service-account key" in message
    assert "GOOGLE_APPLICATION_CREDENTIALS" in message
    assert_hidden(message, [key["private_key"], key["private_key_id"]])


GOOD: dict[str, Any] = {
    "token": "ya29.a0AccessTokenValue0123456789",
    "refresh_token": "1//0gRefreshTokenValue0123456789",
    "token_uri": "https://oauth2.googleapis.com/token",
    "client_id": "123-abc.apps.googleusercontent.com",
    "client_secret": "GOCSPX-ClientSecretValue012345",
    "scopes": [GMAIL_RO],
    "expiry": "2030-01-01T00:00:00.123456Z",
}
HIDDEN = [GOOD["token"], GOOD["refresh_token"], GOOD["client_secret"]]


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"refresh_token": None}, "holds no refresh token (refresh_token)"),
        ({"client_id": None}, "lacks client_id"),
        ({"client_secret": ""}, "lacks client_secret"),
        ({"client_id": 123}, "client_id that is a int, not text"),
        ({"refresh_token": ["x"]}, "refresh_token that is a list, not text"),
        ({"scopes": 5}, "scopes that is not a list of scopes"),
        ({"expiry": "tomorrow"}, "expiry 'tomorrow', which is not an ISO time"),
        ({"token_uri": "ftp://example.com/token"}, "token_uri 'ftp://example.com/token'"),
        (
            {"token_uri": "http://proxy.example.com/token"},
            "token_uri 'http://proxy.example.com/token', which uses plain http to "
            "proxy.example.com",
        ),
        ({"universe_domain": "example.net"}, "universe_domain 'example.net'"),
        ({"type": "external_account"}, "of type 'external_account'"),
        ({"token": "ya29.with space"}, "token with spaces in it"),
    ],
)
def test_malformed_fields_name_the_file_and_the_field(
    tmp_path: Path, change: dict[str, object], says: str
) -> None:
    document = {**GOOD, **change}
    path = write(tmp_path / "token.json", {k: v for k, v in document.items() if v is not None})
    with pytest.raises(ConfigError) as caught:
        read_token_file(path)
    assert str(path) in str(caught.value)
    assert says in str(caught.value)
    assert_hidden(str(caught.value), HIDDEN)


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"", "is empty"),
        (b'{"token": "ya29.a0AccessTokenValue0123456789",', "neither JSON (line 1"),
        (b"[1, 2]", "JSON but not an object"),
        (b'{"name": "x"}', "not a token file gtoken knows"),
        (b"\xff\xfe\x00garbage", "neither JSON"),
        (pickle.dumps({"token": "x"}), "holds a pickled dict"),
        (pickle.dumps(datetime(2030, 1, 1)), "holds a pickled datetime"),
        (
            pickle.dumps(AnonymousCredentials()),
            "holds a pickled google.auth.credentials.AnonymousCredentials, not",
        ),
        (b"\x80\x04\x95\x10\x00\x00", "not a readable pickle"),
    ],
)
def test_files_that_are_no_token_files_are_refused(
    tmp_path: Path, content: bytes, says: str
) -> None:
    path = tmp_path / "token.dat"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as caught:
        read_token_file(path)
    assert str(path) in str(caught.value)
    assert says in str(caught.value)
    assert "ya29." not in str(caught.value)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        read_token_file(tmp_path / "nope.json")


# -- a pickle that would run code runs nothing -------------------------------------------------


class Payload:
    """Pickles as a call of ``function(*args)``: what a malicious token.pickle does."""

    def __init__(self, function: object, *args: object) -> None:
        self.function = function
        self.args = args

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return self.function, self.args


def malicious_pickles(marker: Path) -> dict[str, tuple[bytes, str]]:
    """Pickles that would create ``marker`` if loaded, each with the global it would call."""
    touch = f"open({str(marker)!r}, 'w').close()"
    shell = f"touch {marker}"
    inside = Credentials("ya29.token", refresh_token="1//refresh", client_id="c", client_secret="s")
    inside.token = Payload(os.system, shell)  # hidden inside an otherwise real Credentials
    system = f"{os.system.__module__}.system"  # posix.system
    return {
        "os.system": (pickle.dumps(Payload(os.system, shell)), system),
        "builtins.eval": (pickle.dumps(Payload(builtins.eval, touch)), "builtins.eval"),
        "builtins.exec": (pickle.dumps(Payload(exec, touch), protocol=0), "__builtin__.exec"),
        "subprocess.call": (
            pickle.dumps(Payload(subprocess.call, ["touch", str(marker)])),
            "subprocess.call",
        ),
        "subprocess.Popen": (
            pickle.dumps(Payload(subprocess.Popen, ["touch", str(marker)])),
            "subprocess.Popen",
        ),
        "nested in Credentials": (pickle.dumps(inside), system),
        "hand-written protocol 0": (f"cos\nsystem\n(S'{shell}'\ntR.".encode(), "os.system"),
    }


@pytest.mark.parametrize("name", list(malicious_pickles(Path("/nonexistent"))))
def test_a_pickle_that_runs_code_is_refused_and_runs_nothing(tmp_path: Path, name: str) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "token.pickle"
    data, refused = malicious_pickles(marker)[name]
    path.write_bytes(data)
    with pytest.raises(ConfigError) as caught:
        read_token_file(path)
    assert not marker.exists()
    message = str(caught.value)
    assert f"{path} asks to run {refused} when unpickled" in message
    assert "ran nothing" in message


# -- export ----------------------------------------------------------------------------------------


GOOGLE_AUTH_DEFAULT = textwrap.dedent(
    """
    import json, sys
    import google.auth, google.auth.transport.requests, httpx
    creds, _ = google.auth.default(scopes=[sys.argv[2]])
    # google-auth reads no token_uri from an authorized_user file: it always refreshes at
    # Google's endpoint. Point these credentials at the emulator instead, as a test would.
    creds = creds.with_token_uri(sys.argv[1] + "/token")
    creds.refresh(google.auth.transport.requests.Request())
    info = httpx.get(sys.argv[1] + "/tokeninfo", params={"access_token": creds.token}).json()
    print(json.dumps({"class": type(creds).__module__ + "." + type(creds).__name__,
                      "account": creds.account, "quota": creds.quota_project_id,
                      "email": info["email"], "scope": info["scope"]}))
    """
)


def test_an_export_works_with_google_auth_default(
    emulator: Emulator, accounts: Accounts, tmp_path: Path
) -> None:
    creds, _ = google_credentials(emulator)
    path = tmp_path / "token.json"
    path.write_text(creds.to_json())
    record = adopt_imported(accounts, read_token_file(path))

    document = authorized_user(record, quota_project_id="my-project")
    assert list(document) == [
        "type",
        "client_id",
        "client_secret",
        "refresh_token",
        "quota_project_id",
        "account",
        "universe_domain",
    ]
    assert document["type"] == "authorized_user"
    assert (document["account"], document["universe_domain"]) == (ADA, "googleapis.com")
    assert "quota_project_id" not in authorized_user(record)
    exported = write(tmp_path / "adc.json", document)

    child_env = {k: v for k, v in os.environ.items() if not k.startswith(("GOOGLE_", "CLOUDSDK_"))}
    child_env["GOOGLE_APPLICATION_CREDENTIALS"] = str(exported)
    child_env["GOOGLE_CLOUD_PROJECT"] = "my-project"  # so google-auth asks gcloud for nothing
    run = subprocess.run(
        [sys.executable, "-c", GOOGLE_AUTH_DEFAULT, emulator.url, GMAIL_RO],
        env=child_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    seen = json.loads(run.stdout)
    assert seen["class"] == "google.oauth2.credentials.Credentials"
    assert (seen["account"], seen["quota"], seen["email"]) == (ADA, "my-project", ADA)
    assert GMAIL_RO in seen["scope"].split()

    # and gtoken reads its own export back
    again = read_token_file(exported)
    assert (again.format, again.email, again.refresh_token) == (
        "authorized_user",
        ADA,
        record.refresh_token,
    )


def test_an_account_without_refresh_token_cannot_be_exported() -> None:
    record = AccountRecord(
        id="a1",
        client_id="123-abc.apps.googleusercontent.com",
        email=ADA,
        access_token="ya29.a0OnlyAnAccessToken0123456789",
        client_secret="GOCSPX-ClientSecretValue012345",
    )
    with pytest.raises(ConfigError) as caught:
        authorized_user(record)
    assert "no refresh token" in str(caught.value)
    assert ADA in str(caught.value)
    assert_hidden(str(caught.value), [record.access_token or "", record.client_secret or ""])


def test_an_account_needing_consent_is_not_exported() -> None:
    record = AccountRecord(
        id="a1",
        client_id="123-abc.apps.googleusercontent.com",
        email=ADA,
        status="needs_consent",
        status_reason="Google refused its refresh token (invalid_grant)",
        refresh_token="1//0gRefreshTokenValue0123456789",
        client_secret="GOCSPX-ClientSecretValue012345",
    )
    with pytest.raises(ConsentRequired) as caught:
        authorized_user(record)
    assert "invalid_grant" in str(caught.value)
    assert_hidden(str(caught.value), [record.refresh_token or "", record.client_secret or ""])


def test_imported_shows_no_secret() -> None:
    imported = Imported(
        source="token.json",
        format="token.json",
        client=read_client(),
        refresh_token=GOOD["refresh_token"],
        access_token=GOOD["token"],
    )
    assert_hidden(repr(imported) + str(imported), HIDDEN)


def read_client() -> Any:
    from gtoken.oauth import ClientSecrets

    return ClientSecrets(
        kind="installed",
        client_id=str(GOOD["client_id"]),
        client_secret=str(GOOD["client_secret"]),
    )
