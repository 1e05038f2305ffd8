"""One task's run: select items once, obtain results concurrently, apply them in batches."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tui_updater.core.models import ItemCounts, ItemRecord, ItemStatus, TaskRecord, now_ms
from tui_updater.core.retry import RetryPolicy
from tui_updater.core.store import TaskStore
from tui_updater.engine.clock import Clock
from tui_updater.errors import PermanentError, TavernError, TransientError
from tui_updater.tasks.base import ItemOutcome, TaskContext, TaskType


def describe_error(exc: BaseException) -> str:
    """A one-line reason for an item or task failure (never a traceback)."""
    if isinstance(exc, TavernError):
        return str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def count_items(items: Sequence[ItemRecord]) -> ItemCounts:
    done = failed = skipped = 0
    for item in items:
        if item.status is ItemStatus.DONE:
            done += 1
        elif item.status is ItemStatus.FAILED:
            failed += 1
        elif item.status in (ItemStatus.SKIPPED, ItemStatus.CONFLICT):
            skipped += 1
    return ItemCounts(len(items), done, failed, skipped)


@dataclass
class RunHooks:
    """What a run tells the engine as it goes."""

    progress: Callable[[TaskRecord], None]
    log: Callable[[str, str, str | None], None]  # level, message, task_id
    paused: Callable[[], Awaitable[object]]  # returns when the queue is not paused


@dataclass
class TaskRun:
    """Runs one task to the end of its current attempt and returns the finished items."""

    task: TaskRecord
    task_type: TaskType[Any]
    store: TaskStore
    resources: Any
    policy: RetryPolicy
    clock: Clock
    hooks: RunHooks
    rng: random.Random = field(default_factory=random.Random)
    items: dict[int, ItemRecord] = field(default_factory=dict)
    applying: asyncio.Future[None] | None = None  # the batch write under way, if any

    async def execute(self) -> TaskRecord:
        """Run the items; return the task record with counts, usage and result filled in."""
        ctx = TaskContext(
            task_id=self.task.task_id,
            resources=self.resources,
            log=lambda level, message: self.hooks.log(level, message, self.task.task_id),
            attempt=self.task.attempt,
        )
        params = self.task_type.parse_params(self.task.data)
        await self._load_or_select(ctx, params)
        obtained = [i for i in self.items.values() if i.status is ItemStatus.OBTAINED]
        if obtained:
            await self.task_type.resume(ctx, params, obtained)
        pending = [i for i in self.items.values() if i.status in (ItemStatus.PENDING, ItemStatus.RUNNING)]
        await self._pipeline(ctx, params, pending, obtained)
        finished = sorted(self.items.values(), key=lambda i: i.seq)
        result = self.task_type.summarize(params, finished)
        if ctx.usage.requests:
            result.setdefault("usage", ctx.usage.to_json())
        counts = count_items(finished)
        self.task = self.task.evolve(counts=counts, progress=counts.progress(), result=result, usage=self.task.usage + ctx.usage)
        return self.task

    # --- items ----------------------------------------------------------------------------------

    async def _load_or_select(self, ctx: TaskContext, params: Any) -> None:
        stored = await self.store.list_items(self.task.task_id)
        if stored or self.task.counts.total:
            self.items = {i.seq: i for i in stored}
            return
        specs = await self.task_type.select(ctx, params)
        stamp = now_ms()
        new_items = [
            ItemRecord(self.task.task_id, seq, spec.key, spec.label, updated_at_ms=stamp)
            for seq, spec in enumerate(specs)
        ]
        self.items = {i.seq: i for i in new_items}
        self.task = self.task.evolve(counts=ItemCounts(total=len(new_items)), message=f"{len(new_items)} items selected")
        await self.store.save(tasks=[self.task], new_items=new_items)
        self.hooks.log("INFO", f"{len(new_items)} items selected", self.task.task_id)

    def _set(self, item: ItemRecord) -> ItemRecord:
        self.items[item.seq] = item
        return item

    def _report(self) -> None:
        counts = count_items(list(self.items.values()))
        self.task = self.task.evolve(counts=counts, progress=counts.progress(), usage=self.task.usage)
        self.hooks.progress(self.task)

    async def _pipeline(
        self, ctx: TaskContext, params: Any, pending: list[ItemRecord], obtained: list[ItemRecord]
    ) -> None:
        batch_size = self.task_type.batch_size(params)
        concurrency = self.task_type.concurrency(params)
        queue: asyncio.Queue[ItemRecord] = asyncio.Queue()
        for item in pending:
            queue.put_nowait(item)
        ready: list[ItemRecord] = list(obtained)
        wake = asyncio.Event()
        workers_left = min(concurrency, len(pending))

        async def worker() -> None:
            nonlocal workers_left
            try:
                while True:
                    await self.hooks.paused()
                    try:
                        item = queue.get_nowait()
                    except asyncio.QueueEmpty:
                        return
                    done = await self._obtain(ctx, params, item)
                    if done is not None:
                        ready.append(done)
                        if len(ready) >= batch_size:
                            wake.set()
            finally:
                workers_left -= 1
                wake.set()

        async def applier() -> None:
            while True:
                if len(ready) >= batch_size or (workers_left <= 0 and ready):
                    batch, ready[:] = ready[:batch_size], ready[batch_size:]
                    # Shielded: once a batch write starts it finishes and is recorded.
                    self.applying = asyncio.ensure_future(self._apply(ctx, params, batch))
                    await asyncio.shield(self.applying)
                    self.applying = None
                    continue
                if workers_left <= 0:
                    return
                wake.clear()
                await wake.wait()

        workers = [asyncio.create_task(worker()) for _ in range(workers_left)]
        applying = asyncio.create_task(applier())
        try:
            await asyncio.gather(applying, *workers)
        finally:
            for task in (*workers, applying):
                task.cancel()  # a batch write under way is shielded and still finishes
            await asyncio.gather(*workers, applying, return_exceptions=True)

    async def _obtain(self, ctx: TaskContext, params: Any, item: ItemRecord) -> ItemRecord | None:
        item = self._set(item.evolve(status=ItemStatus.RUNNING))
        failures = 0
        while True:
            try:
                result = await self.task_type.obtain(ctx, params, item)
            except TransientError as exc:
                failures += 1
                if not self.policy.should_retry(failures):
                    await self._fail(item, exc, attempts=failures, retryable=True)
                    return None
                delay_s = self.policy.delay_s(failures, exc.retry_after_s, rng=self.rng)
                self.hooks.log("WARNING", f"{item.label or item.key}: {describe_error(exc)}; retry {failures} in {delay_s:.1f}s", self.task.task_id)
                await self.clock.sleep(delay_s)
                continue
            except (PermanentError, TavernError, ValueError, OSError) as exc:
                await self._fail(item, exc, attempts=failures + 1, retryable=False)
                return None
            obtained = self._set(
                item.evolve(status=ItemStatus.OBTAINED, attempts=item.attempts + failures + 1, result=result, error=None, updated_at_ms=now_ms())
            )
            # The result is durable before it is applied: a crash now never repeats the request.
            await self.store.save(items=[obtained])
            return obtained

    async def _fail(self, item: ItemRecord, exc: BaseException, *, attempts: int, retryable: bool) -> None:
        failed = self._set(
            item.evolve(status=ItemStatus.FAILED, attempts=item.attempts + attempts, error=describe_error(exc), retryable=retryable, updated_at_ms=now_ms())
        )
        self.hooks.log("WARNING", f"{item.label or item.key} failed: {failed.error}", self.task.task_id)
        self._report()
        await self.store.save(items=[failed], tasks=[self.task])

    async def _apply(self, ctx: TaskContext, params: Any, batch: list[ItemRecord]) -> None:
        try:
            outcomes: Sequence[ItemOutcome] = await self.task_type.apply(
                ctx, params, [(item, item.result or {}) for item in batch]
            )
        except (TavernError, ValueError, OSError) as exc:
            retryable = isinstance(exc, TransientError)
            outcomes = [ItemOutcome(item.key, ItemStatus.FAILED, describe_error(exc)) for item in batch]
            self.hooks.log("ERROR", f"writing a batch failed: {describe_error(exc)}", self.task.task_id)
        else:
            retryable = False
        by_key = {outcome.key: outcome for outcome in outcomes}
        stamp = now_ms()
        changed = []
        for item in batch:
            outcome = by_key.get(item.key)
            if outcome is None:
                outcome = ItemOutcome(item.key, ItemStatus.FAILED, "the task type reported no outcome for this item")
            changed.append(
                self._set(
                    item.evolve(
                        status=outcome.status,
                        error=outcome.error,
                        result=outcome.result if outcome.result is not None else item.result,
                        retryable=retryable and outcome.status is ItemStatus.FAILED,
                        updated_at_ms=stamp,
                    )
                )
            )
        self._report()
        await self.store.save(items=changed, tasks=[self.task])
