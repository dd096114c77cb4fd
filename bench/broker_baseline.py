"""The broker's server stack (FastAPI on uvicorn with httptools, a port shared by several
processes) answering a constant JSON body on the token route: the yardstick of broker_tokens.

    python -m bench.broker_baseline PORT
"""

from __future__ import annotations

import socket
import sys

import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel


class TokenOut(BaseModel):
    access_token: str
    expires_at: str
    scopes: list[str]


app = FastAPI()
ANSWER = TokenOut(
    access_token="ya29." + "x" * 160,
    expires_at="2026-12-01T12:00:00Z",
    scopes=["https://www.googleapis.com/auth/gmail.readonly"],
)


@app.post("/v1/connections/{user_id}/token")
async def token(user_id: str) -> TokenOut:
    return ANSWER


def main() -> None:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", int(sys.argv[1])))
    sock.listen(2048)
    print(f"baseline listening on http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    config = uvicorn.Config(
        app, http="httptools", access_log=False, log_level="warning", timeout_keep_alive=30
    )
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
