"""The broker's benchmarks, each against ``gtoken serve`` processes on a new PostgreSQL schema and
the emulator as a process.

- ``broker_tokens``: token requests for users with valid tokens, from wrk over keep-alive
  connections, to 2 broker processes sharing one port (``--reuse-port``); beside the same stack
  (FastAPI on uvicorn, 2 processes) answering a constant JSON body, in the same run.
- ``broker_storm``: 500 concurrent requests for one user's expired token over 3 broker processes:
  exactly 1 refresh at the emulator, all 500 answered with the new token.
- ``broker_due``: 10,000 connections falling due, 3 replicas running the worker: all refreshed
  within 60 s, none twice.
- ``broker_webhooks``: 1,000 webhooks to a receiver that fails a third of the time: all
  delivered, none lost, duplicates only after a failed attempt.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from bench import report
from bench.load import Generator, Load
from bench.vault_setup import Google, google, pg_schema
from gtoken.vault import Vault

ROOT = Path(__file__).resolve().parent.parent
TOKENS = "broker_tokens"
STORM = "broker_storm"
DUE = "broker_due"
WEBHOOKS = "broker_webhooks"
USERS = 1000
LISTENING = "gtoken serve listening on "
GTOKEN = [sys.executable, "-m", "gtoken", "serve"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def processes(argvs: list[list[str]], env: dict[str, str]) -> Iterator[list[str]]:
    """Start each argv, wait for its "listening on" line; yields their URLs."""
    logs = tempfile.TemporaryDirectory(prefix="gtoken-bench-")
    procs: list[subprocess.Popen[str]] = []
    try:
        urls = []
        for n, argv in enumerate(argvs):
            err = Path(logs.name, f"{n}.log").open("w")  # noqa: SIM115
            proc = subprocess.Popen(
                argv, stdout=subprocess.PIPE, stderr=err, text=True, env=env, cwd=ROOT
            )
            procs.append(proc)
            assert proc.stdout is not None
            line = proc.stdout.readline()
            if "listening on" not in line:
                err.close()
                text = Path(logs.name, f"{n}.log").read_text()[-2000:]
                raise RuntimeError(f"{argv[2:4]} did not start: {line!r} {text}")
            urls.append(line.split()[-1])
        yield urls
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
        logs.cleanup()


def serve(
    url: str, *, port: int = 0, worker: bool = False, reuse: bool = False, **extra: str
) -> list[str]:
    argv = [sys.executable, "-m", "gtoken", "serve", "--database-url", url, "--port", str(port)]
    argv += ["--log-level", "warning"]
    if not worker:
        argv.append("--no-worker")
    if reuse:
        argv.append("--reuse-port")
    for name, value in extra.items():
        argv += [f"--{name.replace('_', '-')}", value]
    return argv


def api_key(g: Google, url: str, permission: str = "admin") -> str:
    made = subprocess.run(
        [
            *GTOKEN,
            "keys",
            "create",
            "--database-url",
            url,
            "--name=bench",
            f"--permission={permission}",
        ],
        capture_output=True,
        text=True,
        env=g.env,
        check=True,
    )
    return made.stdout.strip()


def seed(g: Google, url: str, users: int) -> None:
    """``users`` connections (no access token yet) and the broker's tables."""
    tokens = g.refresh_tokens(users)
    with Vault(url, client_secrets=g.client, env=g.env) as vault:
        vault.import_refresh_tokens([(f"user-{n:05}", t) for n, t in enumerate(tokens)])
    subprocess.run(
        [sys.executable, "-m", "gtoken", "serve", "migrate", "--database-url", url],
        env=g.env,
        check=True,
        capture_output=True,
    )


# -- broker_tokens ------------------------------------------------------------------------------


@dataclass
class Tokens:
    load: str = ""
    broker: dict[str, float] = field(default_factory=dict)
    baseline: dict[str, float] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return self.broker["rate"] / self.baseline["rate"] if self.baseline.get("rate") else 0.0

    @property
    def ok(self) -> bool:
        return (
            not self.problems
            and self.broker.get("rate", 0) >= 1500
            and self.broker.get("p99", 1e9) < 50
            and self.ratio >= 0.5
        )


