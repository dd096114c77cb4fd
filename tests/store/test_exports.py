"""The store's public names are the ones documented, and each one exists."""

from __future__ import annotations

import gtoken.store


def test_public_names() -> None:
    assert sorted(gtoken.store.__all__) == sorted(set(gtoken.store.__all__))
    for name in gtoken.store.__all__:
        assert getattr(gtoken.store, name) is not None
        assert name in {n for n in dir(gtoken.store) if not n.startswith("_")}


def test_errors_are_branches_of_gtokens_tree() -> None:
    from gtoken import errors

    for name in ("WrongKey", "CorruptRecord", "NotFound", "VersionConflict"):
        assert issubclass(getattr(gtoken.store, name), errors.StoreError)
    for name in ("KeyMissing", "WrongKey", "InsecurePermissions"):
        assert issubclass(getattr(gtoken.store, name), errors.ConfigError)
