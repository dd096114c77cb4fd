"""Load generators: wrk when it can be had, else an asyncio one in Python.

Both send form-encoded POSTs over keep-alive connections to one URL on 127.0.0.1, for a fixed
time or until single-use bodies run out, and report what came back. wrk is C and takes a small
share of a core; the Python generator takes a core's worth from the server it loads, so its
numbers are a lower bound.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import cycle
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

FORM_TYPE = "application/x-www-form-urlencoded"
LUA_SCRIPT = Path(__file__).with_name("token_load.lua")
REQUEST_TIMEOUT = 5.0


@dataclass(frozen=True)
class Load:
    """What to send: ``bodies`` to ``url``, round and round, or each ``once``."""

    url: str
    bodies: list[str]
    once: bool
    connections: int
    seconds: int
    #: One path per body (default: the URL's path for every body).
    paths: list[str] | None = None
    content_type: str = FORM_TYPE
    headers: tuple[tuple[str, str], ...] = ()

    def lines(self) -> list[str]:
        """``PATH<TAB>BODY`` per request, as both generators read them."""
        path = urlsplit(self.url).path or "/"
        paths = self.paths or [path] * len(self.bodies)
        return [f"{p}\t{b}" for p, b in zip(paths, self.bodies, strict=True)]

    def __post_init__(self) -> None:
        if urlsplit(self.url).hostname != "127.0.0.1":
            raise ValueError(f"load goes to 127.0.0.1 only, not {self.url}")
        if not self.bodies or any("\n" in body or "\t" in body for body in self.bodies):
            raise ValueError("bodies must be a non-empty list of one-line strings")
        if self.paths is not None and len(self.paths) != len(self.bodies):
            raise ValueError("one path per body")
        if not 1 <= self.connections <= 256 or not 1 <= self.seconds <= 60:
            raise ValueError("connections must be 1-256 and seconds 1-60")


@dataclass(frozen=True)
class Result:
    requests: int  # answers received
    seconds: float  # from the first request to the last answer
    p50_ms: float
    p99_ms: float
    non_200: int
    socket_errors: int  # connect, read, write errors and timeouts

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


class Generator(Protocol):
    name: str
    lower_bound: bool

    def run(self, load: Load) -> Result: ...


class Wrk:
    """wrk with ``token_load.lua``: one thread, which drives far more than one Python server."""

    lower_bound = False

    def __init__(self, path: str) -> None:
        self.path = path
        about = subprocess.run([path, "-v"], capture_output=True, text=True, check=False)
        words = about.stdout.split()  # "wrk 4.2.0 [epoll] Copyright ..."
        self.name = f"wrk {words[1]}" if len(words) > 1 else "wrk"

    def run(self, load: Load) -> Result:
        with tempfile.NamedTemporaryFile("w", suffix=".bodies", delete=False) as file:
            file.write("\n".join(load.lines()) + "\n")
        try:
            # fmt: off
            argv = [
                self.path, "-t1", f"-c{load.connections}", f"-d{load.seconds}s",
                "--timeout", f"{REQUEST_TIMEOUT:.0f}s", "-s", str(LUA_SCRIPT), load.url,
                "--", file.name, "once" if load.once else "cycle", load.content_type,
                *(f"{k}: {v}" for k, v in load.headers),
            ]
            # fmt: on
            done = subprocess.run(
                argv, capture_output=True, text=True, timeout=load.seconds + 30, check=False
            )
        finally:
            os.unlink(file.name)
        marker = next((ln for ln in done.stdout.splitlines() if ln.startswith("WRK_RESULT ")), None)
        if done.returncode != 0 or marker is None:
            raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
        data = json.loads(marker.split(" ", 1)[1])
        return Result(
            requests=data["requests"],
            seconds=min(data["duration_us"], data["active_us"]) / 1e6,
            p50_ms=data["p50_us"] / 1000,
            p99_ms=data["p99_us"] / 1000,
            non_200=data["non_200"],
            socket_errors=data["socket_errors"],
        )


class PythonLoad:
    """asyncio streams sending prepared requests, one task per connection (uvloop when there).

    It shares the two cores with the server it loads, so its numbers are a lower bound.
    """

    name = "python (asyncio streams)"
    lower_bound = True

    def run(self, load: Load) -> Result:
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            return runner.run(_drive(load))


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def _requests(load: Load) -> list[bytes]:
    address = urlsplit(load.url)
    extra = "".join(f"{k}: {v}\r\n" for k, v in load.headers)
    prepared = []
    for line in load.lines():
        path, _, body = line.partition("\t")
        data = body.encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {address.netloc}\r\n{extra}"
            f"Content-Type: {load.content_type}\r\nContent-Length: {len(data)}\r\n\r\n"
        )
        prepared.append(head.encode() + data)
    return prepared


async def _status(reader: asyncio.StreamReader) -> int:
    """Read one answer; its status."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    fields = (line.partition(":") for line in head[1:])
    length = next((v for k, _, v in fields if k.strip().lower() == "content-length"), None)
    if length is None:
        raise ValueError("an answer without Content-Length")
    await reader.readexactly(int(length))
    return int(head[0].split(" ", 2)[1])


