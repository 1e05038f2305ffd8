"""Backups of the character database through the SQLite online backup API: create (checked),
list, restore into the live database (after a safety backup), and prune to the newest N.

Opening the store removes what a killed run left (its ``.partial`` files, rehearsal copies).
"""

from __future__ import annotations

import asyncio
import builtins
import datetime as dt
import json
import logging
import os
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tui_updater.characters.leftovers import partial_name, sweep
from tui_updater.characters.sqlitecopy import (
    BUSY_TIMEOUT_MS,
    check_file_integrity,
    copy_database,
    integrity_problems,
    open_database,
)
from tui_updater.core.models import BackupInfo, now_ms
from tui_updater.errors import BackupError, CharacterDbError

logger = logging.getLogger("tui_updater")

# Ours: dev-backup-20240131T120000123Z.db; the original's: dev-backup-2024-01-31T12-00-00-123Z.db
_NAME = re.compile(
    r"^(?P<stem>.+)-backup-(?P<stamp>\d{8}T\d{9}Z|\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z)\.db$"
)


def format_stamp(at_ms: int) -> str:
    """UTC time as YYYYmmddTHHMMSSfffZ."""
    moment = dt.datetime.fromtimestamp(at_ms / 1000, tz=dt.UTC)
    return moment.strftime("%Y%m%dT%H%M%S") + f"{at_ms % 1000:03d}Z"


def parse_stamp(stamp: str) -> int:
    """Epoch ms of a stamp in our format or the original's."""
    digits = re.sub(r"\D", "", stamp)  # YYYYmmddHHMMSSfff in both formats
    moment = dt.datetime.strptime(digits[:14], "%Y%m%d%H%M%S").replace(tzinfo=dt.UTC)
    return int(moment.timestamp()) * 1000 + int(digits[14:17])


