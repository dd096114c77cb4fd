"""The gtoken home, the permissions of its files, and the encryption key.

Each check returns its findings and whether what it checked may be used: the store is opened
only when the home, the files and the key all pass.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping
from pathlib import Path

from gtoken.doctor.finding import LOGIN, Finding, sentence
from gtoken.errors import ConfigError
from gtoken.store import (
    STORE_FILE,
    InsecurePermissions,
    KeyMissing,
    WrongKey,
    check_private_file,
    ensure_private_dir,
    key_id,
    parse_key,
)
from gtoken.store.keys import ENV_KEY, KEY_FILE, read_key_file

__all__ = ["check_files", "check_home", "check_key", "insecure", "wrong_key"]

Checked = tuple[list[Finding], bool]


def check_home(home: Path) -> Checked:
    """The home exists, is a directory, is the user's own and closed to others (0700)."""
    subject = "gtoken home"
    if not home.exists():
        return [
            Finding(
                "warning",
                subject,
                f"{home} does not exist yet: nothing has been signed in with gtoken here.",
                f"The first sign-in creates it: {LOGIN}",
            )
        ], False
    if not home.is_dir():
        return [
            Finding(
                "problem",
                subject,
                f"{home} should be gtoken's directory but is not a directory.",
                "Move it away, or set GTOKEN_HOME to another place.",
            )
        ], False
    try:
        ensure_private_dir(home)  # an existing directory is only checked
    except InsecurePermissions as exc:
        return [insecure(subject, home, exc, mode="700")], False
    return [Finding("ok", subject, f"{home} is yours alone (mode 0700).")], True


def check_files(home: Path) -> Checked:
    """The store (with SQLite's side files) and the key file, where they exist: the user's own,
    mode 0600."""
    findings: list[Finding] = []
    store = home / STORE_FILE
    sides = [Path(f"{store}{suffix}") for suffix in ("-wal", "-shm", "-journal")]
    for path, subject, quiet in [
        (store, "store", False),
        *((side, "store", True) for side in sides),
        (home / KEY_FILE, "key file", False),
    ]:
        if not path.exists():
            continue
        try:
            check_private_file(path)
        except InsecurePermissions as exc:
            findings.append(insecure(subject, path, exc, mode="600"))
            continue
        except ConfigError as exc:  # not a file at all
            findings.append(Finding("problem", subject, sentence(exc.message), exc.hint))
            continue
        if not quiet:
            findings.append(Finding("ok", subject, f"{path} is yours alone (mode 0600)."))
    return findings, all(f.level == "ok" for f in findings)


def insecure(subject: str, path: Path, exc: InsecurePermissions, *, mode: str) -> Finding:
    """A finding for a file or directory others can reach, with the command that fixes it."""
    detail = exc.message.split(" Fix it with:")[0]  # the fix goes in its own field
    try:
        own = path.stat().st_uid == os.geteuid()
    except OSError:
        own = True
    if own:
        fix = f"chmod {mode} {shlex.quote(str(path))}"
    else:
        fix = f"Run gtoken as the owner of {path}, or set GTOKEN_HOME to a directory of your own."
    return Finding("problem", subject, sentence(detail), fix)


def check_key(env: Mapping[str, str], home: Path) -> Checked:
    """``GTOKEN_KEY`` is well-formed, or the key file is readable, or, for an existing store,
    that there is a key at all. Nothing is created."""
    given = env.get(ENV_KEY)
    key_file = home / KEY_FILE
    if given:
        try:
            kid = key_id(parse_key(given))
        except KeyMissing as exc:  # the message describes the value, never repeats it
            return [
                Finding(
                    "problem",
                    "key",
                    sentence(exc.message),
                    f"Set {ENV_KEY} to the key the store was written with (base64 of 32 bytes), "
                    f"or unset it to use {key_file}.",
                )
            ], False
        unread = f"; {key_file} is not read while it is set" if key_file.exists() else ""
        return [Finding("ok", "key", f"{ENV_KEY} is set (key id {kid}){unread}.")], True
    if key_file.exists():
        try:
            ring = read_key_file(key_file)
        except InsecurePermissions:
            return [], False  # reported with the files
        except KeyMissing as exc:
            return [
                Finding("problem", "key", sentence(exc.message), f"Or set {ENV_KEY}. {exc.hint}")
            ], False
        return [Finding("ok", "key", f"{key_file} holds key ids {', '.join(ring.ids)}.")], True
    store = home / STORE_FILE
    if store.exists():
        return [
            Finding(
                "problem",
                "key",
                f"The store {store} exists but its key does not: {ENV_KEY} is not set and "
                f"{key_file} is missing, so the stored tokens cannot be read.",
                f"Set {ENV_KEY} to the key the store was written with, or restore {key_file} "
                "from a backup. If the key is lost, move the store away and sign in again.",
            )
        ], False
    return [], True


def wrong_key(env: Mapping[str, str], exc: WrongKey, home: Path) -> Finding:
    """The store was sealed with a key the keyring lacks: name the key id it needs."""
    kid = exc.key_id
    key_file = home / KEY_FILE
    if env.get(ENV_KEY):
        detail = f"The store is encrypted with key id {kid}, but {ENV_KEY} is set to another key."
        fix = f"Set {ENV_KEY} to the key with id {kid}, or unset it if {key_file} holds that key."
    else:
        detail = f"The store is encrypted with key id {kid}, which {key_file} does not hold."
        fix = f"Set {ENV_KEY} to the key with id {kid}, or restore the {KEY_FILE} that holds it."
    return Finding("problem", "key", f"{detail} Nothing can be read from the store.", fix)
