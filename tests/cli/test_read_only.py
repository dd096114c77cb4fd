"""A gtoken home that cannot be written (a read-only container root, a mounted secret), a full
disk, and a store path taken by a directory: each said as it is.

A read-only home is made for real: a bind mount remounted read-only in a private mount namespace
(``unshare -m``), since the tests may run as root, whom ``chmod`` does not stop. Where that
cannot be done, the tests are skipped loudly (failing under GTOKEN_TEST_STRICT).
"""

from __future__ import annotations

import hashlib
import shlex
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.conftest import Gtoken, Run
from tests.conftest import unavailable

# In a mount namespace of its own: $1 is bind-mounted over itself read-only, then the rest runs.
_READ_ONLY = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"'
# ... or a tmpfs of $2 bytes is mounted on $1, filled with a copy of $3, then the rest runs with
# every byte of that tmpfs in use.
_FULL = (
    'mount -t tmpfs -o size="$2",mode=0700 tmpfs "$1" && cp -a "$3"/. "$1"/ && '
    '(cat /dev/zero > "$1"/filler 2>/dev/null; true) && shift 3 && exec "$@"'
)

_LIBRARY = textwrap.dedent(
    """
    import hashlib
    from gtoken.accounts import Accounts

    with Accounts() as accounts:
        token = accounts.token().access_token
    print(hashlib.sha256(token.encode()).hexdigest())
    """
)


def _namespaces_work(tmp_path: Path) -> None:
    probe = tmp_path / "probe"
    probe.mkdir()
    try:
        result = subprocess.run(
            ["unshare", "-m", "sh", "-c", f"{_READ_ONLY}", "sh", str(probe), "touch", probe / "x"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        unavailable("a read-only mount (unshare -m)", str(exc))
    if "Read-only file system" not in result.stderr:
        why = result.stderr.strip() or f"touch exited {result.returncode} on the read-only mount"
        unavailable("a read-only mount (unshare -m)", why)


@pytest.fixture
def read_only(gtoken: Gtoken, tmp_path: Path) -> Callable[..., Run]:
    """Run ``gtoken ARGS`` (or python code) with GTOKEN_HOME read-only."""
    _namespaces_work(tmp_path)
    home = gtoken.env["GTOKEN_HOME"]

    def run(*args: str, code: str | None = None) -> Run:
        command = [sys.executable, "-c", code] if code else [sys.executable, "-m", "gtoken", *args]
        result = subprocess.run(
            ["unshare", "-m", "sh", "-c", _READ_ONLY, "sh", home, *command],
            capture_output=True,
            text=True,
            env=gtoken.environment(),
            timeout=60,
        )
        return gtoken.keep(args or ("python",), result.returncode, result.stdout, result.stderr)

    return run


def _digest(token: str) -> str:
    return hashlib.sha256(token.strip().encode()).hexdigest()


def test_a_valid_token_is_read_from_a_read_only_home(
    gtoken: Gtoken, signed_in: Run, read_only: Callable[..., Run]
) -> None:
    token = gtoken("token").stdout
    run = read_only

    cli = run("token")
    library = run(code=_LIBRARY)
    header = run("header")
    listed = run("accounts")

    assert cli.returncode == 0, cli.stderr
    assert cli.stdout == token
    assert library.returncode == 0, library.stderr
    assert library.stdout.strip() == _digest(token)
    assert header.returncode == 0, header.stderr
    assert listed.returncode == 0, listed.stderr


def test_a_refresh_that_cannot_be_saved_says_so(
    gtoken: Gtoken, signed_in: Run, read_only: Callable[..., Run]
) -> None:
    run = read_only

    refused = run("token", "--min-ttl", "3599")

    assert refused.returncode == 3, refused.stderr
    said = refused.stderr
    assert "read-only" in said
    assert "cannot be saved" in said
    assert "damaged" not in said
    assert "move it away" not in said
    assert "bug" not in said


def test_a_full_disk_is_said_to_be_full(gtoken: Gtoken, signed_in: Run, tmp_path: Path) -> None:
    _namespaces_work(tmp_path)
    home = gtoken.env["GTOKEN_HOME"]
    copy = tmp_path / "copy"
    shutil.copytree(home, copy)
    size = str(sum(p.stat().st_size for p in copy.iterdir()) + 64 * 1024)
    command = [sys.executable, "-m", "gtoken", "token", "--min-ttl", "3599"]

    result = subprocess.run(
        ["unshare", "-m", "sh", "-c", _FULL, "sh", home, size, str(copy), *command],
        capture_output=True,
        text=True,
        env=gtoken.environment(),
        timeout=60,
    )
    run = gtoken.keep(("token", "--min-ttl", "3599"), result.returncode, "", result.stderr)

    assert run.returncode == 3, f"{shlex.join(command)}: {run.stderr}"
    assert "is full" in run.stderr, run.stderr
    assert "damaged" not in run.stderr, run.stderr
    assert "bug" not in run.stderr


def test_a_directory_where_the_store_should_be(gtoken: Gtoken, signed_in: Run) -> None:
    store = Path(gtoken.env["GTOKEN_HOME"]) / "store.sqlite3"
    store.rename(store.with_name("elsewhere"))
    store.mkdir(mode=0o755)

    for args in [("token",), ("accounts",)]:
        run = gtoken(*args)
        assert run.returncode == 3, run.stderr
        assert "is a directory" in run.stderr
        assert "chmod" not in run.stderr
        assert "other users" not in run.stderr
    doctor = gtoken("doctor")
    assert "is a directory" in doctor.stdout
    assert "chmod" not in doctor.stdout
