"""The broker's settings: each one defined once here, read from a flag, the environment or a TOML
file (in that order of precedence), checked at start, and documented from this table.

A bad value stops the broker before it listens, with a message naming the setting and where it
came from.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from gtoken.errors import ConfigError
from gtoken.store.paths import ensure_private_dir, gtoken_home

__all__ = ["SETTINGS", "Setting", "Settings", "load", "origin_of"]

ENV_CONFIG: Final = "GTOKEN_BROKER_CONFIG"


def _text(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("it must be a non-empty string")
    return value.strip()


def _port(value: object) -> int:
    number = _integer(value)
    if not 0 <= number <= 65535:
        raise ValueError("it must be a port number, 0 to 65535 (0 picks a free one)")
    return number


def _integer(value: object) -> int:
    if isinstance(value, bool):
        raise ValueError("it must be a whole number")
    try:
        return int(str(value).strip()) if not isinstance(value, int) else value
    except ValueError:
        raise ValueError("it must be a whole number") from None


def _positive(value: object) -> float:
    try:
        number = float(str(value).strip()) if not isinstance(value, int | float) else value
    except ValueError:
        raise ValueError("it must be a number") from None
    if isinstance(value, bool) or not number > 0 or number == float("inf"):
        raise ValueError("it must be a positive number")
    return float(number)


def _switch(value: object) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in ("1", "true", "yes", "on"):
        return True
    if word in ("0", "false", "no", "off"):
        return False
    raise ValueError("it must be true or false")


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of ``url``, lowercased; ValueError when it has none."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} is not an http(s) URL")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"{url!r} has a bad port") from None
    default = {"http": 80, "https": 443}[parts.scheme]
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    shown = "" if port in (None, default) else f":{port}"
    return f"{parts.scheme}://{host.lower()}{shown}"


def _origins(value: object) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise ValueError("it must be a list of origins (https://app.example.com)")
    found = []
    for item in items:
        if not isinstance(item, str) or not item.strip():
            continue
        origin = origin_of(item)
        if origin != item.strip().rstrip("/").lower():
            raise ValueError(f"{item!r} is not an origin: write scheme://host[:port] only")
        found.append(origin)
    return tuple(found)


def _url(value: object) -> str:
    text = _text(value).rstrip("/")
    origin_of(text)
    return text


@dataclass(frozen=True)
class Setting:
    """One setting: its name in the TOML file, its flag, its environment variable."""

    name: str
    env: str
    help: str
    parse: Callable[[object], Any]
    default: Any = None

    @property
    def flag(self) -> str:
        """The command line's flag (a switch that is on by default is turned off by it)."""
        return ("--no-" if self.default is True else "--") + self.name.replace("_", "-")


#: Every setting of ``gtoken serve``. The vault's keys come from GTOKEN_VAULT_KEYS or
#: GTOKEN_VAULT_KEY_FILE, as for the Vault itself.
SETTINGS: Final[tuple[Setting, ...]] = (
    Setting(
        "database_url",
        "GTOKEN_DATABASE_URL",
        "the database: postgresql://... for replicas (default: sqlite:/// broker.db in "
        "GTOKEN_HOME)",
        _text,
    ),
    Setting("host", "GTOKEN_BROKER_HOST", "the address to listen on", _text, "127.0.0.1"),
    Setting("port", "GTOKEN_BROKER_PORT", "the port to listen on (0: a free one)", _port, 8080),
    Setting(
        "reuse_port",
        "GTOKEN_BROKER_REUSE_PORT",
        "let several broker processes on this machine listen on the same port (Linux "
        "SO_REUSEPORT): the kernel spreads connections among them, one process per core",
        _switch,
        False,
    ),
    Setting(
        "public_url",
        "GTOKEN_BROKER_PUBLIC_URL",
        "the broker's address as browsers reach it; connect links and the callback "
        "(PUBLIC_URL/connect/callback, to register with the Google client) live under it "
        "(default: http://HOST:PORT)",
        _url,
    ),
    Setting(
        "client_secrets",
        "GTOKEN_BROKER_CLIENT_SECRETS",
        "a Web application client_secret.json to register at start (its secret is sealed in "
        "the database; clients can also be registered with POST /v1/clients)",
        _text,
    ),
    Setting(
        "return_origins",
        "GTOKEN_BROKER_RETURN_ORIGINS",
        "the origins (https://app.example.com, comma-separated) connect links of the "
        "client_secrets client may return to; any other return URL is refused",
        _origins,
        (),
    ),
    Setting(
        "link_ttl",
        "GTOKEN_BROKER_LINK_TTL",
        "seconds a connect link stays valid",
        _positive,
        900.0,
    ),
    Setting(
        "key_cache",
        "GTOKEN_BROKER_KEY_CACHE",
        "seconds a replica trusts an API key it checked without asking the database again (a "
        "key revoked elsewhere is refused that much later; 0: ask every time)",
        lambda v: 0.0 if str(v).strip() in ("0", "0.0") else _positive(v),
        5.0,
    ),
    Setting(
        "admin_secret",
        "GTOKEN_BROKER_ADMIN_SECRET",
        "the secret that logs in to the admin page at /admin (an admin API key does too)",
        _text,
    ),
    Setting(
        "worker",
        "GTOKEN_BROKER_WORKER",
        "run the background worker (refreshes falling due, webhook delivery, retention) in "
        "this process",
        _switch,
        True,
    ),
    Setting(
        "refresh_within",
        "GTOKEN_BROKER_REFRESH_WITHIN",
        "the worker refreshes access tokens expiring within this many seconds",
        _positive,
        600.0,
    ),
    Setting(
        "worker_interval",
        "GTOKEN_BROKER_WORKER_INTERVAL",
        "seconds between the worker's looks for connections falling due",
        _positive,
        15.0,
    ),
    Setting(
        "worker_concurrency",
        "GTOKEN_BROKER_WORKER_CONCURRENCY",
        "refreshes (and webhook deliveries) the worker runs at once in this process",
        _positive,
        4,
    ),
    Setting(
        "audit_days",
        "GTOKEN_BROKER_AUDIT_DAYS",
        "days the audit log keeps an entry",
        _positive,
        90.0,
    ),
    Setting(
        "max_connections",
        "GTOKEN_BROKER_MAX_CONNECTIONS",
        "database connections this process may open",
        _positive,
        20,
    ),
    Setting(
        "log_level",
        "GTOKEN_BROKER_LOG_LEVEL",
        "debug, info, warning or error (logs are JSON lines on stderr)",
        _text,
        "info",
    ),
)
_BY_NAME: Final = {s.name: s for s in SETTINGS}


