"""Subprocess for the revert crash test: runs a task, then reverts it and kills itself (SIGKILL)
right after the revert's undo transaction commits, before its journal marks are stored."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tui_updater.characters.db import CharacterDb
from tui_updater.config import Settings
from tui_updater.runtime import Runtime


def arm() -> None:
    real_write = CharacterDb.write

    async def write_then_die(self: CharacterDb, fn: Callable[[Any], Any]) -> Any:
        result = await real_write(self, fn)
        os.kill(os.getpid(), signal.SIGKILL)
        return result

    CharacterDb.write = write_then_die  # type: ignore[method-assign]


async def main(root: Path, db_path: Path) -> None:
    runtime = await Runtime.open(Settings.for_tests(root, db_path=db_path), synchronous="FULL")
    try:
        task = await runtime.engine.submit("MBTI_ASSIGNMENT", {"batchSize": 500})
        await runtime.engine.wait(task.task_id)
        print(task.task_id, flush=True)
        arm()
        await runtime.engine.revert(task.task_id)
    finally:
        await runtime.close()
    raise SystemExit("the revert never wrote")


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), Path(sys.argv[2])))
