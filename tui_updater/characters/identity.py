"""A character database's identity: its absolute path, device/inode, and a schema fingerprint.

Tasks and backups record it so they are only ever used with the file they were made for; the
engine checks it before each batch write, so a database deleted or replaced mid-run stops the
task instead of filling an unlinked file.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui_updater.characters.access import SharedExclusiveLock
from tui_updater.core.binding import Belonging
from tui_updater.core.models import TaskRecord
from tui_updater.errors import CharacterDbError


@dataclass(frozen=True)
class FileIdentity:
    """``device:inode:fingerprint``; the fingerprint hashes the character table's CREATE text."""

    device: int
    inode: int
    fingerprint: str

    def text(self) -> str:
        return f"{self.device}:{self.inode}:{self.fingerprint}"

    @classmethod
    def parse(cls, text: str | None) -> FileIdentity | None:
        parts = (text or "").split(":")
        if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
            return None
        return cls(int(parts[0]), int(parts[1]), parts[2])

    def same_file(self, other: FileIdentity) -> bool:
        """Device and inode: a schema upgrade changes the fingerprint, not which file it is."""
        return (self.device, self.inode) == (other.device, other.inode)


def absolute(path: Path | str) -> str:
    return str(Path(path).expanduser().resolve())


def fingerprint(conn: sqlite3.Connection, table: str) -> str:
    row = conn.execute(
        "SELECT sql FROM sqlite_master WHERE type='table' AND name=?", (table,)
    ).fetchone()
    return hashlib.sha256(str(row[0] if row else "").encode()).hexdigest()[:12]


def file_identity(path: Path | str, schema_fingerprint: str) -> FileIdentity:
    stat = os.stat(path)
    return FileIdentity(stat.st_dev, stat.st_ino, schema_fingerprint)


def check_same_file(path: str, device: int, inode: int) -> None:
    """CharacterDbError naming ``path`` when it was deleted or is no longer that device/inode."""
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        raise CharacterDbError(
            f"character database {path} was deleted while the task ran; nothing more is written"
        ) from None
    except OSError as exc:
        raise CharacterDbError(f"character database {path}: {exc}") from None
    if (stat.st_dev, stat.st_ino) != (device, inode):
        raise CharacterDbError(
            f"character database {path} was replaced by another file while the task ran; nothing more is written"
        )


class BoundDatabase:
    """The DatabaseBinding of one opened character database (core.binding)."""

    def __init__(
        self, path: Path | str, identity: FileIdentity, access: SharedExclusiveLock | None = None
    ):
        self._path = absolute(path)
        self._identity = identity
        self._access = access or SharedExclusiveLock()

    @classmethod
    async def of(cls, characters: Any) -> BoundDatabase:
        """The identity of an opened CharacterDb (its file and its character table)."""
        table = characters.schema.table
        schema_fingerprint = await characters.run(lambda conn: fingerprint(conn, table))
        return cls(
            characters.path, file_identity(characters.path, schema_fingerprint), characters.access
        )

    @property
    def path(self) -> str:
        return self._path

    @property
    def identity(self) -> str:
        return self._identity.text()

    def belonging(self, task: TaskRecord) -> tuple[Belonging, str]:
        if task.database is None:
            return Belonging.HERE, ""  # recorded before tasks named their database
        if task.database != self._path:
            if not os.path.exists(task.database):
                return Belonging.LOST, f"character database {task.database} no longer exists"
            return Belonging.ELSEWHERE, f"belongs to character database {task.database}"
        recorded = FileIdentity.parse(task.database_identity)
        if recorded is not None and not recorded.same_file(self._identity):
            return (
                Belonging.LOST,
                f"character database {self._path} was replaced by another file since the task was created",
            )
        return Belonging.HERE, ""

    def check(self) -> None:
        check_same_file(self._path, self._identity.device, self._identity.inode)

    def held(self) -> bool:
        return self._access.draining

    async def released(self) -> None:
        await self._access.released()
