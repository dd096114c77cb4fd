"""Who used the CPU during a measurement: the server, the load generator, or other work.

A benchmark on a shared machine is only as good as the core the server got. Linux tells through
/proc; elsewhere the shares are unknown (None).
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Iterable
from dataclasses import dataclass

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True)
class Snapshot:
    wall: float
    machine: float | None  # CPU seconds all processes used, and the hypervisor took (steal)
    server: float | None  # the server process's CPU seconds
    own: float  # this process's and its finished children's (wrk) CPU seconds


@dataclass(frozen=True)
class Shares:
    """CPU used over a measurement, in cores (1.0 = one core all along)."""

    server: float | None
    generator: float
    other: float | None  # everything else on the machine


def snapshot(server_pid: int) -> Snapshot:
    me = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime
    return Snapshot(time.monotonic(), _machine(), _process(server_pid), own)


def shares(before: Snapshot, after: Snapshot, busy: float) -> Shares:
    """The shares between two snapshots; the server's over the ``busy`` seconds it had work."""
    wall = after.wall - before.wall
    generator = (after.own - before.own) / wall
    if before.server is None or after.server is None:
        return Shares(None, generator, None)
    server = after.server - before.server
    if before.machine is None or after.machine is None:
        return Shares(server / busy, generator, None)
    other = (after.machine - before.machine - server) / wall - generator
    return Shares(server / busy, generator, max(0.0, other))


def _machine() -> float | None:
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            fields = [int(f) for f in stat.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    # Interrupt time is left out: no process is charged for it, and on loopback it is mostly the
    # benchmark's own packets.
    user, nice, system, _idle, _iowait, _irq, _softirq, steal = fields
    return (user + nice + system + steal) / _TICK


def _process(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime


@dataclass(frozen=True)
class Sample:
    wall: float
    machine: float | None  # CPU seconds of the whole machine, as in Snapshot
    ours: float | None  # this process's, its finished children's, and the listed processes'


def sample(pids: Iterable[int] = ()) -> Sample:
    """CPU used so far by the machine and by the benchmark: this process, the children it has
    waited for, and the running processes ``pids`` (say the emulator and workers)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    ours: float | None = me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime
    for pid in pids:
        used = _process(pid)
        ours = None if ours is None or used is None else ours + used
    return Sample(time.monotonic(), _machine(), ours)


def other(before: Sample, after: Sample) -> float | None:
    """The cores everything but the benchmark used between two samples (1.0 = a core all along):
    near 0 means the measurement had the machine to itself."""
    wall = after.wall - before.wall
    if (
        before.machine is None
        or after.machine is None
        or before.ours is None
        or after.ours is None
        or wall <= 0
    ):
        return None
    return max(0.0, (after.machine - before.machine - (after.ours - before.ours)) / wall)


def percent(share: float | None) -> str:
    """A share of a core for a table: ``37%``, or ``n/a`` where it is unknown."""
    return "n/a" if share is None else f"{share:.0%}"
