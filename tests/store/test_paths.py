"""The gtoken home and the permission rules for what is in it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from gtoken.store import InsecurePermissions, check_private_file, ensure_private_dir, gtoken_home
from gtoken.store.paths import create_private_file, write_private_file


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_home_is_gtoken_home_then_xdg_then_local_share(tmp_path: Path) -> None:
    assert gtoken_home({"GTOKEN_HOME": str(tmp_path / "g"), "XDG_DATA_HOME": "/x"}) == (
        tmp_path / "g"
    )
    assert gtoken_home({"XDG_DATA_HOME": "/data"}) == Path("/data/gtoken")
    assert gtoken_home({}) == Path.home() / ".local/share/gtoken"
    # Empty values count as unset; a relative XDG_DATA_HOME is invalid per the XDG spec.
    assert gtoken_home({"GTOKEN_HOME": "", "XDG_DATA_HOME": "rel"}) == (
        Path.home() / ".local/share/gtoken"
    )


def test_private_dir_is_created_0700_with_parents(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        made = ensure_private_dir(tmp_path / "a" / "home")
    finally:
        os.umask(old)
    assert mode(made) == 0o700
    assert ensure_private_dir(made) == made  # and accepted as it is


@pytest.mark.parametrize("bits", [0o755, 0o750, 0o701, 0o770])
def test_open_dir_is_refused_with_the_chmod_that_fixes_it(tmp_path: Path, bits: int) -> None:
    home = tmp_path / "home"
    home.mkdir()
    home.chmod(bits)
    with pytest.raises(InsecurePermissions) as info:
        ensure_private_dir(home)
    assert f"chmod 700 {home}" in str(info.value)
    assert info.value.path == home
    assert mode(home) == bits  # refused, not silently changed


def test_a_file_where_the_home_should_be_is_refused(tmp_path: Path) -> None:
    (tmp_path / "home").write_text("")
    with pytest.raises(InsecurePermissions, match="not a directory"):
        ensure_private_dir(tmp_path / "home")


@pytest.mark.parametrize("bits", [0o644, 0o640, 0o604, 0o620, 0o602, 0o666])
def test_file_others_can_read_or_write_is_refused(tmp_path: Path, bits: int) -> None:
    path = tmp_path / "f"
    path.write_text("x")
    path.chmod(bits)
    with pytest.raises(InsecurePermissions) as info:
        check_private_file(path)
    assert f"chmod 600 {path}" in str(info.value)


@pytest.mark.parametrize("bits", [0o600, 0o400, 0o700])
def test_owner_only_file_is_accepted(tmp_path: Path, bits: int) -> None:
    path = tmp_path / "f"
    path.write_text("x")
    path.chmod(bits)
    check_private_file(path)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to chown")
def test_file_owned_by_another_user_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_text("x")
    path.chmod(0o600)
    os.chown(path, 54321, -1)
    with pytest.raises(InsecurePermissions, match="belongs to another user"):
        check_private_file(path)


def test_write_private_file_is_0600_and_replaces_whole(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_text("old")
    path.chmod(0o644)
    old = os.umask(0)
    try:
        write_private_file(path, b"new")
    finally:
        os.umask(old)
    assert path.read_bytes() == b"new"
    assert mode(path) == 0o600
    assert os.listdir(tmp_path) == ["f"]  # no temporary file left behind


def test_create_private_file_never_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "f"
    assert create_private_file(path, b"first")
    assert not create_private_file(path, b"second")
    assert path.read_bytes() == b"first"
    assert mode(path) == 0o600
    assert os.listdir(tmp_path) == ["f"]