def run_tokens(generator: Generator, *, seconds: int = 5, connections: int = 32) -> Tokens:
    out = Tokens(load=generator.name)
    with google() as g, pg_schema() as url:
        seed(g, url, USERS)
        key = api_key(g, url, "tokens:read")
        port = free_port()
        with processes([serve(url, port=port, reuse=True)] * 2, g.env) as urls:
            with httpx.Client(base_url=urls[0], timeout=60) as http:  # every token made valid

                def warm(n: int) -> None:
                    reply = http.post(
                        f"/v1/connections/user-{n:05}/token",
                        json={},
                        headers={"Authorization": f"Bearer {key}"},
                    )
                    if reply.status_code != 200:
                        out.problems.append(f"warming user-{n:05}: {reply.status_code}")

                with ThreadPoolExecutor(8) as pool:
                    list(pool.map(warm, range(USERS)))
            before = g.refreshes()
            result = generator.run(_load(urls[0], key, seconds, connections))
            if g.refreshes() != before:
                out.problems.append(f"{g.refreshes() - before} refreshes during the load")
            out.broker = _numbers(result)
            if result.non_200 or result.socket_errors:
                out.problems.append(f"{result.non_200} non-200, {result.socket_errors} errors")
        port = free_port()
        baseline = [sys.executable, "-m", "bench.broker_baseline", str(port)]
        with processes([baseline] * 2, g.env) as urls:
            out.baseline = _numbers(generator.run(_load(urls[0], key, seconds, connections)))
    return out


def _load(url: str, key: str, seconds: int, connections: int) -> Load:
    paths = [f"/v1/connections/user-{n:05}/token" for n in range(USERS)]
    return Load(
        url=url + paths[0],
        bodies=["{}"] * USERS,
        paths=paths,
        once=False,
        connections=connections,
        seconds=seconds,
        content_type="application/json",
        headers=(("Authorization", f"Bearer {key}"),),
    )


def _numbers(result: object) -> dict[str, float]:
    return {
        "rate": float(getattr(result, "rate", 0.0)),
        "p50": float(getattr(result, "p50_ms", 0.0)),
        "p99": float(getattr(result, "p99_ms", 0.0)),
        "requests": float(getattr(result, "requests", 0)),
    }


def tokens_text(out: Tokens) -> str:
    b, c = out.broker, out.baseline
    return (
        f"broker: {b.get('rate', 0):,.0f} req/s, p50 {b.get('p50', 0):.1f} ms, p99 "
        f"{b.get('p99', 0):.1f} ms; constant JSON on the same stack: {c.get('rate', 0):,.0f} "
        f"req/s; ratio {out.ratio:.2f} (targets ≥ 1,500 req/s, p99 < 50 ms, ratio ≥ 0.5)"
        + (f"; problems: {out.problems}" if out.problems else "")
    )


def tokens_markdown(out: Tokens, machine: report.Machine) -> str:
    rows = [
        [
            "broker, token for a valid user",
            f"{out.broker.get('rate', 0):,.0f}",
            f"{out.broker.get('p50', 0):.1f}",
            f"{out.broker.get('p99', 0):.1f}",
        ],
        [
            "same stack, constant JSON",
            f"{out.baseline.get('rate', 0):,.0f}",
            f"{out.baseline.get('p50', 0):.1f}",
            f"{out.baseline.get('p99', 0):.1f}",
        ],
    ]
    problems = " Problems: " + "; ".join(out.problems) if out.problems else ""
    return f"""\
## Broker: token requests for users with valid tokens

**Target**: at least 1,500 requests/s with p99 under 50 ms on PostgreSQL, and at least half the
throughput of the same server stack answering a constant JSON body, measured in the same run.

**Method** (`bench/broker.py`, `bench/broker_baseline.py`): {USERS:,} users connected (refresh
tokens from the emulator, imported), each token made valid once; then {out.load}, 32 keep-alive
connections for 5 s, `POST /v1/connections/user-N/token` in turn over the {USERS:,} users with a
`tokens:read` API key, against 2 `gtoken serve` processes sharing one port (`--reuse-port`,
worker off); each request checks the key, reads and opens the connection's token, and writes an
audit row. Then the same against 2 processes of a FastAPI app on the same uvicorn settings whose
route answers a constant JSON body. Load generator, servers and PostgreSQL share the machine.

**Last run**: {machine.line()}.

{report.markdown_table(["server", "requests/s", "p50 ms", "p99 ms"], rows)}

Ratio broker / constant JSON: **{out.ratio:.2f}**.{problems}
"""


# -- broker_storm -------------------------------------------------------------------------------


@dataclass
class Storm:
    answered: int = 0
    distinct: int = 0
    refreshes: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.answered == 500 and self.distinct == 1 and self.refreshes == 1


