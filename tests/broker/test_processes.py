"""``gtoken serve`` as processes: the README's commands on SQLite and as PostgreSQL replicas, the
keys commands, a storm of requests over three replicas, and a replica killed mid-refresh."""

from __future__ import annotations

import base64
import concurrent.futures
import contextlib
import json
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gtoken.emulator.client import Emulator
from gtoken.store import new_key
from tests.broker.conftest import APP, broker_process, follow

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
EMAIL = "ada@example.com"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def readme_line(command: str) -> list[str]:
    """``command`` split into words, after checking that the README shows it as it is."""
    assert command in README, f"the README no longer shows: {command}"
    return shlex.split(command)


def gtoken(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gtoken", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


@pytest.fixture
def process_env(env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        **env,
        "GTOKEN_VAULT_KEYS": base64.b64encode(new_key()).decode(),
        "GTOKEN_BROKER_LOG_LEVEL": "warning",
    }


def connect(url: str, key: str, emulator: Emulator, user_id: str, email: str = EMAIL) -> None:
    emulator.create_user(email)
    emulator.consent_auto(email=email, grant="all")
    link = httpx.post(
        f"{url}/v1/connect-links",
        json={"user_id": user_id, "scopes": ["gmail.readonly"], "return_url": APP + "/done"},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert link.status_code == 201, link.text
    landed = follow(link.json()["url"])
    assert "status=connected" in landed.headers["location"]


def token(url: str, key: str, user_id: str, **body: Any) -> httpx.Response:
    return httpx.post(
        f"{url}/v1/connections/{user_id}/token",
        json=body,
        headers={"Authorization": f"Bearer {key}"},
        timeout=60,
    )


def test_keys_commands(process_env: dict[str, str], tmp_path: Path) -> None:
    env = {**process_env, "GTOKEN_DATABASE_URL": f"sqlite:///{tmp_path}/b.db"}
    assert gtoken(env, "serve", "migrate").returncode == 0
    again = gtoken(env, "serve", "migrate")
    assert "nothing to do" in again.stderr
    made = gtoken(
        env, "serve", "keys", "create", "--name", "billing", "--permission", "tokens:read"
    )
    assert made.returncode == 0, made.stderr
    (secret,) = made.stdout.splitlines()
    assert secret.startswith("gtk_")
    assert secret not in made.stderr
    listed = gtoken(env, "serve", "keys", "list", "--json")
    (row,) = json.loads(listed.stdout)
    assert row["name"] == "billing"
    assert row["permissions"] == ["tokens:read"]
    assert secret not in listed.stdout
    assert row["id"] in secret
    assert gtoken(env, "serve", "keys", "revoke", row["id"]).returncode == 0
    assert json.loads(gtoken(env, "serve", "keys", "list", "--json").stdout)[0]["revoked_at"]
    twice = gtoken(env, "serve", "keys", "revoke", row["id"])
    assert twice.returncode == 3
    assert "no active API key" in twice.stderr
    bad = gtoken(env, "serve", "keys", "create", "--name", "x", "--permission", "everything")
    assert bad.returncode == 2


def test_bad_configuration_stops_it_at_start(process_env: dict[str, str], tmp_path: Path) -> None:
    for args, extra, named in (
        (["--port", "99999"], {}, "port"),
        (["--link-ttl", "-5"], {}, "link_ttl"),
        ([], {"GTOKEN_BROKER_RETURN_ORIGINS": "https://app.example.com/path"}, "return_origins"),
        ([], {"GTOKEN_BROKER_WORKER": "perhaps"}, "worker"),
        (["--database-url", "mysql://x"], {}, "sqlite:///"),
        (["--config", str(tmp_path / "missing.toml")], {}, "missing.toml"),
    ):
        run = gtoken({**process_env, **extra}, "serve", *args)
        assert run.returncode in (2, 3), (args, run.stderr)
        assert named in run.stderr, (args, run.stderr)
        assert "Traceback" not in run.stderr
    no_key = {k: v for k, v in process_env.items() if k != "GTOKEN_VAULT_KEYS"}
    run = gtoken(no_key, "serve", "--port", "0")
    assert run.returncode == 3
    assert "GTOKEN_VAULT_KEYS" in run.stderr
    config = tmp_path / "broker.toml"
    config.write_text('[broker]\nport = 0\nsurprise = "yes"\n')
    run = gtoken(process_env, "serve", "--config", str(config))
    assert run.returncode == 3
    assert "surprise" in run.stderr


def test_readme_sqlite_in_one_command(
    emulator: Emulator, process_env: dict[str, str], tmp_path: Path
) -> None:
    port = free_port()
    client = emulator.create_client(
        type="web", redirect_uris=[f"http://127.0.0.1:{port}/connect/callback"]
    )
    (tmp_path / "client_secret.json").write_text(json.dumps(client))
    command = readme_line(
        'GTOKEN_VAULT_KEYS="$(gtoken key new)" gtoken serve --client-secrets client_secret.json '
        "--return-origins https://app.example.com"
    )
    key_made = gtoken(process_env, "key", "new")
    env = {**process_env, command[0].split("=")[0]: key_made.stdout.strip()}
    env["GTOKEN_BROKER_PORT"] = str(port)  # the README's default 8080 may be taken here
    log = tmp_path / "broker.log"
    os.chdir(tmp_path)
    with broker_process(env, *command[3:], log=log) as (url, _):
        assert url == f"http://127.0.0.1:{port}"
        made = gtoken(
            env,
            *readme_line(
                "gtoken serve keys create --name billing --permission tokens:read "
                "--permission connections:manage"
            )[1:],
        )
        key = made.stdout.strip()
        connect(url, key, emulator, "user-42")
        reply = token(url, key, "user-42")
        assert reply.status_code == 200
        assert (Path(env["GTOKEN_HOME"]) / "broker.db").exists()
    assert "Traceback" not in log.read_text()


@contextlib.contextmanager
def replicas(
    emulator: Emulator, env: dict[str, str], database_url: str, tmp_path: Path, count: int = 3
) -> Iterator[tuple[list[str], list[subprocess.Popen[str]], str]]:
    """The README's replicas on ``database_url``: their URLs, processes, and an API key."""
    ports = [free_port() for _ in range(count)]
    public = f"http://127.0.0.1:{ports[0]}"
    client = emulator.create_client(type="web", redirect_uris=[f"{public}/connect/callback"])
    (tmp_path / "client_secret.json").write_text(json.dumps(client))
    env = {**env, "GTOKEN_DATABASE_URL": database_url}
    readme_line("export GTOKEN_DATABASE_URL=postgresql://broker@db.example.com/broker")
    assert gtoken(env, *readme_line("gtoken serve migrate")[1:]).returncode == 0
    first = readme_line(
        "gtoken serve --port 8081 --public-url https://tokens.example.com --client-secrets "
        "client_secret.json --return-origins https://app.example.com &"
    )
    other = readme_line("gtoken serve --port 8082 --public-url https://tokens.example.com &")
    with contextlib.ExitStack() as stack:
        os.chdir(tmp_path)
        urls, procs = [], []
        for n, port in enumerate(ports):
            args = (first if n == 0 else other)[2:-1]
            args = [str(port) if a.startswith("808") else a for a in args]
            args = [public if a == "https://tokens.example.com" else a for a in args]
            url, proc = stack.enter_context(
                broker_process(env, *args, log=tmp_path / f"replica-{n}.log")
            )
            urls.append(url)
            procs.append(proc)
        key = gtoken(
            env, "serve", "keys", "create", "--name", "t", "--permission", "admin"
        ).stdout.strip()
        yield urls, procs, key
    for n in range(count):
        text = (tmp_path / f"replica-{n}.log").read_text()
        assert "Traceback" not in text, text[-3000:]


@pytest.mark.postgres
def test_readme_replicas_on_postgresql(
    emulator: Emulator, process_env: dict[str, str], pg_schema_url: str, tmp_path: Path
) -> None:
    with replicas(emulator, process_env, pg_schema_url, tmp_path) as (urls, _, key):
        connect(urls[0], key, emulator, "user-42")
        answers = {token(url, key, "user-42").json()["access_token"] for url in urls}
        assert len(answers) == 1  # one connection, seen alike by every replica
        for url in urls:
            assert httpx.get(f"{url}/readyz").status_code == 200


@pytest.mark.postgres
def test_storm_over_three_replicas_refreshes_once(
    emulator: Emulator, process_env: dict[str, str], pg_schema_url: str, tmp_path: Path
) -> None:
    emulator.configure(access_token_lifetime=90)
    with replicas(emulator, process_env, pg_schema_url, tmp_path) as (urls, _, key):
        connect(urls[0], key, emulator, "user-1")
        first = token(urls[0], key, "user-1").json()["access_token"]
        emulator.configure(access_token_lifetime=3600)  # the next token lasts
        before = emulator.stats()["token"].get("refresh_token", 0)
        with concurrent.futures.ThreadPoolExecutor(60) as pool:
            replies = list(
                pool.map(lambda n: token(urls[n % 3], key, "user-1", min_ttl=300), range(120))
            )
        assert {r.status_code for r in replies} == {200}
        tokens = {r.json()["access_token"] for r in replies}
        assert len(tokens) == 1
        assert first not in tokens
        assert emulator.stats()["token"].get("refresh_token", 0) == before + 1


@pytest.mark.postgres
def test_replica_killed_mid_refresh(
    emulator: Emulator, process_env: dict[str, str], pg_schema_url: str, tmp_path: Path
) -> None:
    emulator.configure(access_token_lifetime=90)
    with replicas(emulator, process_env, pg_schema_url, tmp_path) as (urls, procs, key):
        connect(urls[0], key, emulator, "user-1")
        emulator.configure(access_token_lifetime=1800)
        # Google takes 3 s over the next refresh: replica 0 starts it and is killed meanwhile.
        emulator.fault(endpoint="token", delay=3, count=1)
        with concurrent.futures.ThreadPoolExecutor(20) as pool:
            doomed = pool.submit(token, urls[0], key, "user-1", min_ttl=300)
            time.sleep(1)
            procs[0].send_signal(signal.SIGKILL)
            procs[0].wait(timeout=10)
            survivors = list(
                pool.map(lambda n: token(urls[1 + n % 2], key, "user-1", min_ttl=300), range(20))
            )
            with pytest.raises(httpx.HTTPError):
                doomed.result()
        assert {r.status_code for r in survivors} == {200}, [r.text for r in survivors]
        assert len({r.json()["access_token"] for r in survivors}) == 1
        # The refresh token survived: a later refresh still works, and the connection is active.
        before = emulator.stats()["token"].get("refresh_token", 0)
        again = token(urls[1], key, "user-1", min_ttl=2500)
        assert again.status_code == 200
        assert emulator.stats()["token"].get("refresh_token", 0) == before + 1
        status = httpx.get(
            f"{urls[2]}/v1/connections/user-1", headers={"Authorization": f"Bearer {key}"}
        )
        assert status.json()["status"] == "active"
