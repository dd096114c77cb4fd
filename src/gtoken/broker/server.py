"""Running the broker: ``gtoken serve`` in the foreground (uvicorn, graceful shutdown on SIGTERM
and Ctrl-C: requests and refreshes under way finish, the worker's claims are released)."""

from __future__ import annotations

import socket
import sys
from collections.abc import Mapping
from typing import TextIO

import uvicorn

from gtoken.broker.app import create_app
from gtoken.broker.logs import configure
from gtoken.broker.service import Broker
from gtoken.broker.settings import Settings

__all__ = ["serve"]

GRACE_SECONDS = 30


def _listen(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host.strip("[]"), port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def serve(settings: Settings, env: Mapping[str, str], *, out: TextIO = sys.stdout) -> None:
    """Serve until stopped. The first line on ``out`` says where, once everything is ready."""
    configure(settings.log_level)
    sock = _listen(settings.host, settings.port, reuse_port=settings.reuse_port)
    port = sock.getsockname()[1]
    broker = Broker(settings, env=env, base_url=settings.base_url(port))
    try:
        app = create_app(broker, worker=settings.worker)
        config = uvicorn.Config(
            app,
            http="httptools",
            access_log=False,  # the broker logs each request itself, without query strings
            log_config=None,
            timeout_keep_alive=30,
            timeout_graceful_shutdown=GRACE_SECONDS,
        )
        host = f"[{settings.host}]" if ":" in settings.host else settings.host
        print(f"gtoken serve listening on http://{host}:{port}", file=out, flush=True)
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        broker.close()
        sock.close()