class BackupStore:
    """The backup directory: ``<db-stem>-backup-<UTC stamp>.db`` files plus ``<name>.json`` sidecars."""

    def __init__(
        self, backup_dir: Path, keep: int = 10, *, clock_ms: Callable[[], int] = now_ms
    ) -> None:
        self.backup_dir = Path(backup_dir)
        self.keep = max(1, keep)
        self._clock_ms = clock_ms
        if self.backup_dir.exists() and not self.backup_dir.is_dir():
            raise BackupError(
                f"backup directory {self.backup_dir} is not a directory (check --backup-dir)"
            )
        self.swept = sweep(self.backup_dir)
        for path in self.swept:
            logger.info("removed %s, left by a run that was killed", path)

    # --- create -------------------------------------------------------------------------------

    async def create(self, db_path: Path, *, reason: str = "", prune: bool = True) -> BackupInfo:
        """Copy ``db_path`` with the backup API, check the copy, and (by default) prune old ones."""
        info = await asyncio.to_thread(self._create_sync, Path(db_path), reason)
        if prune:
            await asyncio.to_thread(self.prune)
        return info

    def _reserve(self, stem: str) -> tuple[str, Path]:
        at_ms = self._clock_ms()
        while True:
            name = f"{stem}-backup-{format_stamp(at_ms)}.db"
            partial = self.backup_dir / partial_name(name)
            if not (self.backup_dir / name).exists():
                try:
                    os.close(os.open(partial, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
                    return name, partial
                except FileExistsError:
                    pass
            at_ms += 1  # unique within the same millisecond, still in time order

    def _create_sync(self, db_path: Path, reason: str) -> BackupInfo:
        try:
            source = open_database(db_path)
        except (CharacterDbError, sqlite3.Error) as exc:
            raise BackupError(f"cannot back up {db_path}: {exc}") from None
        try:
            stat = os.stat(db_path)
            source_identity = {"device": stat.st_dev, "inode": stat.st_ino}
        except OSError as exc:
            source.close()
            raise BackupError(f"cannot back up {db_path}: {exc}") from None
        try:
            self.backup_dir.mkdir(parents=True, exist_ok=True)
            name, partial = self._reserve(db_path.stem)
            try:
                target = sqlite3.connect(str(partial), isolation_level=None)
                try:
                    copy_database(source, target)
                    # A self-contained file: no -wal/-shm needed to read it later.
                    target.execute("PRAGMA journal_mode=DELETE")
                finally:
                    target.close()
                problems = check_file_integrity(partial)
                if problems:
                    raise BackupError(
                        f"backup of {db_path} failed its integrity check: {problems[:3]}"
                    )
                final = self.backup_dir / name
                os.replace(partial, final)
            except BaseException as exc:
                partial.unlink(missing_ok=True)
                if isinstance(exc, sqlite3.Error):
                    raise BackupError(f"backup of {db_path} failed: {exc}") from None
                raise
        finally:
            source.close()
        created_at_ms = parse_stamp(_NAME.match(name)["stamp"])  # type: ignore[index]
        sidecar = {
            "source": str(db_path.resolve()),
            "identity": source_identity,
            "reason": reason,
            "createdAt": created_at_ms,
            "integrity": "ok",
        }
        self._sidecar(name).write_text(json.dumps(sidecar, ensure_ascii=False, indent=2), "utf-8")
        return BackupInfo(name, str(final), created_at_ms, final.stat().st_size, db_path.stem)

    # --- look up ------------------------------------------------------------------------------

    def _sidecar(self, name: str) -> Path:
        return self.backup_dir / f"{name}.json"

    def path_of(self, name: str) -> Path:
        """The file of backup ``name``; BackupError for anything not a backup in this directory."""
        if not name or "/" in name or "\\" in name or name in (".", "..") or "\x00" in name:
            raise BackupError(
                f"invalid backup name {name!r}: give a file name from the backup list"
            )
        if _NAME.match(name) is None:
            raise BackupError(f"{name!r} is not a backup name (<db>-backup-<timestamp>.db)")
        root = self.backup_dir.resolve()
        path = (root / name).resolve()
        if path.parent != root or not path.is_file():
            raise BackupError(f"no backup named {name!r} in {root}")
        return path

    def details(self, name: str) -> dict[str, Any]:
        """The backup's sidecar (source path, reason); {} when it has none."""
        self.path_of(name)
        try:
            data = json.loads(self._sidecar(name).read_text("utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def info(self, name: str) -> BackupInfo:
        path = self.path_of(name)
        match = _NAME.match(name)
        assert match is not None  # path_of checked it
        return BackupInfo(
            name, str(path), parse_stamp(match["stamp"]), path.stat().st_size, match["stem"]
        )

    def list(self, source_db: str | None = None) -> builtins.list[BackupInfo]:
        """Backups newest first, optionally only those of one database stem."""
        if not self.backup_dir.is_dir():
            return []
        found: builtins.list[BackupInfo] = []
        for path in self.backup_dir.iterdir():
            match = _NAME.match(path.name)
            if match is None or not path.is_file():
                continue
            if source_db is not None and match["stem"] != source_db:
                continue
            try:
                size = path.stat().st_size
            except OSError:
                continue  # pruned meanwhile
            found.append(
                BackupInfo(path.name, str(path), parse_stamp(match["stamp"]), size, match["stem"])
            )
        found.sort(key=lambda info: (info.created_at_ms, info.name), reverse=True)
        return found

    # --- prune --------------------------------------------------------------------------------

    def source_of(self, name: str) -> str | None:
        """The absolute path of the database a backup was taken of (from its sidecar)."""
        try:
            source = self.details(name).get("source")
        except BackupError:
            return None
        return str(source) if source else None

    def prune(self) -> builtins.list[str]:
        """Delete all but the newest ``keep`` backups of each source database; return the names.

        Databases are told apart by their absolute path (every Prisma site calls its file
        ``dev.db``); a backup without a sidecar counts by its file stem."""
        kept: dict[str, int] = {}
        removed: builtins.list[str] = []
        for info in self.list():
            owner = self.source_of(info.name) or f"stem:{info.source_db}"
            kept[owner] = kept.get(owner, 0) + 1
            if kept[owner] > self.keep:
                Path(info.path).unlink(missing_ok=True)
                self._sidecar(info.name).unlink(missing_ok=True)
                removed.append(info.name)
        return removed

    # --- restore ------------------------------------------------------------------------------

    async def restore(
        self, name: str, db_path: Path, *, safety_backup: bool = True
    ) -> dict[str, Any]:
        """Restore ``name`` into the live database through the backup API, never a file copy.

        First backs up the current state (so the restore can be undone) unless told not to.
        Returns {restored, safetyBackup, integrity}.
        """
        path = self.path_of(name)
        source = self.source_of(name)
        target = await asyncio.to_thread(lambda: str(Path(db_path).resolve()))
        if source is not None and source != target:
            raise BackupError(
                f"backup {name} is of the database {source}, not of {target}; not restoring it over another database"
            )
        problems = await asyncio.to_thread(check_file_integrity, path)
        if problems:
            raise BackupError(f"backup {name} is damaged, not restoring it: {problems[:3]}")
        safety: BackupInfo | None = None
        if safety_backup and await asyncio.to_thread(Path(db_path).exists):
            safety = await self.create(
                Path(db_path), reason=f"before restoring {name}", prune=False
            )
        await asyncio.to_thread(restore_file, path, Path(db_path))
        return {
            "restored": name,
            "safetyBackup": safety.to_json() if safety is not None else None,
            "integrity": "ok",
        }


def restore_file(backup_path: Path, db_path: Path) -> None:
    """Copy ``backup_path`` into the live ``db_path`` through the backup API and check it."""
    source = sqlite3.connect(
        backup_path.resolve().as_uri() + "?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000
    )
    try:
        live = open_database(db_path, create=True)
        try:
            copy_database(source, live)
            problems = integrity_problems(live)
        finally:
            live.close()
    except sqlite3.Error as exc:
        raise BackupError(f"restoring {backup_path.name} into {db_path} failed: {exc}") from None
    finally:
        source.close()
    if problems:
        raise BackupError(f"{db_path} failed its integrity check after the restore: {problems[:3]}")
