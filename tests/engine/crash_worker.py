"""Subprocess for the SIGKILL test: runs one task whose side effects land in effects.db.

The side effect is a compare-and-set insert (like the character writes), and every obtain call
is appended to obtains.log, so the test can check nothing finished was redone.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import Field

from tui_updater.config import EngineSettings
from tui_updater.core.models import ItemRecord, ItemStatus
from tui_updater.engine.engine import Engine
from tui_updater.store.sqlite import SqliteTaskStore
from tui_updater.tasks.base import ItemOutcome, ItemSpec, TaskContext, TaskParams, TaskType
from tui_updater.tasks.registry import TaskTypeRegistry


class EffectParams(TaskParams):
    count: int = Field(60, ge=1)
    batchSize: int = 3
    concurrency: int = 4


class EffectTask(TaskType[EffectParams]):
    name = "EFFECT"
    title = "Effect"
    params_model = EffectParams

    def __init__(self, root: Path):
        self.root = root

    async def select(self, ctx: TaskContext, params: EffectParams) -> Sequence[ItemSpec]:
        return [ItemSpec(f"k{i:03d}") for i in range(params.count)]

    async def obtain(
        self, ctx: TaskContext, params: EffectParams, item: ItemRecord
    ) -> dict[str, Any]:
        with (self.root / "obtains.log").open("a") as fh:
            fh.write(item.key + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        await asyncio.sleep(0.02)
        return {"value": item.key}

    async def apply(
        self,
        ctx: TaskContext,
        params: EffectParams,
        batch: Sequence[tuple[ItemRecord, dict[str, Any]]],
    ) -> Sequence[ItemOutcome]:
        conn = sqlite3.connect(self.root / "effects.db", isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            for item, result in batch:
                conn.execute(
                    "INSERT INTO effects(key, value) SELECT ?, ? WHERE NOT EXISTS (SELECT 1 FROM effects WHERE key = ?)",
                    (item.key, result["value"], item.key),
                )
            conn.execute("COMMIT")
        finally:
            conn.close()
        await asyncio.sleep(0.005)
        return [ItemOutcome(item.key, ItemStatus.DONE) for item, _ in batch]


async def main(root: Path, count: int) -> None:
    effects = sqlite3.connect(root / "effects.db")
    effects.execute("CREATE TABLE IF NOT EXISTS effects(key TEXT, value TEXT)")
    effects.close()
    store = SqliteTaskStore(root / "tasks.db")
    await store.open()
    registry = TaskTypeRegistry()
    registry.register(EffectTask(root))
    engine = Engine(store, registry, None, EngineSettings())
    await engine.start()
    existing = await store.list_tasks()
    task = existing[0] if existing else await engine.submit("EFFECT", {"count": count})
    print("running", task.task_id, flush=True)
    done = await engine.wait(task.task_id)
    print("finished", done.status.value, flush=True)
    await engine.stop()
    await store.close()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), int(sys.argv[2])))
