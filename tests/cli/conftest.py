"""Running ``python -m gtoken`` as a person's shell does, against the emulator.

Every invocation goes through :class:`Gtoken`, which keeps what it printed. After each test the
``no_leaks`` check looks for every secret the test met (tokens in the store, tokens printed by
``gtoken token``, client secrets, keys, authorization codes) in everything the commands wrote:
none may be on stderr, nor on stdout outside the data outputs that exist to print them.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from gtoken.emulator.client import Emulator

EMAIL = "ada@example.com"
GMAIL_RO = "https://www.googleapis.com/auth/gmail.readonly"
DRIVE_FILE = "https://www.googleapis.com/auth/drive.file"

#: Commands whose stdout is a secret by design.
DATA_COMMANDS = (("token",), ("header",), ("export",), ("key", "new"))

# The person's own settings must not leak into the tests.
_SCRUBBED = (
    "BROWSER",
    "DISPLAY",
    "WAYLAND_DISPLAY",
    "SSH_CONNECTION",
    "SSH_TTY",
    "NO_COLOR",
    "TERM",
    "XDG_DATA_HOME",
    "GTOKEN_KEY",
    "GTOKEN_KEY_NEW",
    "GTOKEN_CLIENT_SECRETS",
    "GTOKEN_DEBUG",
    "COLUMNS",
)


@dataclass(frozen=True)
class Run:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def is_data(self) -> bool:
        """Whether stdout is meant to carry a secret (a token, a key, an authorized_user)."""
        return any(self.args[: len(words)] == words for words in DATA_COMMANDS)

    @property
    def lines(self) -> list[str]:
        return self.stdout.splitlines()


@dataclass
class Record:
    """Everything the test's commands wrote, and every secret the test met."""

    runs: list[Run] = field(default_factory=list)
    secrets: set[str] = field(default_factory=set)

    def add_secrets(self, *values: str | None) -> None:
        self.secrets.update(v for v in values if v)


def base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
    env["PYTHONUNBUFFERED"] = "1"
    return env


#: How long one ``gtoken`` command may run before the helpers kill it and fail the test; well
#: under the per-test limit (pyproject.toml, ``timeout``), so the failure names the command.
DEADLINE = 60.0


class Deadline:
    """Kills ``proc`` and everything it started (its own process group) once it has run
    ``seconds``; :meth:`check` then fails the test, naming the command."""

    def __init__(self, proc: subprocess.Popen[Any], args: tuple[str, ...], seconds: float) -> None:
        self.proc = proc
        self.args = args
        self.seconds = seconds
        self.expired = threading.Event()
        self._timer = threading.Timer(seconds, self.kill)
        self._timer.daemon = True
        self._timer.start()

    def kill(self) -> None:
        # The test still waits for the command: for it, or for a process it started that
        # holds its output open.
        self.expired.set()
        self._kill_group()

    def stop(self) -> None:
        """Stop watching; kill the command if it still runs."""
        self._timer.cancel()
        if self.proc.poll() is None:
            self._kill_group()
        self.proc.wait()

    def _kill_group(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)

    def check(self) -> None:
        """Stop watching; fail the test if the command had to be killed."""
        self._timer.cancel()
        if self.expired.is_set():
            self.proc.wait(timeout=10)
            pytest.fail(
                f"gtoken {' '.join(self.args)} was still running after {self.seconds:g} s "
                "and was killed"
            )


