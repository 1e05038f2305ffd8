"""``tavern-updater-tui backups list|restore NAME``."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
from typing import Any

from tui_updater.config import Settings
from tui_updater.errors import TavernError


def _when(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def restore(settings: Settings, store: Any, name: str) -> dict[str, Any]:
    """Restore while holding the state dir, or through its owner (whose engine uses the file)."""
    from tui_updater.ownership import OwnerLock, StateDirOwned

    try:
        lock = OwnerLock.acquire(settings.state_dir, mode="backups restore")
    except StateDirOwned as owned:
        if owned.owner is None:
            raise
        return asyncio.run(_restore_through(settings, owned, name))
    try:
        report: dict[str, Any] = asyncio.run(store.restore(name, settings.db_path))
        return report
    finally:
        lock.release()


async def _restore_through(settings: Settings, owned: Any, name: str) -> dict[str, Any]:
    from tui_updater.commands.attach import CONTROL_URL
    from tui_updater.server.client import RemoteService

    remote = RemoteService(CONTROL_URL, None, uds=owned.owner.socket)
    try:
        database = (await remote.info()).database
        wanted = str(settings.db_path.resolve())
        if database != wanted:
            raise type(owned)(
                owned.state_dir, owned.owner, detail=f"it works on {database}, not {wanted}"
            )
        report: dict[str, Any] = await remote.restore_backup(name)
        return report
    finally:
        await remote.aclose()


def backups_command(settings: Settings, args: argparse.Namespace) -> int:
    from tui_updater.runtime import open_backups

    try:
        store = open_backups(settings)
        if args.backup_command == "list":
            backups = store.list()
            if getattr(args, "json", False):
                print(json.dumps([b.to_json() for b in backups], indent=2))
            elif not backups:
                print(f"no backups in {settings.backup_dir}")
            else:
                for backup in backups:
                    print(
                        f"{backup.name}  {_when(backup.created_at_ms)}  {backup.size_bytes / 1024:.0f} KiB  from {backup.source_db}"
                    )
            return 0
        if not args.yes and sys.stdin.isatty():
            answer = input(
                f"Restore {args.name} over {settings.db_path}? The current state is backed up first. [y/N] "
            )
            if answer.strip().lower() not in ("y", "yes"):
                print("not restored")
                return 1
        report = restore(settings, store, args.name)
        print(json.dumps(report, indent=2, default=str))
        return 0
    except TavernError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: cannot use {exc.filename}: {exc.strerror or exc}", file=sys.stderr)
        return 2
