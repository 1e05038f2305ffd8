"""Subprocess for the leftovers test: runs a DATABASE_UPGRADE whose backup (``backup``) or
rehearsal copy (``rehearsal``) stalls right after the copy, prints ``copying``, and waits to be
killed (SIGKILL) with the partial backup or the scratch copy on disk."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import time
from pathlib import Path

from tui_updater.characters import backups, migration
from tui_updater.config import Settings
from tui_updater.runtime import Runtime


def stall_after(module: object) -> None:
    real_copy = migration.copy_database

    def copy_then_stall(source: sqlite3.Connection, target: sqlite3.Connection) -> None:
        real_copy(source, target)
        print("copying", flush=True)
        time.sleep(600)

    module.copy_database = copy_then_stall  # type: ignore[attr-defined]


async def main(root: Path, db_path: Path, stage: str) -> None:
    stall_after(backups if stage == "backup" else migration)
    runtime = await Runtime.open(Settings.for_tests(root, db_path=db_path))
    try:
        script = 'ALTER TABLE "Character" ADD COLUMN "leftoverMark" TEXT'
        task = await runtime.engine.submit("DATABASE_UPGRADE", {"migrationScript": script})
        await runtime.engine.wait(task.task_id)
    finally:
        await runtime.close()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]))
