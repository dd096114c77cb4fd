"""Where gtoken keeps its files, and the permission rules for them.

Every file gtoken writes in its home is mode 0600 and the home is 0700. A store or key file that
other users can read or write, or that another user owns, is refused with the ``chmod`` that fixes
it: encryption protects tokens at rest, permissions keep the key beside them out of other hands.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shlex
import stat
from collections.abc import Mapping
from pathlib import Path

from gtoken.errors import ConfigError
from gtoken.store import format
from gtoken.store.errors import InsecurePermissions

__all__ = ["check_private_file", "ensure_private_dir", "gtoken_home", "write_private_file"]


def gtoken_home(env: Mapping[str, str] = os.environ) -> Path:
    """gtoken's directory (see :func:`gtoken.store.format.gtoken_home`). Nothing is created."""
    return Path(format.gtoken_home(env))


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) with mode 0700, or check that the existing directory
    is owned by this user and closed to group and others."""
    try:
        path.mkdir(mode=format.DIR_MODE, parents=True)
    except FileExistsError:
        pass
    else:
        os.chmod(path, format.DIR_MODE)  # mkdir's mode is filtered through the umask
        return path
    st = os.stat(path)
    if not stat.S_ISDIR(st.st_mode):
        raise InsecurePermissions(
            f"{path} should be gtoken's directory but is not a directory; "
            "move it away or set GTOKEN_HOME to another place",
            path=path,
        )
    _check_owner(path, st)
    if st.st_mode & format.DIR_OPEN_BITS:
        raise InsecurePermissions(
            f"{path} is open to other users (mode {_mode(st)}); gtoken keeps tokens there. "
            f"Fix it with: chmod 700 {_quote(path)}",
            path=path,
        )
    return path


def check_private_file(path: Path) -> None:
    """Refuse ``path`` if group or others may read or write it, or another user owns it, or if it
    is not a file at all."""
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        kind = "a directory" if stat.S_ISDIR(st.st_mode) else "not a regular file"
        raise ConfigError(
            f"{path} is {kind}, where gtoken keeps a file of its own",
            hint=f"Move {path} away (or set GTOKEN_HOME to another place), then try again.",
        )
    _check_owner(path, st)
    if st.st_mode & format.FILE_OPEN_BITS:
        raise InsecurePermissions(
            f"{path} can be read or written by other users (mode {_mode(st)}); it holds "
            f"tokens or keys. Fix it with: chmod 600 {_quote(path)}",
            path=path,
        )


def write_private_file(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically: readers see the old file or the new one, whole,
    and the new one is mode 0600 from its first byte."""
    tmp = _write_temp(path, data)
    try:
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def create_private_file(path: Path, data: bytes) -> bool:
    """Write ``path`` with ``data`` only if it does not exist yet, atomically, mode 0600.

    Returns False (writing nothing) when the file already exists, so that two processes racing to
    create it agree on one content."""
    tmp = _write_temp(path, data)
    try:
        os.link(tmp, path)
    except FileExistsError:
        return False
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    _fsync_dir(path.parent)
    return True


def _write_temp(path: Path, data: bytes) -> Path:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(tmp, flags, format.FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), format.FILE_MODE)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return tmp


def _fsync_dir(path: Path) -> None:
    # Makes the rename itself durable; not every platform can open a directory.
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _check_owner(path: Path, st: os.stat_result) -> None:
    geteuid = getattr(os, "geteuid", None)
    if geteuid is not None and st.st_uid != geteuid():
        raise InsecurePermissions(
            f"{path} belongs to another user (uid {st.st_uid}), not to the user running gtoken "
            f"(uid {geteuid()}); run gtoken as its owner, or set GTOKEN_HOME to a directory of "
            "your own",
            path=path,
        )


def _mode(st: os.stat_result) -> str:
    return oct(stat.S_IMODE(st.st_mode))[2:].rjust(4, "0")


def _quote(path: Path) -> str:
    return shlex.quote(str(path))
