"""Subprocess for the journal-evidence test: an online MBTI task whose costly result is stored,
killed (SIGKILL) right after its character write commits, before the journal mark is stored."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.fakes.openai_server import FakeOpenAIServer, Fault
from tui_updater.characters.db import CharacterDb
from tui_updater.config import ProviderSettings, Settings
from tui_updater.runtime import Runtime


def arm() -> None:
    real_write = CharacterDb.write

    async def write_then_die(self: CharacterDb, fn: Callable[[Any], Any]) -> Any:
        result = await real_write(self, fn)
        os.kill(os.getpid(), signal.SIGKILL)
        return result

    CharacterDb.write = write_then_die  # type: ignore[method-assign]


async def main(root: Path, db_path: Path, character_id: str) -> None:
    with FakeOpenAIServer() as gateway:
        # A slow answer is a costly result: stored OBTAINED before it is written.
        gateway.script("chat/completions", [Fault.HANG_FOR(0.2)])
        settings = Settings.for_tests(
            root,
            db_path=db_path,
            offline=False,
            provider=ProviderSettings(
                base_url=gateway.base_url, api_key="sk-test", requests_per_minute=0
            ),
        )
        runtime = await Runtime.open(settings, synchronous="FULL")
        try:
            arm()
            task = await runtime.engine.submit("MBTI_ASSIGNMENT", {"characterIds": [character_id]})
            print(task.task_id, flush=True)
            await runtime.engine.wait(task.task_id)
        finally:
            await runtime.close()
    raise SystemExit("the kill point was never reached")


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]))
