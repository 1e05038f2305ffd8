"""Subprocess for the upgrade crash tests: runs one DATABASE_UPGRADE and kills itself (SIGKILL)
at a chosen point of the live apply.

``after-commit``: right after the live COMMIT, before the outcome reaches tasks.db.
``before-commit``: right after the apply record is stored in tasks.db, before COMMIT.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Any

from tui_updater.config import Settings
from tui_updater.runtime import Runtime
from tui_updater.tasks import upgrade


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def arm(point: str) -> None:
    if point == "after-commit":
        real_apply = upgrade.apply_live

        def apply_then_die(*args: Any, **kwargs: Any) -> Any:
            real_apply(*args, **kwargs)
            _die()

        upgrade.apply_live = apply_then_die  # type: ignore[assignment]
    elif point == "before-commit":
        real_record = upgrade.record_apply

        async def record_then_die(*args: Any, **kwargs: Any) -> int:
            await real_record(*args, **kwargs)
            _die()
            raise AssertionError("unreachable")

        upgrade.record_apply = record_then_die  # type: ignore[assignment]
    else:
        raise SystemExit(f"unknown kill point {point!r}")


async def main(root: Path, db_path: Path, script: str, point: str) -> None:
    arm(point)
    runtime = await Runtime.open(Settings.for_tests(root, db_path=db_path), synchronous="FULL")
    try:
        task = await runtime.engine.submit("DATABASE_UPGRADE", {"migrationScript": script})
        await runtime.engine.wait(task.task_id)
    finally:
        await runtime.close()
    raise SystemExit("the kill point was never reached")


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4]))