def run_storm() -> Storm:
    out = Storm()
    with google() as g, pg_schema() as url:
        seed(g, url, 1)
        key = api_key(g, url, "tokens:read")
        with processes([serve(url)] * 3, g.env) as urls:
            before = g.refreshes()
            barrier = threading.Barrier(500)

            def one(n: int) -> str:
                barrier.wait()
                reply = httpx.post(
                    f"{urls[n % 3]}/v1/connections/user-00000/token",
                    json={},
                    headers={"Authorization": f"Bearer {key}"},
                    timeout=120,
                )
                if reply.status_code != 200:
                    return f"error {reply.status_code}"
                return str(reply.json()["access_token"])

            started = time.perf_counter()
            with ThreadPoolExecutor(500) as pool:
                answers = list(pool.map(one, range(500)))
            out.seconds = time.perf_counter() - started
            out.errors = [a for a in answers if a.startswith("error")]
            good = [a for a in answers if not a.startswith("error")]
            out.answered = len(good)
            out.distinct = len(set(good))
            out.refreshes = g.refreshes() - before
    return out


def storm_text(out: Storm) -> str:
    return (
        f"500 concurrent requests over 3 brokers, one expired token: {out.answered} answered, "
        f"{out.distinct} distinct token(s), {out.refreshes} refresh(es) at the emulator, "
        f"{out.seconds:.2f} s" + (f", errors {out.errors[:3]}" if out.errors else "")
    )


def storm_markdown(out: Storm, machine: report.Machine) -> str:
    table = report.markdown_table(
        ["answered", "distinct tokens", "refreshes at the emulator", "seconds"],
        [[str(out.answered), str(out.distinct), str(out.refreshes), f"{out.seconds:.2f}"]],
        left=0,
    )
    return f"""\
## Broker: 500 requests for one expired token over 3 processes

**Target**: 500 concurrent requests for one user's expired token, spread over 3 broker processes
on one PostgreSQL: exactly 1 refresh at the emulator, all 500 answered with the new token.

**Method** (`bench/broker.py`): one user imported with a refresh token and no access token; 3
`gtoken serve` processes; 500 threads released at once by a barrier, each asking one of them in
turn.

**Last run**: {machine.line()}.

{table}
"""


# -- broker_due ---------------------------------------------------------------------------------

DUE_CONNECTIONS = 10_000


@dataclass
class Due:
    connections: int = DUE_CONNECTIONS
    refreshes: int = 0
    seconds: float = 0.0
    due_after: int = -1

    @property
    def ok(self) -> bool:
        return self.refreshes == self.connections and self.seconds <= 60 and self.due_after == 0


def run_due() -> Due:
    out = Due()
    with google() as g, pg_schema() as url:
        seed(g, url, DUE_CONNECTIONS)
        before = g.refreshes()
        replica = serve(url, worker=True, worker_interval="1", worker_concurrency="8")
        started = time.perf_counter()
        with processes([replica] * 3, g.env):
            deadline = started + 120
            while time.perf_counter() < deadline:
                if g.refreshes() - before >= DUE_CONNECTIONS:
                    break
                time.sleep(0.25)
            out.seconds = time.perf_counter() - started
            time.sleep(3)  # more rounds of the workers: nothing more may be refreshed
            out.refreshes = g.refreshes() - before
        with Vault(url, env=g.env) as vault:
            out.due_after = sum(
                1
                for c in vault.connections(limit=10_000)
                if c.expires_at is None or c.expires_at.timestamp() < time.time() + 600
            )
    return out


def due_text(out: Due) -> str:
    return (
        f"{out.connections:,} connections due, 3 replicas with the worker: {out.refreshes:,} "
        f"refreshes at the emulator in {out.seconds:.1f} s (target all, none twice, ≤ 60 s); "
        f"{out.due_after} still due"
    )


def due_markdown(out: Due, machine: report.Machine) -> str:
    table = report.markdown_table(
        ["connections", "refreshes at the emulator", "seconds (from start)", "still due"],
        [[f"{out.connections:,}", f"{out.refreshes:,}", f"{out.seconds:.1f}", str(out.due_after)]],
        left=0,
    )
    return f"""\
## Broker: connections falling due, refreshed by the worker in 3 replicas

**Target**: {out.connections:,} connections fall due with 3 replicas running the worker: all
refreshed within 60 s, none twice.

**Method** (`bench/broker.py`): refresh tokens for {out.connections:,} users from the emulator,
imported with no access token (all due); then 3 `gtoken serve` processes start with the worker
(`--worker-interval 1 --worker-concurrency 8`); the time runs from their start until the emulator
has counted {out.connections:,} refreshes, and 3 s more show no further one.

**Last run**: {machine.line()}.

{table}
"""