@dataclass(frozen=True)
class Settings:
    """The broker's settings, checked."""

    database_url: str
    host: str = "127.0.0.1"
    port: int = 8080
    reuse_port: bool = False
    public_url: str | None = None
    client_secrets: str | None = None
    return_origins: tuple[str, ...] = ()
    link_ttl: float = 900.0
    key_cache: float = 5.0
    admin_secret: str | None = field(default=None, repr=False)
    worker: bool = True
    refresh_within: float = 600.0
    worker_interval: float = 15.0
    worker_concurrency: int = 4
    audit_days: float = 90.0
    max_connections: int = 20
    log_level: str = "info"

    def base_url(self, port: int | None = None) -> str:
        """Where browsers reach the broker."""
        if self.public_url:
            return self.public_url
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port if port is None else port}"


def load(
    flags: Mapping[str, object],
    env: Mapping[str, str] = os.environ,
    *,
    config_file: str | None = None,
) -> Settings:
    """Settings from ``flags`` (by setting name; None: not given), then ``env``, then the TOML
    file (``config_file`` or ``GTOKEN_BROKER_CONFIG``), then the defaults."""
    from_file = _read_file(config_file or env.get(ENV_CONFIG) or None)
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        raw: object = None
        where = ""
        if flags.get(setting.name) is not None:
            raw, where = flags[setting.name], f"the flag {setting.flag}"
        elif env.get(setting.env, "").strip():
            raw, where = env[setting.env], f"the environment variable {setting.env}"
        elif setting.name in from_file:
            raw, where = from_file[setting.name], f"{setting.name} in the configuration file"
        if raw is None:
            continue
        try:
            values[setting.name] = setting.parse(raw)
        except ValueError as exc:
            raise ConfigError(
                f"the broker setting {setting.name} ({where}) is not valid: {exc}",
                hint=f"{setting.help[0].upper()}{setting.help[1:]}.",
            ) from None
    values["worker_concurrency"] = max(1, int(values.get("worker_concurrency", 4)))
    values["max_connections"] = max(2, int(values.get("max_connections", 20)))
    level = str(values.get("log_level", "info")).lower()
    if level not in ("debug", "info", "warning", "error"):
        raise ConfigError(
            f"the broker setting log_level is {level!r}",
            hint="Set it to debug, info, warning or error.",
        )
    values["log_level"] = level
    if "database_url" not in values:
        # The embedded default: gtoken's private home, made 0700 if it is not there yet.
        home = ensure_private_dir(gtoken_home(env))
        values["database_url"] = f"sqlite:///{home / 'broker.db'}"
    return Settings(**values)


def _read_file(path: str | None) -> dict[str, object]:
    if path is None:
        return {}
    try:
        with Path(path).open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(
            f"the broker's configuration file {path} does not exist",
            hint=f"Check --config or {ENV_CONFIG}.",
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"the broker's configuration file {path} is not valid TOML: {exc}",
            hint="Fix the file; see docs/broker.md for its settings.",
        ) from None
    section = data.get("broker", data)
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: [broker] must be a table")
    unknown = sorted(set(section) - set(_BY_NAME))
    if unknown:
        raise ConfigError(
            f"the broker's configuration file {path} has unknown settings: {', '.join(unknown)}",
            hint=f"The settings are: {', '.join(_BY_NAME)}.",
        )
    return dict(section)
