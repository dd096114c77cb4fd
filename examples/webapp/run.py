"""Mail Glance against the gtoken emulator, in one command: ``./dev webapp``.

1. start ``gtoken emulator`` (a local Google), or use a running one (``--emulator URL``);
2. register a ``web`` client whose redirect URI is this app's ``/oauth2callback``, and a user,
   ada@example.com, who answers Google's consent page in the browser;
3. serve the app (examples/webapp/app.py) on 127.0.0.1 with a Vault in a temporary SQLite file
   (or in ``GTOKEN_DATABASE_URL``), and print its address.

Ctrl-C stops everything; the temporary files are removed.

    ./dev webapp [--port 8000] [--emulator http://127.0.0.1:8089]
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import uvicorn

from gtoken.emulator.client import Emulator

HERE = Path(__file__).resolve().parent
USER = "ada@example.com"


@contextlib.contextmanager
def emulator(url: str | None) -> Iterator[Emulator]:
    """The emulator at ``url``, or a new ``gtoken emulator`` process for as long as needed."""
    if url is not None:
        with Emulator(url) as emu:
            print(f"using the gtoken emulator at {emu.url}", flush=True)
            yield emu
        return
    proc = subprocess.Popen(
        [sys.executable, "-m", "gtoken", "emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    try:
        listening = proc.stdout.readline().strip()
        if not listening.startswith("gtoken emulator listening on "):
            raise SystemExit("run: the gtoken emulator did not start")
        print(listening, flush=True)
        with Emulator(listening.rsplit(" ", 1)[-1]) as emu:
            yield emu
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def listen(port: int) -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as error:
        raise SystemExit(
            f"run: cannot listen on 127.0.0.1:{port} ({error}); try --port 0"
        ) from None
    sock.listen(128)
    return sock


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    parser.add_argument("--emulator", metavar="URL", help="use this running emulator")
    args = parser.parse_args()

    sock = listen(args.port)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with (
        tempfile.TemporaryDirectory(prefix="mail-glance-") as tmp,
        emulator(args.emulator) as emu,
    ):
        secrets_file = Path(tmp) / "client_secret.json"
        client = emu.create_client(
            type="web", redirect_uris=[url + "/oauth2callback"], name="Mail Glance"
        )
        secrets_file.write_text(json.dumps(client))
        emu.create_user(USER, "Ada Lovelace")
        emu.consent_interactive()
        print(f"web client registered; redirect URI {url}/oauth2callback", flush=True)
        print(f"user {USER}; consent: on the emulator's consent page", flush=True)
        print(
            f"to revoke Mail Glance's access as {USER} would on Google's account page:\n"
            f"  curl -XPOST {emu.url}/_emulator/users/{USER}/revoke",
            flush=True,
        )

        os.environ["GTOKEN_EMULATOR_HOST"] = emu.host
        os.environ.setdefault("GTOKEN_DATABASE_URL", f"sqlite:///{tmp}/vault.db")
        os.environ.setdefault(
            "GTOKEN_VAULT_KEYS", base64.b64encode(secrets.token_bytes(32)).decode()
        )
        os.environ["WEBAPP_URL"] = url
        os.environ["WEBAPP_CLIENT_SECRETS"] = str(secrets_file)
        os.environ["WEBAPP_SESSION_SECRET"] = secrets.token_urlsafe(32)
        sys.path.insert(0, str(HERE))
        from app import from_environment

        server = uvicorn.Server(
            uvicorn.Config(
                from_environment(),
                access_log=False,  # the callback's query string carries an authorization code
                log_level="warning",
            )
        )
        # uvicorn stops gracefully on SIGTERM, then raises it again: end as on Ctrl-C, so that the
        # emulator stops and the temporary files go.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        print(f"Mail Glance listening on {url}", flush=True)
        server.run(sockets=[sock])


if __name__ == "__main__":
    main()
