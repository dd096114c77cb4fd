"""Reading the files people hand to gtoken (token files, key files, ADC files): small, local,
and possibly full of secrets, so errors name the file and what is wrong, never its content."""

from __future__ import annotations

from pathlib import Path

from gtoken.errors import ConfigError

#: Such files are a few kilobytes; reading stops well before an accident could hurt.
MAX_BYTES = 1 << 20


def read_small(path: Path, *, what: str, hint: str | None = None) -> bytes:
    """The bytes of ``path``, which should hold ``what`` ("a token file"); ConfigError when it is
    missing, a directory, unreadable or over :data:`MAX_BYTES`."""
    source = str(path)
    try:
        with path.open("rb") as f:
            data = f.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(f"{source} does not exist", hint="Check the path.") from None
    except IsADirectoryError:
        raise ConfigError(f"{source} is a directory, not {what}") from None
    except OSError as exc:
        raise ConfigError(f"{source} cannot be read: {exc.strerror}") from None
    if len(data) > MAX_BYTES:
        raise ConfigError(f"{source} is over 1 MiB, far too big to be {what}", hint=hint)
    return data
