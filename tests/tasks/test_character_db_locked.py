"""A site holding the character database's write lock past the busy timeout: items wait and
retry, the task completes once the lock is released, nothing is left half-done."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tui_updater.characters import db as character_db
from tui_updater.characters.demo import create_demo_db
from tui_updater.config import Settings
from tui_updater.core.journal import JournalState
from tui_updater.core.models import ItemStatus, TaskStatus
from tui_updater.runtime import Runtime

ROOT = Path(__file__).resolve().parents[2]


class Collect(logging.Handler):
    """Messages of the package's logger, wherever else it sends them."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def warnings() -> Iterator[list[str]]:
    logger = logging.getLogger("tui_updater")
    handler = Collect()
    level = logger.level
    logger.setLevel(min(logger.getEffectiveLevel(), logging.WARNING))
    logger.addHandler(handler)
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


async def test_task_waits_out_a_site_lock_and_completes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, warnings: list[str]
) -> None:
    monkeypatch.setattr(character_db, "BUSY_TIMEOUT_MS", 100)
    monkeypatch.setattr(character_db, "_LOCK_RETRY_FIRST_S", 0.05, raising=False)
    db_path = create_demo_db(tmp_path / "dev.db")
    settings = Settings.for_tests(tmp_path, db_path=db_path)
    runtime = await Runtime.open(settings, synchronous="NORMAL")
    holder = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "tests.characters.lock_holder", str(db_path)],
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None and holder.stdin is not None
        assert (await holder.stdout.readline()).strip() == b"locked"
        task = await runtime.engine.submit("MBTI_ASSIGNMENT", {"batchSize": 4})
        waiting = asyncio.ensure_future(runtime.engine.wait(task.task_id))
        while not any("locked by another program" in m for m in warnings):
            if waiting.done():
                break  # it ended without waiting for the lock (the failure this test is about)
            await asyncio.sleep(0.02)  # until the task has met the lock and is waiting
        holder.stdin.write(b"go\n")
        await holder.stdin.drain()
        assert (await holder.stdout.readline()).strip() == b"released"
        done = await waiting
        items = await runtime.engine.store.list_items(task.task_id)
        planned = await runtime.engine.store.entries(task.task_id, states={JournalState.PLANNED})
    finally:
        if holder.returncode is None:
            holder.kill()
        await holder.wait()
        await runtime.close()
    assert done.status is TaskStatus.COMPLETED, done.message
    assert items and {i.status for i in items} == {ItemStatus.DONE}
    assert planned == []
    warning = next(m for m in warnings if "locked" in m)
    assert "the character database is locked by another program (busy for" in warning
    assert "retrying" in warning
