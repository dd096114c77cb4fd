"""``gtoken serve``, ``gtoken serve migrate``, ``gtoken serve keys create|list|revoke``."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from gtoken.cli.output import Io
from gtoken.errors import ConfigError

if TYPE_CHECKING:
    from gtoken.broker.settings import Settings


def _settings(args: argparse.Namespace, io: Io) -> Settings:
    from gtoken.broker.settings import SETTINGS, load

    flags = {s.name: getattr(args, s.name, None) for s in SETTINGS}
    return load(flags, io.env, config_file=getattr(args, "config", None))


def _server_modules() -> None:
    try:
        import fastapi  # noqa: F401
        import prometheus_client  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        raise ConfigError(
            f"gtoken serve needs extra packages ({exc.name} is missing)",
            hint="Install them with: pip install 'gtoken[serve]'",
        ) from None


def serve(args: argparse.Namespace, io: Io) -> int:
    settings = _settings(args, io)
    _server_modules()
    from gtoken.broker.server import serve as run

    try:
        run(settings, io.env, out=io.out)
    except OSError as exc:
        raise ConfigError(
            f"cannot listen on {settings.host}:{settings.port}: {exc.strerror}",
            hint="Pick another --port (0 picks a free one).",
        ) from None
    except KeyboardInterrupt:
        pass
    return 0


def _records(args: argparse.Namespace, io: Io):  # type: ignore[no-untyped-def]
    from gtoken.broker.migrations import migrate_broker
    from gtoken.broker.records import Records
    from gtoken.vault.database import open_database

    db = open_database(_settings(args, io).database_url)
    try:
        migrate_broker(db)
    except BaseException:
        db.close()
        raise
    return db, Records(db)


def migrate(args: argparse.Namespace, io: Io) -> int:
    from gtoken.broker.migrations import SCHEMA_VERSION, migrate_broker
    from gtoken.vault.database import open_database
    from gtoken.vault.migrations import migrate as migrate_vault

    db = open_database(_settings(args, io).database_url)
    try:
        applied = migrate_vault(db)
        applied_broker = migrate_broker(db)
    finally:
        db.close()
    if applied or applied_broker:
        io.say(
            f"Migrated {db.name}: vault migrations {applied or 'none'}, broker migrations "
            f"{applied_broker or 'none'} (broker schema {SCHEMA_VERSION})."
        )
    else:
        io.say(f"{db.name} is up to date; nothing to do.")
    return 0


def create_key(args: argparse.Namespace, io: Io) -> int:
    db, records = _records(args, io)
    try:
        try:
            key, secret = records.create_key(args.name, args.permission, args.client)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    finally:
        db.close()
    io.say(
        f"Created API key {key.id} ({key.name}: {', '.join(sorted(key.permissions))}). "
        "It is shown once, below; keep it somewhere safe."
    )
    print(secret, file=io.out)
    return 0


def list_keys(args: argparse.Namespace, io: Io) -> int:
    db, records = _records(args, io)
    try:
        keys = records.keys()
    finally:
        db.close()

    def when(seconds: int | None) -> str | None:
        return None if seconds is None else datetime.fromtimestamp(seconds, UTC).isoformat()

    rows = [
        {
            "id": k.id,
            "name": k.name,
            "permissions": sorted(k.permissions),
            "client_id": k.client_id,
            "created_at": when(k.created_at),
            "revoked_at": when(k.revoked_at),
        }
        for k in keys
    ]
    if args.json:
        print(json.dumps(rows, indent=2), file=io.out)
        return 0
    for row in rows:
        status = f"revoked {row['revoked_at']}" if row["revoked_at"] else "active"
        client = f" client {row['client_id']}" if row["client_id"] else ""
        print(
            f"{row['id']}  {row['name']}  {' '.join(row['permissions'])}{client}  {status}",
            file=io.out,
        )
    if not rows:
        io.say("No API keys yet: gtoken serve keys create --name NAME --permission tokens:read")
    return 0


def revoke_key(args: argparse.Namespace, io: Io) -> int:
    db, records = _records(args, io)
    try:
        done = records.revoke_key(args.key_id)
    finally:
        db.close()
    if not done:
        raise ConfigError(
            f"there is no active API key {args.key_id}",
            hint="See the keys with: gtoken serve keys list",
        )
    io.say(f"Revoked API key {args.key_id}.")
    return 0


def rekey(args: argparse.Namespace, io: Io) -> int:
    from gtoken.broker.migrations import migrate_broker
    from gtoken.broker.webhooks import Webhooks
    from gtoken.vault.database import open_database
    from gtoken.vault.keys import vault_keyring
    from gtoken.vault.vault import Vault

    keyring = vault_keyring(None, io.env)
    db = open_database(_settings(args, io).database_url)
    migrate_broker(db)
    with Vault(db, keys=keyring, env=io.env) as vault:
        count = vault.rekey() + Webhooks(db, keyring).rekey()
        older = sorted(vault.key_ids_in_use() - {keyring.current})
    io.say(f"Re-sealed {count} rows with key {keyring.current}.")
    if older:
        io.say(f"Values still sealed with {', '.join(older)} (written meanwhile?): run again.")
    else:
        io.say(
            "No stored value uses an older key now: the older keys can be dropped (connect "
            "links signed with them stop working)."
        )
    return 0
