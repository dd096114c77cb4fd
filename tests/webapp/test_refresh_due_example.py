"""examples/vault_refresh_due.py, the cron job of docs/web-apps.md, run as a process against a
vault whose users connected through the emulator."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

from gtoken.emulator.client import Emulator
from gtoken.store import new_key
from gtoken.vault import Vault
from tests.vault.conftest import CALLBACK, connect

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "vault_refresh_due.py"


def test_the_cron_job_refreshes_what_falls_due_and_names_who_needs_consent(
    emulator: Emulator, tmp_path: Path
) -> None:
    key = base64.b64encode(new_key()).decode()
    env = {
        "PATH": "/usr/bin:/bin",
        "GTOKEN_DATABASE_URL": f"sqlite:///{tmp_path}/vault.db",
        "GTOKEN_VAULT_KEYS": key,
        "GTOKEN_EMULATOR_HOST": emulator.host,
    }
    client = emulator.create_client(type="web", redirect_uris=[CALLBACK])
    emulator.configure(access_token_lifetime=300)  # expiring within the job's ten minutes
    with Vault(client_secrets=client, redirect_uri=CALLBACK, env=env) as vault:
        for n in range(3):
            connect(emulator, vault, f"user-{n}", f"user{n}@example.com")
    emulator.configure(access_token_lifetime=3599)
    emulator.revoke_user("user1@example.com")

    def run() -> list[str]:
        result = subprocess.run(
            [sys.executable, str(EXAMPLE)], env=env, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stderr[-3000:]
        return result.stdout.splitlines()

    assert run() == [
        "3 due: 2 refreshed, 1 need consent, 0 failed for now",
        "needs consent: user-1 (user1@example.com)",
    ]
    assert emulator.stats()["token"]["refresh_token"] == 3
    assert run()[0] == "0 due: 0 refreshed, 0 need consent, 0 failed for now"
    assert emulator.stats()["token"]["refresh_token"] == 3
