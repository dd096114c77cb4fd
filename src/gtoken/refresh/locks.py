"""Locks that span the processes sharing one store, so that one expiry costs one refresh.

The engine asks only for :class:`CrossProcessLock`; which lock fits depends on where the grants
live. :class:`FileLocks` serves stores on one machine (the SQLite file of a gtoken home); a store
shared by several machines brings its own (a PostgreSQL advisory lock, for example).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol, runtime_checkable

__all__ = ["CrossProcessLock", "FileLocks", "WaitingLock"]


class CrossProcessLock(Protocol):
    """An exclusive lock per name, held across every process that shares the store.

    ``hold(name)`` blocks until this process holds ``name``, and lets it go when the block ends.
    A process that dies must not leave a name locked for long."""

    def hold(self, name: str) -> AbstractContextManager[None]: ...


@runtime_checkable
class WaitingLock(CrossProcessLock, Protocol):
    """A :class:`CrossProcessLock` whose waiters can wait together.

    ``first_or_wait(name)`` holds ``name`` alone and says ``True`` when nobody held it; else it
    waits until the holder lets go and says ``False``, holding ``name`` shared with the other
    waiters (no process holds it alone meanwhile)."""

    def first_or_wait(self, name: str) -> AbstractContextManager[bool]: ...


class FileLocks:
    """One ``flock`` per name, in files under ``directory`` (0700, files 0600).

    The kernel releases a lock when its process dies, so a crash never leaves a grant locked.
    POSIX only; on one machine (``flock`` does not cross network filesystems)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @contextlib.contextmanager
    def hold(self, name: str) -> Iterator[None]:
        with self._file(name) as fd:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def first_or_wait(self, name: str) -> Iterator[bool]:
        """Hold ``name`` alone when no process holds it (``True``). Otherwise wait until the
        process that holds it lets go and hold it shared, alongside every other process that
        waited (``False``): they all read what it stored at the same moment, instead of taking
        the lock one after another."""
        with self._file(name) as fd:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                first = True
            except BlockingIOError:
                fcntl.flock(fd, fcntl.LOCK_SH)
                first = False
            try:
                yield first
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def _file(self, name: str) -> Iterator[int]:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        file = hashlib.sha256(name.encode()).hexdigest()[:32] + ".lock"
        fd = os.open(self.directory / file, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            yield fd
        finally:
            os.close(fd)

    def __repr__(self) -> str:
        return f"FileLocks({str(self.directory)!r})"
