"""``gtoken key rotate`` while other processes hold the store open (DESIGN invariant 9).

A program that opened the store before a rotation (a long-running script, a login waiting in the
browser) must not write with a key that the rotation then removed, and ``gtoken token`` calls
racing rotations must all succeed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

from gtoken.store import encode_key, new_key
from tests.cli.conftest import Gtoken, Run

# Opens the store the way a long-running program does, waits to be told to go on, then writes:
# a new account (as a login that waited in the browser stores one), then a refresh.
_HOLDER = textwrap.dedent(
    """
    import sys
    from dataclasses import replace
    from gtoken.accounts import Accounts

    with Accounts() as accounts:
        record = accounts.find()
        print("ready", flush=True)
        sys.stdin.readline()
        try:
            accounts.store.put(replace(record, id="second", is_default=False, sub="2"))
            accounts.token(record.id, min_ttl=3599)
        except Exception as exc:
            print(f"refused: {type(exc).__name__}: {exc}", flush=True)
            sys.exit(3)
        print("wrote", flush=True)
    """
)


def _holder(gtoken: Gtoken, env: dict[str, str | None] | None = None) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLDER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=gtoken.environment(env),
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == "ready\n"
    return proc


def _go_on(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = proc.communicate("go\n", timeout=60)
    return proc.returncode, out, err


def test_a_process_that_opened_the_store_before_a_rotation_writes_with_the_new_key(
    gtoken: Gtoken, signed_in: Run, tmp_path: Path
) -> None:
    holder = _holder(gtoken)
    rotated = gtoken("key", "rotate")
    assert rotated.returncode == 0, rotated.stderr
    assert "Removed the old key" in rotated.stderr

    code, out, err = _go_on(holder)

    assert code == 0, out + err
    assert out.endswith("wrote\n")
    # Everything stored is readable with the key file as it is now.
    listed = gtoken("accounts", "--json")
    assert listed.returncode == 0, listed.stderr
    token = gtoken("token", "--min-ttl", "0")
    assert token.returncode == 0, token.stderr
    doctor = gtoken("doctor")
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    keys = json.loads((tmp_path / "home" / "key.json").read_text())
    assert list(keys["keys"]) == [keys["current"]]


def test_a_process_holding_a_key_the_environment_no_longer_gives_refuses_to_write(
    gtoken: Gtoken, login: object, tmp_path: Path
) -> None:
    old, new = encode_key(new_key()), encode_key(new_key())
    gtoken.env["GTOKEN_KEY"] = old
    assert login().returncode == 0  # type: ignore[operator]
    holder = _holder(gtoken)
    rotated = gtoken("key", "rotate", env={"GTOKEN_KEY_NEW": new})
    assert rotated.returncode == 0, rotated.stderr

    code, out, _ = _go_on(holder)

    assert code == 3
    assert "refused: WrongKey" in out
    assert "rotated" in out
    # Nothing sealed with the old key went in: the new key opens everything.
    after = gtoken("accounts", "--json", env={"GTOKEN_KEY": new})
    assert after.returncode == 0, after.stderr
    assert gtoken("token", "--min-ttl", "0", env={"GTOKEN_KEY": new}).returncode == 0


def test_token_calls_racing_rotations_all_succeed(gtoken: Gtoken, signed_in: Run) -> None:
    stop = threading.Event()
    rotations: list[Run] = []

    def rotate() -> None:
        while not stop.is_set():
            rotations.append(gtoken("key", "rotate"))

    rotator = threading.Thread(target=rotate)
    rotator.start()
    try:
        runs: list[Run] = []
        for n in range(24):
            # Half read the stored token, half refresh it and so write.
            args = ("token",) if n % 2 else ("token", "--min-ttl", "3599")
            runs.append(gtoken(*args))
    finally:
        stop.set()
        rotator.join()

    assert len(rotations) >= 2
    assert all(r.returncode == 0 for r in rotations), [r.stderr for r in rotations]
    failed = [r.stderr for r in runs if r.returncode != 0]
    assert not failed, failed
    assert gtoken("accounts").returncode == 0
