"""Running the emulator: ``gtoken emulator`` in the foreground, or in a thread for a test suite."""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
from collections.abc import Iterator
from typing import TextIO

import uvicorn

from gtoken.emulator.app import create_app
from gtoken.emulator.model import World


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host.strip("[]"), port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _url(host: str, sock: socket.socket) -> str:
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"http://{shown}:{sock.getsockname()[1]}"


def _server(world: World) -> uvicorn.Server:
    config = uvicorn.Config(
        create_app(world),
        http="httptools",
        lifespan="off",
        access_log=False,  # query strings carry tokens; the emulator never logs them
        log_level="warning",
        timeout_keep_alive=30,
    )
    return uvicorn.Server(config)


def serve(host: str = "127.0.0.1", port: int = 8089, *, out: TextIO = sys.stdout) -> None:
    """Serve until interrupted. The first line on ``out`` says where, once the port is bound."""
    sock = _listen(host, port)
    print(f"gtoken emulator listening on {_url(host, sock)}", file=out, flush=True)
    _server(World()).run(sockets=[sock])


@contextlib.contextmanager
def running(host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Run an emulator in a background thread for the length of a ``with`` block; yields its URL."""
    sock = _listen(host, port)
    server = _server(World())
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield _url(host, sock)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
