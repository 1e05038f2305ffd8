"""A costly result is durable before it is applied, and storing it never holds up the next call."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tests.engine.sample_types import Recorder
from tests.engine.test_runner import TracedTask, traced_engine
from tui_updater.core.models import ItemRecord, ItemStatus, TaskRecord, TaskStatus
from tui_updater.store.sqlite import SqliteTaskStore


class GatedStore(SqliteTaskStore):
    """tasks.db, where storing an OBTAINED result of a held key waits for ``release``."""

    def __init__(self, path: Path, trace: list[str], hold: set[str]) -> None:
        super().__init__(path, synchronous="NORMAL")
        self.trace = trace
        self.hold = hold
        self.release = asyncio.Event()

    async def save(
        self,
        *,
        tasks: Sequence[TaskRecord] = (),
        items: Sequence[ItemRecord] = (),
        new_items: Sequence[ItemRecord] = (),
        **rest: Any,
    ) -> None:
        # A fresh task's first write inserts its items as they are: an OBTAINED one among them
        # is stored by that insert, with no update of its own.
        obtained = [i.key for i in (*items, *new_items) if i.status is ItemStatus.OBTAINED]
        if any(key in self.hold for key in obtained):
            await self.release.wait()
        await super().save(tasks=tasks, items=items, new_items=new_items, **rest)
        self.trace.extend(f"stored {key}" for key in obtained)


class CostlyTask(TracedTask):
    """Every result is costly: stored as OBTAINED before it is applied."""

    def stored_before_apply(self, result: Mapping[str, Any], elapsed_s: float) -> bool:
        return True


async def test_workers_go_on_while_results_are_stored_and_apply_only_stored_ones(
    tmp_path: Path, recorder: Recorder
) -> None:
    traced = CostlyTask(recorder)
    store = GatedStore(tmp_path / "tasks.db", traced.trace, hold={"k0", "k1"})
    await store.open()
    engine = traced_engine(store, traced)
    await engine.start()
    try:
        task = await engine.submit("TRACED", {"count": 4, "batchSize": 1, "concurrency": 2})
        # Both workers' first results are held on their way to disk; the workers go on.
        for _ in range(400):
            if "obtained k3" in traced.trace:
                break
            await asyncio.sleep(0.005)
        assert "obtained k2" in traced.trace and "obtained k3" in traced.trace, traced.trace
        assert not any(
            line.startswith("apply") and ("k0" in line or "k1" in line) for line in traced.trace
        ), "a result was applied before it was stored"
        store.release.set()
        done = await engine.wait(task.task_id)
        assert done.status is TaskStatus.COMPLETED and done.counts.done == 4
        for key in ("k0", "k1", "k2", "k3"):
            stored = traced.trace.index(f"stored {key}")
            applied = next(
                n for n, line in enumerate(traced.trace) if line.startswith("apply") and key in line
            )
            assert stored < applied, f"{key} applied before it was stored: {traced.trace}"
    finally:
        await engine.stop()
        await store.close()
