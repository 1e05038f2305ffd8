"""Subprocess for the avatar crash test: runs CHARACTER_AVATAR for the given characters and
kills itself (SIGKILL) mid-item, after the row was marked GENERATING and the image drawn."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

from tui_updater.config import Settings
from tui_updater.runtime import Runtime
from tui_updater.tasks import avatar_image


def die_while_normalising(data: bytes, size_px: int, **_: object) -> bytes:
    os.kill(os.getpid(), signal.SIGKILL)
    raise AssertionError("unreachable")


async def main(root: Path, db_path: Path, ids: list[str]) -> None:
    avatar_image.normalize_avatar = die_while_normalising  # type: ignore[assignment]
    runtime = await Runtime.open(Settings.for_tests(root, db_path=db_path))
    try:
        task = await runtime.engine.submit("CHARACTER_AVATAR", {"characterIds": ids})
        await runtime.engine.wait(task.task_id)
    finally:
        await runtime.close()
    raise SystemExit("the kill point was never reached")


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), Path(sys.argv[2]), json.loads(sys.argv[3])))
