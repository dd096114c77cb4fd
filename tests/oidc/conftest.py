"""A standard OpenID Connect server that is not Google: panva's oidc-provider (certified by the
OpenID Foundation) from npm, configured by ``server.mjs`` and run with Node.js for the session.

The packages pinned in ``package-lock.json`` are installed once with ``npm ci`` into a cache
directory named after the lock file's hash (``$XDG_CACHE_HOME/gtoken-tests``), so later sessions
start at once and need no network. Without node or npm, or when the install fails, the tests are
skipped loudly (failed under ``GTOKEN_TEST_STRICT=1``).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import unavailable

HERE = Path(__file__).parent
CLIENT_ID = "gtoken-test-client"
EMAIL = "ada@example.com"


@dataclass(frozen=True)
class OidcServer:
    """The running server: its issuer URL and its one client's ``client_secret.json``."""

    url: str
    client_secret: str

    def client_secret_json(self) -> dict[str, Any]:
        return {
            "installed": {
                "client_id": CLIENT_ID,
                "client_secret": self.client_secret,
                "auth_uri": f"{self.url}/auth",
                "token_uri": f"{self.url}/token",
                "redirect_uris": ["http://127.0.0.1"],
            }
        }


def _cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "gtoken-tests"


def _installed(npm: str) -> Path:
    """The directory holding server.mjs and its node_modules, installed once per lock file."""
    lock = (HERE / "package-lock.json").read_bytes()
    where = _cache_root() / f"oidc-provider-{hashlib.sha256(lock).hexdigest()[:16]}"
    where.mkdir(parents=True, exist_ok=True)
    with (where / ".install.lock").open("w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)  # xdist workers install once between them
        for name in ("package.json", "package-lock.json", "server.mjs"):
            shutil.copyfile(HERE / name, where / name)
        if not (where / "node_modules" / ".installed").exists():
            try:
                subprocess.run(
                    [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                    cwd=where,
                    check=True,
                    capture_output=True,
                    text=True,
                    timeout=300,
                )
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
                said = getattr(exc, "stderr", "") or str(exc)
                unavailable("oidc-provider (npm)", f"npm ci failed: {said.strip()[-300:]}")
            (where / "node_modules" / ".installed").touch()
    return where


@pytest.fixture(scope="session")
def oidc_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcServer]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        unavailable("oidc-provider (Node.js)", "node or npm is not on PATH")
    assert node is not None
    assert npm is not None
    where = _installed(npm)
    secret = secrets.token_urlsafe(32)
    log = tmp_path_factory.mktemp("oidc") / "stderr.log"
    with log.open("w") as err:
        proc = subprocess.Popen(
            [node, str(where / "server.mjs"), CLIENT_ID, secret],
            cwd=where,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    try:
        if not line.startswith("listening on "):
            unavailable("oidc-provider", f"the server did not start: {line!r} {log.read_text()}")
        yield OidcServer(line.split()[-1], secret)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()