class Gtoken:
    """``python -m gtoken`` with the test's GTOKEN_HOME and emulator.

    Every command runs in its own process group under a :class:`Deadline`: one that hangs is
    killed, with whatever it started, and fails its test instead of hanging the suite."""

    def __init__(self, env: dict[str, str], record: Record) -> None:
        self.env = env
        self.record = record
        self.deadlines: list[Deadline] = []

    def __call__(
        self,
        *args: str,
        input: str | None = None,
        env: Mapping[str, str | None] | None = None,
        timeout: float = DEADLINE,
    ) -> Run:
        proc = self.popen(*args, env=env, deadline=timeout)
        # communicate() returns once the pipes close, which the deadline's kill makes sure of.
        out, err = proc.communicate(input)
        self.deadlines[-1].check()
        return self.keep(args, proc.returncode, out, err, env)

    def watch(
        self, proc: subprocess.Popen[Any], args: tuple[str, ...], seconds: float = DEADLINE
    ) -> Deadline:
        """Put ``proc`` (started with ``start_new_session=True``) under a deadline."""
        deadline = Deadline(proc, args, seconds)
        self.deadlines.append(deadline)
        return deadline

    def kill_all(self) -> None:
        """Kill every command still running (a test that failed half-way leaves some)."""
        for deadline in self.deadlines:
            deadline.stop()

    def environment(self, extra: Mapping[str, str | None] | None = None) -> dict[str, str]:
        env = dict(self.env)
        for name, value in (extra or {}).items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
        return env

    def popen(
        self,
        *args: str,
        env: Mapping[str, str | None] | None = None,
        deadline: float = DEADLINE,
    ) -> subprocess.Popen[str]:
        """A running ``gtoken``, killed after ``deadline`` seconds; hand it to :meth:`finish`."""
        proc = subprocess.Popen(
            [sys.executable, "-m", "gtoken", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.environment(env),
            start_new_session=True,
        )
        self.watch(proc, args, deadline)
        return proc

    def deadline_of(self, proc: subprocess.Popen[Any]) -> Deadline:
        return next(d for d in self.deadlines if d.proc is proc)

    def read_until(self, proc: subprocess.Popen[str], text: str) -> list[str]:
        """Lines of ``proc``'s stderr up to the first that contains ``text``."""
        assert proc.stderr is not None
        seen = []
        for line in iter(proc.stderr.readline, ""):
            seen.append(line)
            if text in line:
                return seen
        self.deadline_of(proc).check()  # the end of the stream may be the deadline's kill
        raise AssertionError(f"{text!r} never came: {''.join(seen)}")

    def finish(self, proc: subprocess.Popen[str], seen: list[str], args: tuple[str, ...]) -> Run:
        """Wait for ``proc``; keep all it wrote (``seen``: the stderr lines read already)."""
        assert proc.stdout is not None
        assert proc.stderr is not None
        # Read through the text streams, not communicate(), which reads the pipes underneath
        # and would miss what the streams have buffered already. Both reads end at the latest
        # when the deadline kills the process.
        err = proc.stderr.read()
        out = proc.stdout.read()
        proc.wait()
        self.deadline_of(proc).check()
        return self.keep(args, proc.returncode, out, "".join(seen) + err)

    def keep(
        self,
        args: tuple[str, ...],
        returncode: int,
        stdout: str,
        stderr: str,
        env: Mapping[str, str | None] | None = None,
    ) -> Run:
        run = Run(tuple(args), returncode, stdout, stderr)
        self.record.runs.append(run)
        if run.is_data and run.returncode == 0:
            self.record.add_secrets(*_printed_secrets(run))
        self.record.add_secrets(*stored_secrets(self.environment(env)))
        return run


def _printed_secrets(run: Run) -> list[str]:
    if run.args[0] == "export":
        document = json.loads(run.stdout)
        return [document.get("refresh_token"), document.get("client_secret")]
    if run.stdout.startswith("{"):  # gtoken token --format json
        return [json.loads(run.stdout)["access_token"]]
    return [run.stdout.strip().removeprefix("Authorization: Bearer ")]


def stored_secrets(env: Mapping[str, str]) -> set[str]:
    """Every secret in the store and key file of ``env``'s GTOKEN_HOME (nothing when there is
    none yet, or it cannot be opened with ``env``'s key)."""
    from gtoken.errors import GTokenError
    from gtoken.store import STORE_FILE, gtoken_home, open_store

    home = gtoken_home(env)
    found: set[str | None] = {env.get("GTOKEN_KEY"), env.get("GTOKEN_KEY_NEW")}
    with contextlib.suppress(OSError, ValueError, KeyError):
        found.update(json.loads((home / "key.json").read_text())["keys"].values())
    if (home / STORE_FILE).exists():
        try:
            with open_store(env, home=home) as store:
                for record in store.list():
                    found.update(
                        (
                            record.access_token,
                            record.refresh_token,
                            record.id_token,
                            record.client_secret,
                        )
                    )
        except GTokenError:
            pass
    return {s for s in found if s}


def find_leaks(record: Record) -> list[str]:
    """Where any secret of ``record`` shows in what its commands wrote (never the secret)."""
    leaks = []
    for run in record.runs:
        for n, secret in enumerate(sorted(record.secrets)):
            if secret in run.stderr:
                leaks.append(f"secret #{n} ({len(secret)} chars) on stderr of gtoken {run.args}")
            if not run.is_data and secret in run.stdout:
                leaks.append(f"secret #{n} ({len(secret)} chars) on stdout of gtoken {run.args}")
    return leaks


@pytest.fixture
def record() -> Record:
    return Record()


@pytest.fixture(autouse=True)
def no_leaks(record: Record) -> Iterator[None]:
    yield
    assert not find_leaks(record)


@pytest.fixture
def gtoken(tmp_path: Path, emulator: Emulator, record: Record) -> Iterator[Gtoken]:
    env = base_env()
    env.update(GTOKEN_HOME=str(tmp_path / "home"), GTOKEN_EMULATOR_HOST=emulator.host)
    gtoken = Gtoken(env, record)
    yield gtoken
    gtoken.kill_all()


@pytest.fixture
def client_secrets(tmp_path: Path, emulator: Emulator, record: Record) -> Path:
    """A Desktop client's client_secret.json, and a user who consents at once."""
    secrets = emulator.create_client(type="installed")
    record.add_secrets(secrets["installed"]["client_secret"])
    emulator.create_user(EMAIL, "Ada Lovelace")
    emulator.consent_auto(email=EMAIL)
    path = tmp_path / "client_secret.json"
    path.write_text(json.dumps(secrets))
    return path


@pytest.fixture
def browser(tmp_path: Path) -> str:
    """A ``BROWSER`` that GETs the consent page the way a browser would (following the redirect
    to the loopback), in the background so that it returns at once, as browsers do."""
    script = tmp_path / "browser.py"
    script.write_text(
        "import subprocess, sys\n"
        "code = 'import sys, httpx; httpx.get(sys.argv[1], follow_redirects=True, timeout=30)'\n"
        "subprocess.Popen([sys.executable, '-c', code, sys.argv[1]])\n"
    )
    return f"{sys.executable} {script} %s"


@pytest.fixture
def login(gtoken: Gtoken, client_secrets: Path, browser: str) -> Any:
    """``gtoken login`` through the loopback, the browser being :func:`browser`."""

    def login(*scopes: str, extra: tuple[str, ...] = ()) -> Run:
        args = ["login", "--client-secrets", str(client_secrets)]
        for scope in scopes or ("gmail.readonly",):
            args += ["--scope", scope]
        return gtoken(*args, *extra, env={"BROWSER": browser})

    return login


@pytest.fixture
def signed_in(login: Any) -> Run:
    """Ada, signed in with gmail.readonly."""
    run = login()
    assert run.returncode == 0, run.stderr
    return run  # type: ignore[no-any-return]