async def _drive(load: Load) -> Result:
    requests = _requests(load)
    feed: Iterator[bytes] = iter(requests) if load.once else cycle(requests)
    latencies: list[float] = []
    failures = {"non_200": 0, "socket": 0}
    address = urlsplit(load.url)

    async def connection(deadline: float) -> None:
        try:
            reader, writer = await asyncio.open_connection(address.hostname, address.port)
        except OSError:
            failures["socket"] += 1
            return
        try:
            for request in feed:
                if time.perf_counter() >= deadline:
                    return
                sent = time.perf_counter()
                writer.write(request)
                async with asyncio.timeout(REQUEST_TIMEOUT):
                    status = await _status(reader)
                latencies.append(time.perf_counter() - sent)
                if status != 200:
                    failures["non_200"] += 1
        except (OSError, ValueError, TimeoutError, asyncio.IncompleteReadError):
            failures["socket"] += 1  # this connection gives up
        finally:
            writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(connection(start + load.seconds) for _ in range(load.connections)))
    seconds = time.perf_counter() - start
    latencies.sort()
    return Result(
        requests=len(latencies),
        seconds=seconds,
        p50_ms=_percentile(latencies, 50) * 1000,
        p99_ms=_percentile(latencies, 99) * 1000,
        non_200=failures["non_200"],
        socket_errors=failures["socket"],
    )


def _percentile(ordered: list[float], percent: float) -> float:
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(len(ordered) * percent / 100))]


def find_wrk(*, install: bool = True) -> str | None:
    """wrk's path; when it is missing and we are root, first ``apt-get install wrk``."""
    path = shutil.which("wrk")
    if path is not None or not install:
        return path
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or shutil.which("apt-get") is None:
        return None
    print("bench: installing wrk (apt-get install wrk)", file=sys.stderr)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}

    def apt(*args: str) -> int:
        argv = ["apt-get", *args]
        return subprocess.run(
            argv, capture_output=True, env=env, timeout=300, check=False
        ).returncode

    if apt("install", "-y", "-qq", "wrk") != 0:  # perhaps no package lists yet
        apt("update", "-qq")
        apt("install", "-y", "-qq", "wrk")
    return shutil.which("wrk")


def generator(choice: str) -> Generator:
    """``wrk``, ``python``, or ``auto`` (wrk if it can be had)."""
    if choice == "python":
        return PythonLoad()
    path = find_wrk()
    if path is not None:
        return Wrk(path)
    if choice == "wrk":
        raise RuntimeError("wrk is not installed and could not be (apt-get install wrk as root)")
    print("bench: wrk is missing; using the Python load generator (a lower bound)", file=sys.stderr)
    return PythonLoad()
