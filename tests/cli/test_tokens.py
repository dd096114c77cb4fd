"""``gtoken token``, ``header``, ``curl`` and ``info``, and the exit codes of what goes wrong."""

from __future__ import annotations

import json
import shutil
import socket
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gtoken.emulator.client import Emulator
from tests.cli.conftest import EMAIL, GMAIL_RO, Gtoken, Run


def refreshes(emulator: Emulator) -> int:
    return int(emulator.stats()["token"].get("refresh_token", 0))


def test_token_prints_the_token_alone_on_one_line(gtoken: Gtoken, signed_in: Run) -> None:
    run = gtoken("token")
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    [line] = run.lines
    assert run.stdout == line + "\n"
    assert line.startswith("ya29.")
    assert gtoken("token", "--format", "bare").stdout == run.stdout


def test_header_and_header_format(gtoken: Gtoken, signed_in: Run) -> None:
    token = gtoken("token").stdout.strip()
    expected = f"Authorization: Bearer {token}\n"
    assert gtoken("header").stdout == expected
    assert gtoken("token", "--format", "header").stdout == expected


def test_json_format(gtoken: Gtoken, signed_in: Run) -> None:
    token = gtoken("token").stdout.strip()
    run = gtoken("token", "--format", "json")
    document = json.loads(run.stdout)
    assert set(document) == {
        "access_token", "expires_at", "expires_in", "scopes", "account", "token_type"
    }  # fmt: skip
    assert document["access_token"] == token
    assert document["account"] == EMAIL
    assert document["token_type"] == "Bearer"
    assert GMAIL_RO in document["scopes"]
    expires = datetime.strptime(document["expires_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    left = (expires - datetime.now(UTC)).total_seconds()
    assert abs(left - document["expires_in"]) < 5
    assert 3000 < document["expires_in"] <= 3600


def test_a_valid_token_is_not_refreshed_and_min_ttl_forces_one(
    gtoken: Gtoken, signed_in: Run, emulator: Emulator
) -> None:
    first = gtoken("token").stdout
    assert gtoken("token", "--account", EMAIL).stdout == first
    assert refreshes(emulator) == 0

    fresh = gtoken("token", "--min-ttl", "7200")

    assert fresh.returncode == 0, fresh.stderr
    assert fresh.stdout != first
    assert refreshes(emulator) == 1
    assert gtoken("token").stdout == fresh.stdout


def test_scope_check(gtoken: Gtoken, signed_in: Run) -> None:
    assert gtoken("token", "--scope", "gmail.readonly", "--scope", "email").returncode == 0
    run = gtoken("header", "--scope", "gmail.send")
    assert run.returncode == 4
    assert run.stdout == ""
    assert "gmail.send" in run.stderr
    assert "--scope gmail.send --account ada@example.com" in run.stderr


def test_curl_sends_the_header_and_passes_curl_arguments_through(
    gtoken: Gtoken, signed_in: Run, emulator: Emulator
) -> None:
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    url = f"{emulator.url}/gmail/v1/users/me/labels"

    run = gtoken("curl", url, "-sS", "-H", "Accept: application/json")

    assert run.returncode == 0, run.stderr
    names = {label["name"] for label in json.loads(run.stdout)["labels"]}
    assert "INBOX" in names
    # curl's own exit code comes back: 22 is --fail's HTTP error.
    missing = gtoken("curl", f"{emulator.url}/gmail/v1/users/me/nothing", "-s", "--fail")
    assert missing.returncode == 22


def test_curl_gets_the_token_through_a_pipe_not_its_command_line(
    gtoken: Gtoken, signed_in: Run, tmp_path: Path
) -> None:
    # A stand-in curl that reports what it was given; the config file it reads (the pipe)
    # goes to a file, so that the token stays out of the output.
    bindir = tmp_path / "bin"
    bindir.mkdir()
    fake = bindir / "curl"
    fake.write_text(
        f"#!{sys.executable}\n"
        "import json, pathlib, sys\n"
        "args = sys.argv[1:]\n"
        "config = open(args[args.index('-K') + 1]).read()\n"
        f"pathlib.Path({str(tmp_path / 'config')!r}).write_text(config)\n"
        "print(json.dumps({'argv': args, 'stdin': sys.stdin.read()}))\n"
    )
    fake.chmod(0o755)
    token = gtoken("token").stdout.strip()

    run = gtoken(
        "curl",
        "https://example.com/x",
        "-d",
        "@-",
        input="data from stdin",
        env={"PATH": str(bindir)},
    )

    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout)
    assert seen["argv"][0] == "-K"
    assert seen["argv"][2:] == ["https://example.com/x", "-d", "@-"]
    assert seen["stdin"] == "data from stdin"
    assert (tmp_path / "config").read_text() == f'header = "Authorization: Bearer {token}"\n'


def test_curl_missing_is_a_clear_error(gtoken: Gtoken, signed_in: Run) -> None:
    run = gtoken("curl", "http://127.0.0.1:9/", env={"PATH": "/nonexistent"})
    assert run.returncode == 3
    assert "curl is not installed" in run.stderr


def test_info_asks_google(gtoken: Gtoken, signed_in: Run, emulator: Emulator) -> None:
    run = gtoken("info")
    assert run.returncode == 0, run.stderr
    assert f"account:     {EMAIL}" in run.stdout
    assert "gmail.readonly" in run.stdout
    assert "expires:     in 5" in run.stdout  # 59 min, or 58 on a slow machine
    document = json.loads(gtoken("info", "--json").stdout)
    client_id = json.loads(gtoken("accounts", "--json").stdout)[0]["client_id"]
    assert document["client_id"] == client_id
    assert document["account"] == EMAIL
    assert GMAIL_RO in document["scopes"]
    assert emulator.stats()["endpoints"]["tokeninfo"] == 2


def test_no_account_is_consent_needed(gtoken: Gtoken) -> None:
    run = gtoken("token")
    assert run.returncode == 4
    assert run.stdout == ""
    assert run.stderr.startswith("gtoken: ")
    assert "No Google account has signed in yet" in run.stderr
    assert "gtoken login" in run.stderr


def test_revoked_grant_is_consent_needed_with_the_likely_causes(
    gtoken: Gtoken, signed_in: Run, emulator: Emulator
) -> None:
    emulator.revoke_user(EMAIL)

    run = gtoken("token", "--min-ttl", "7200")  # the stored token is about to expire

    assert run.returncode == 4
    assert run.stdout == ""
    assert f"{EMAIL} needs consent again" in run.stderr
    assert "Likely causes" in run.stderr
    assert "revoked" in run.stderr
    # It stays so, without asking Google again, until the person signs in again.
    again = gtoken("token")
    assert again.returncode == 4
    assert "Likely causes" in again.stderr
    listed = json.loads(gtoken("accounts", "--json").stdout)
    assert listed[0]["status"] == "needs_consent"


def test_google_unreachable_is_a_network_error(gtoken: Gtoken, signed_in: Run) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"127.0.0.1:{s.getsockname()[1]}"  # nothing listens once closed

    run = gtoken("token", "--min-ttl", "7200", env={"GTOKEN_EMULATOR_HOST": dead})

    assert run.returncode == 5
    assert run.stdout == ""
    assert "\nhint: Check the network connection" in run.stderr
    assert "Traceback" not in run.stderr
    # Nothing was lost: the account still works once Google is back.
    assert gtoken("token").returncode == 0


@pytest.mark.parametrize(
    "args",
    [
        ("token", "--format", "xml"),
        ("token", "--min-ttl", "soon"),
        ("token", "--min-ttl", "-1"),
        ("token", "--acount", "x"),
        ("header", "--format", "json"),
        ("token", "--scope"),
        ("nonsense",),
    ],
)
def test_usage_errors(gtoken: Gtoken, args: tuple[str, ...]) -> None:
    run = gtoken(*args)
    assert run.returncode == 2
    assert run.stdout == ""
    assert "usage: gtoken" in run.stderr
    assert "Traceback" not in run.stderr


def test_tokeninfo_answers_are_read_or_refused() -> None:
    from gtoken.errors import InvalidToken, ProtocolError
    from gtoken.tokeninfo import parse_tokeninfo

    now = datetime(2024, 5, 1, tzinfo=UTC)
    body = b'{"azp": "c.apps", "scope": "openid email", "exp": "1714525200", "email": "a@b.c"}'
    info = parse_tokeninfo(200, {}, body, now=now)
    assert info.client_id == "c.apps"
    assert info.scopes == {"openid", "https://www.googleapis.com/auth/userinfo.email"}
    assert info.expires_at == datetime(2024, 5, 1, 1, tzinfo=UTC)
    assert info.email == "a@b.c"
    relative = parse_tokeninfo(200, {}, b'{"expires_in": "60"}', now=now)
    assert relative.expires_at == datetime(2024, 5, 1, 0, 1, tzinfo=UTC)
    with pytest.raises(InvalidToken):
        parse_tokeninfo(400, {}, b'{"error": "invalid_token", "error_description": "x"}', now=now)
    with pytest.raises(ProtocolError):
        parse_tokeninfo(200, {}, b"<html>", now=now)


def test_curl_verbose_shows_the_authorization_header_without_the_token(
    gtoken: Gtoken, signed_in: Run, emulator: Emulator
) -> None:
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    token = gtoken("token").stdout.strip()

    run = gtoken("curl", f"{emulator.url}/gmail/v1/users/me/labels", "-sS", "-v")

    assert run.returncode == 0, run.stderr
    assert "INBOX" in run.stdout
    assert f"> Authorization: Bearer …{token[-4:]}" in run.stderr  # curl's -v, relayed
    assert "< HTTP/1.1 200" in run.stderr
    assert token not in run.stderr
