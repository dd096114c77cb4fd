"""How every command behaves: exit codes from the error tree, error lines, colour, no secrets."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from gtoken import errors
from gtoken.cli.exits import exit_code, fail
from gtoken.cli.output import Io
from gtoken.store import InsecurePermissions, KeyMissing, WrongKey
from tests.cli.conftest import Gtoken, Record, Run, find_leaks


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (errors.ConfigError("x"), 3),
        (errors.StoreError("x"), 3),
        (KeyMissing("x"), 3),
        (InsecurePermissions("x", path=Path("/")), 3),
        (WrongKey("x", key_id="abcd1234"), 3),
        (errors.InvalidClient("x", error="invalid_client", status=401), 3),
        (errors.ConsentRequired("a@b.c", "revoked"), 4),
        (errors.InvalidGrant("x", error="invalid_grant", status=400), 4),
        (errors.ScopeNotGranted(["https://mail.google.com/"]), 4),
        (errors.AuthorizationError("x"), 4),
        (errors.AccessDenied("x"), 4),
        (errors.LoginTimeout("x"), 4),
        (errors.DeviceAccessDenied("x", error="access_denied", status=403), 4),
        (errors.NetworkError("x"), 5),
        (errors.ServerError("x", error=None, status=503), 5),
        (errors.OAuthError("x", error="weird", status=400), 1),
        (errors.InvalidToken("x", error="invalid_token", status=400), 1),
        (errors.ProtocolError("x"), 1),
        (RuntimeError("x"), 1),
    ],
)
def test_exit_codes_follow_the_error_tree(error: BaseException, code: int) -> None:
    assert exit_code(error) == code


def streams(env: dict[str, str] | None = None) -> tuple[Io, io.StringIO]:
    err = io.StringIO()
    return Io(out=io.StringIO(), err=err, env=env or {}), err


def test_an_error_is_its_message_and_hint() -> None:
    cli, err = streams()
    assert fail(errors.ConfigError("the file is bad", hint="Fix it."), cli) == 3
    assert err.getvalue() == "gtoken: the file is bad\nhint: Fix it.\n"


def test_an_unexpected_error_is_one_line_without_traceback_or_secret() -> None:
    cli, err = streams()
    secret = "ya29.a0AfB_byC" + "Q" * 40
    assert fail(KeyError(f"no {secret} here"), cli) == 1
    first, hint = err.getvalue().splitlines()
    assert first.startswith("gtoken: unexpected error: KeyError: ")
    assert secret not in first
    assert "GTOKEN_DEBUG=1" in hint


def test_gtoken_debug_shows_the_traceback() -> None:
    cli, err = streams({"GTOKEN_DEBUG": "1"})
    try:
        raise RuntimeError("boom")
    except RuntimeError as exc:
        fail(exc, cli)
    assert err.getvalue().startswith("Traceback (most recent call last):")
    assert "gtoken: unexpected error: RuntimeError: boom" in err.getvalue()


def run_on_a_terminal(gtoken: Gtoken, *args: str, env: dict[str, str]) -> tuple[int, str]:
    """``gtoken ARGS`` with stderr on a pseudo-terminal; returns its exit code and stderr."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gtoken", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=follower,
        env=gtoken.environment(env),
        start_new_session=True,
    )
    deadline = gtoken.watch(proc, args)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    out, _ = proc.communicate()
    deadline.check()
    text = b"".join(chunks).decode()
    gtoken.keep(args, proc.returncode, out.decode(), text)
    return proc.returncode, text


def test_colour_only_on_a_terminal_and_never_with_no_color(gtoken: Gtoken) -> None:
    code, styled = run_on_a_terminal(gtoken, "token", env={"TERM": "xterm"})
    assert code == 4
    assert "\x1b[" in styled

    code, plain = run_on_a_terminal(gtoken, "token", env={"TERM": "xterm", "NO_COLOR": "1"})
    assert code == 4
    assert "\x1b[" not in plain
    assert "gtoken: " in plain

    piped = gtoken("token", env={"TERM": "xterm"})  # stderr is a pipe, not a terminal
    assert "\x1b[" not in piped.stderr


def test_the_leak_check_sees_the_secrets_and_would_catch_a_leak(
    gtoken: Gtoken, signed_in: Run, record: Record
) -> None:
    token = gtoken("token").stdout.strip()
    gtoken("export")
    assert token in record.secrets
    assert len(record.secrets) >= 5  # access, refresh and ID token, client secret, key
    assert not find_leaks(record)

    leaky = Record(runs=[Run(("accounts",), 0, f"{token}\n", "")], secrets={token})
    assert find_leaks(leaky) == [
        f"secret #0 ({len(token)} chars) on stdout of gtoken ('accounts',)"
    ]
    leaky = Record(runs=[Run(("token",), 4, "", f"gtoken: {token}")], secrets={token})
    assert len(find_leaks(leaky)) == 1