# -- broker_webhooks ----------------------------------------------------------------------------

HOOKS = 1000


class _Receiver:
    """Answers 500 to every third request, 204 to the others; records webhook ids."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.count = 0
        self.ok: list[str] = []
        self.failed: list[str] = []
        me = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["content-length"]))
                with me.lock:
                    me.count += 1
                    fail = me.count % 3 == 0
                    (me.failed if fail else me.ok).append(self.headers["webhook-id"])
                self.send_response(500 if fail else 204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@dataclass
class Hooks:
    queued: int = 0
    delivered: int = 0
    distinct_ok: int = 0
    duplicates_without_failure: int = 0
    attempts: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return (
            self.delivered == self.queued == HOOKS
            and self.distinct_ok == HOOKS
            and self.duplicates_without_failure == 0
        )


def run_webhooks() -> Hooks:
    out = Hooks()
    receiver = _Receiver()
    with google() as g, pg_schema() as url:
        seed(g, url, 1)
        key = api_key(g, url)
        with processes([serve(url)], g.env) as (first,):
            added = httpx.post(
                f"{first}/v1/webhooks",
                json={"url": receiver.url},
                headers={"Authorization": f"Bearer {key}"},
            )
            added.raise_for_status()
        # The events, queued as the vault announces them: 1,000 users revoked.
        from gtoken.broker.webhooks import Webhooks
        from gtoken.store.crypto import Keyring
        from gtoken.vault.database import open_database
        from gtoken.vault.events import Event
        from gtoken.vault.keys import vault_keyring

        db = open_database(url)
        keyring: Keyring = vault_keyring(None, g.env)
        hooks = Webhooks(db, keyring)
        client_id = g.client["web"]["client_id"]
        for n in range(HOOKS):
            hooks.on_event(Event("revoked", f"user-{n:05}", client_id))
        out.queued = len(hooks.messages(limit=HOOKS * 2))
        started = time.perf_counter()
        replica = serve(url, worker=True, worker_concurrency="8")
        with processes([replica] * 3, g.env):
            while time.perf_counter() - started < 300 and hooks.backlog():
                time.sleep(0.25)
            out.seconds = time.perf_counter() - started
        messages = hooks.messages(limit=HOOKS * 2)
        db.close()
        out.delivered = sum(1 for m in messages if m.delivered_at)
        out.attempts = sum(m.attempts for m in messages)
    receiver.server.shutdown()
    ok = receiver.ok
    out.distinct_ok = len(set(ok))
    # A message answered 2xx twice would have been sent again without a failure.
    failed = set(receiver.failed)
    out.duplicates_without_failure = sum(
        1 for i in set(ok) if ok.count(i) > 1 and i not in failed
    ) + (len(ok) - len(set(ok)))
    return out


def webhooks_text(out: Hooks) -> str:
    return (
        f"{out.queued:,} webhooks, receiver failing every third request, 3 replicas: "
        f"{out.delivered:,} delivered ({out.distinct_ok:,} distinct ids answered 2xx), "
        f"{out.attempts:,} attempts, {out.duplicates_without_failure} sent again after a 2xx, "
        f"{out.seconds:.1f} s"
    )


def webhooks_markdown(out: Hooks, machine: report.Machine) -> str:
    headers = ["queued", "delivered", "distinct ids answered 2xx", "attempts"]
    headers += ["sent again after a 2xx", "seconds"]
    row = [f"{out.queued:,}", f"{out.delivered:,}", f"{out.distinct_ok:,}", f"{out.attempts:,}"]
    row += [str(out.duplicates_without_failure), f"{out.seconds:.1f}"]
    table = report.markdown_table(headers, [row], left=0)
    return f"""\
## Broker: 1,000 webhooks to a receiver failing a third of the time

**Target**: all delivered, none lost, a message sent again only after a failed attempt.

**Method** (`bench/broker.py`): 1,000 `connection.revoked` events queued in the outbox of a
PostgreSQL broker; a receiver on loopback answers 500 to every third request and 204 to the
others; 3 `gtoken serve` processes deliver (`--worker-concurrency 8`) until the outbox is empty.
Failed attempts are retried after 2, 4, 8... s (jittered).

**Last run**: {machine.line()}.

{table}
"""


def main() -> None:  # pragma: no cover - for trying one by hand
    print(json.dumps(run_storm().__dict__, default=str))


if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
