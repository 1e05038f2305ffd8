"""One task's run: select items once, obtain results concurrently, apply them in batches.

Durability follows cost: a result that took long to obtain (a paid or slow call) is stored as
OBTAINED before anything else happens to it, so a crash never repeats that call; a result that
was cheap to obtain is stored together with its outcome, one transaction per batch.
"""

from __future__ import annotations

import asyncio
import functools
import random
import time
from collections import Counter, defaultdict, deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tui_updater.core.models import (
    NO_USAGE,
    ItemCounts,
    ItemRecord,
    ItemStatus,
    TaskRecord,
    TokenUsage,
    now_ms,
)
from tui_updater.core.retry import RetryPolicy
from tui_updater.core.store import TaskStore
from tui_updater.engine.budgets import BudgetGuard, budget_guard, has_budget
from tui_updater.engine.clock import Clock
from tui_updater.errors import (
    BudgetReached,
    OutputUnwritable,
    PermanentError,
    TavernError,
    TransientError,
)
from tui_updater.tasks.base import ItemOutcome, TaskContext, TaskType

READ_AHEAD_ITEMS = 256  # items whose rows a type may read in one go, before they are obtained


def describe_error(exc: BaseException) -> str:
    """A one-line reason for an item or task failure (never a traceback)."""
    if isinstance(exc, TavernError):
        return str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def overrides(task_type: TaskType[Any], method: str) -> bool:
    """Whether the type has its own ``method``: a run skips the base class's no-op hooks (the
    awaits and futures they would cost per task)."""
    return getattr(type(task_type), method) is not getattr(TaskType, method) or (
        method in getattr(task_type, "__dict__", ())
    )


def _looked_at(future: asyncio.Future[Any]) -> None:
    """A storing that failed is raised where it is awaited (``TaskRun._stored``); a run that
    ended first has its outcome recorded after it (``settled``): never an unretrieved error."""
    if not future.cancelled():
        future.exception()


def count_items(items: Sequence[ItemRecord]) -> ItemCounts:
    by_status = Counter(item.status for item in items)
    return _counts(len(items), by_status)


def _counts(total: int, by_status: Mapping[ItemStatus, int]) -> ItemCounts:
    return _item_counts(
        total,
        by_status[ItemStatus.DONE],
        by_status[ItemStatus.FAILED],
        by_status[ItemStatus.SKIPPED] + by_status[ItemStatus.CONFLICT],
    )


@functools.lru_cache(maxsize=4096)
def _item_counts(total: int, done: int, failed: int, skipped: int) -> ItemCounts:
    """Counts are frozen records: equal ones are shared (a run counts its items at every batch,
    and most runs end with the same few counts) instead of built and validated each time."""
    return ItemCounts(total, done, failed, skipped)


@dataclass
class RunHooks:
    """What a run tells the engine as it goes."""

    progress: Callable[[TaskRecord], None]
    log: Callable[[str, str, str | None], None]  # level, message, task_id
    paused: Callable[[], Awaitable[object]]  # returns when the queue is not paused
    started: Callable[[TaskRecord], None] = lambda task: None  # items known: the run is under way
    is_paused: Callable[[], bool] = lambda: False
    # Raises when the task's character database was deleted or replaced: checked before each
    # batch write, so nothing is reported DONE into a file that is no longer the site's.
    check_database: Callable[[], None] = lambda: None


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
    fresh: bool = False  # never started before: no stored items to load
    params: Any = None  # parsed parameters when already known (fresh tasks)
    items: dict[int, ItemRecord] = field(default_factory=dict)
    applying: asyncio.Future[None] | None = None  # the batch write under way, if any
    # The last written batch's item outcomes being stored: the next batch's write goes ahead
    # meanwhile (its journal plan rides the same commit); awaited before another is stored.
    saving: asyncio.Future[None] | None = None
    unsaved: list[ItemRecord] = field(default_factory=list)  # final outcomes, saved with the task
    items_stored: bool = True  # False until a fresh task's items are first written
    announced: bool = False  # the started event went out
    begun: bool = False  # the engine's coroutine for it is running: a cancel reaches its handlers
    # Items per status; a defaultdict, as its missing statuses (read per count) are looked up in
    # C, where a Counter's are Python calls.
    _by_status: defaultdict[ItemStatus, int] = field(default_factory=lambda: defaultdict(int))
    _usage_before: TokenUsage = NO_USAGE  # spent by earlier attempts
    _ctx: TaskContext | None = None  # this attempt's context: its usage grows as items finish
    budget: BudgetGuard | None = None  # maxTokens / maxCost, checked before each item
    owner: asyncio.Task[Any] | None = None  # the asyncio task running ``execute``
    writing: bool = False  # the owner is in a batch write: a cancel waits for its end
    cancel_asked: bool = False  # a cancel came during that write; the run stops after it

    async def execute(self) -> TaskRecord:
        """Run the items; return the task record with counts, usage and result filled in."""
        self.owner = asyncio.current_task()
        task_id, log = self.task.task_id, self.hooks.log
        # The closure holds the hook and the id, never this run: the run holds the context, and
        # a cycle between them would leave each finished task's objects to the cyclic collector.
        ctx = TaskContext(
            task_id=task_id,
            resources=self.resources,
            log=lambda level, message: log(level, message, task_id),
            attempt=self.task.attempt,
        )
        self._ctx, self._usage_before = ctx, self.task.usage
        params = (
            self.params if self.params is not None else self.task_type.parse_params(self.task.data)
        )
        self.hooks.check_database()
        if has_budget(params):
            self.budget = await budget_guard(
                self.task, params, self.task_type.params_schema(), self.store, self.resources
            )
        try:
            await self._load_or_select(ctx, params)
            if overrides(self.task_type, "claim"):
                await self._claim(ctx, params)
            obtained = [i for i in self.items.values() if i.status is ItemStatus.OBTAINED]
            if obtained:
                await self.task_type.resume(ctx, params, obtained)
            pending = [
                i
                for i in self.items.values()
                if i.status in (ItemStatus.PENDING, ItemStatus.RUNNING)
            ]
            await self._pipeline(ctx, params, pending, obtained)
        finally:
            ctx.release()  # a mark whose write never came is settled by the next attempt
        finished = sorted(self.items.values(), key=lambda i: i.seq)
        result = self.task_type.summarize(params, finished)
        if ctx.usage.requests:
            result.setdefault("usage", ctx.usage.to_json())
        counts = self.counts()
        self.task = self.task.evolve(
            counts=counts,
            progress=counts.progress(),
            result=result,
            usage=self._usage(),
        )
        if self.budget is not None and self.budget.reason is not None:
            raise BudgetReached(self.budget.reason)  # unfinished items stay PENDING for a retry
        return self.task

    def _usage(self) -> TokenUsage:
        """Tokens spent on this task so far: earlier attempts plus this one's, live."""
        return self._usage_before if self._ctx is None else self._usage_before + self._ctx.usage

    def _costed_items(self) -> int:
        """Items whose result was asked for (what the usage so far was spent on)."""
        by_status = self._by_status
        return (
            by_status[ItemStatus.OBTAINED]
            + by_status[ItemStatus.DONE]
            + by_status[ItemStatus.FAILED]
            + by_status[ItemStatus.CONFLICT]
        )

    def counts(self) -> ItemCounts:
        return _counts(len(self.items), self._by_status)

    # --- items ----------------------------------------------------------------------------------

    async def _load_or_select(self, ctx: TaskContext, params: Any) -> None:
        if not self.fresh:
            stored = await self.store.list_items(self.task.task_id)
            if stored or self.task.counts.total:
                self.items = {i.seq: i for i in stored}
                self._by_status = defaultdict(int, Counter(i.status for i in stored))
                await self.store.save(tasks=[self.task])
                self._announce()
                self.hooks.log(
                    "INFO",
                    f"task resumed: {self.task.task_id} ({self.task.type}, attempt {self.task.attempt})",
                    self.task.task_id,
                )
                return
        specs = await self.task_type.select(ctx, params)
        stamp = now_ms()
        # One record built (validated), the others copied from it: a copy shares its record of
        # given fields, where each built record would hold a set of its own (100,000 of them).
        template = ItemRecord(self.task.task_id, 0, "", "", updated_at_ms=stamp)
        new_items = [
            template.evolve(seq=seq, key=spec.key, label=spec.label)
            for seq, spec in enumerate(specs)
        ]
        self.items = {i.seq: i for i in new_items}
        self._by_status = defaultdict(int, {ItemStatus.PENDING: len(new_items)})
        self.task = self.task.evolve(
            counts=_item_counts(len(new_items), 0, 0, 0), message=f"running: {len(new_items)} items"
        )
        # Nothing is written yet: until an item has a costly result or an outcome, a crash simply
        # selects again. The items ride along with the task's first real write.
        self.items_stored = False
        self._announce()
        self.hooks.log(
            "INFO",
            f"task started: {self.task.task_id} ({self.task.type}, {len(new_items)} items)",
            self.task.task_id,
        )

    async def _claim(self, ctx: TaskContext, params: Any) -> None:
        """Let the type claim what the unfinished items will write before any is worked."""
        unfinished = [i for i in self.items.values() if not i.status.finished]
        changed = [self._set(i) for i in await self.task_type.claim(ctx, params, unfinished)]
        if changed and self.items_stored:
            await self.save(items=changed, tasks=[self.task])

    def _announce(self) -> None:
        """Tell the engine the run is under way; its started event carries the item count."""
        if not self.announced:
            self.announced = True
            self.hooks.started(self.task)

    def take_new_items(self) -> list[ItemRecord]:
        """The items to insert with the next write (all of them, once), as they are now."""
        if self.items_stored:
            return []
        self.items_stored = True
        return [
            item.evolve(status=ItemStatus.PENDING) if item.status is ItemStatus.RUNNING else item
            for _, item in sorted(self.items.items())
        ]

    def writes(self, items: Sequence[ItemRecord]) -> tuple[Sequence[ItemRecord], list[ItemRecord]]:
        """The ``items`` to update and the items to insert first (``take_new_items``): an item
        inserted as it is now needs no update of its own (one statement fewer per item)."""
        new_items = self.take_new_items()
        if new_items and items:
            current = self.items
            items = [
                i for i in items if current.get(i.seq) is not i or i.status is ItemStatus.RUNNING
            ]
        return items, new_items

    async def save(
        self, *, items: Sequence[ItemRecord] = (), tasks: Sequence[TaskRecord] = ()
    ) -> None:
        """Write through the store, inserting a fresh task's items first if they are not yet."""
        items, new_items = self.writes(items)
        await self.store.save(tasks=tasks, items=items, new_items=new_items)

    def _set(self, item: ItemRecord) -> ItemRecord:
        old = self.items.get(item.seq)
        if old is not None:
            self._by_status[old.status] -= 1
        self._by_status[item.status] += 1
        self.items[item.seq] = item
        return item

    def _report(self) -> None:
        counts = self.counts()
        self.task = self.task.evolve(counts=counts, progress=counts.progress(), usage=self._usage())
        self.hooks.progress(self.task)

    async def _pipeline(
        self, ctx: TaskContext, params: Any, pending: list[ItemRecord], obtained: list[ItemRecord]
    ) -> None:
        """Obtain up to ``concurrency`` items at once and apply them in batches, one batch at a time.

        With one worker this is the plain sequential loop, run inline: a full batch is written in
        turn. With more, the worker that fills a batch starts the writer beside the workers (one
        at a time), so writing never lowers the obtain concurrency. The final batch is left for
        the end so it is stored with the finished task.
        """
        batch_size = self.task_type.batch_size(params)
        queue = deque(pending)
        ready: list[ItemRecord] = list(obtained)
        in_flight = 0
        applying = False  # a batch writer is at work
        ahead_end = 0  # pending[:ahead_end] were handed to read_ahead
        reading: asyncio.Future[None] | None = None  # the read-ahead under way
        reads_ahead = overrides(self.task_type, "read_ahead")  # else no future per chunk

        async def read_ahead(items: list[ItemRecord]) -> None:
            try:
                await self.task_type.read_ahead(ctx, params, items)
            except Exception:  # only a shortcut: each obtain still reads on its own
                return

        def read_further() -> None:
            """Keep the next READ_AHEAD_ITEMS items read ahead, half a window in advance."""
            nonlocal ahead_end, reading
            if not reads_ahead:
                return
            popped = len(pending) - len(queue)
            if reading is not None and not reading.done():
                return
            if ahead_end >= len(pending) or ahead_end - popped > READ_AHEAD_ITEMS // 2:
                return
            chunk = pending[max(ahead_end, popped) : popped + READ_AHEAD_ITEMS]
            ahead_end = popped + READ_AHEAD_ITEMS
            reading = asyncio.ensure_future(read_ahead(chunk))

        def batch_due() -> bool:
            if not ready or (in_flight == 0 and not queue):
                return False  # what is left is the final batch: written with the task
            return len(ready) >= batch_size or self.hooks.is_paused()

        group_size = max(batch_size, self.task_type.write_group_size(params))

        def take_batch() -> list[ItemRecord]:
            # What piled up while the previous write ran goes in one call, up to the group size.
            batch, ready[:] = ready[:group_size], ready[group_size:]
            return batch

        async def apply_due(started: asyncio.Future[None] | None = None) -> None:
            nonlocal applying
            applying = True
            try:
                if started is not None:
                    await self._end_apply(started)
                while batch_due():
                    await self._apply_shielded(ctx, params, take_batch(), last=False)
            finally:
                applying = False

        async def worker(group: asyncio.TaskGroup | None) -> None:
            nonlocal in_flight
            while queue:
                if self.hooks.is_paused() and not applying and batch_due():
                    await apply_due()  # results in hand are written before the pause
                if self.hooks.is_paused():
                    await self.hooks.paused()
                if not queue:
                    return
                if self.budget is not None and self.budget.stops(
                    self._usage(), self._costed_items(), in_flight
                ):
                    queue.clear()
                    return
                read_further()
                item = queue.popleft()
                in_flight += 1
                try:
                    obtained = await self._obtain(ctx, params, item)
                finally:
                    in_flight -= 1
                if obtained is not None:
                    done, store_first = obtained
                    if store_first and group is not None:
                        # The worker takes its next item while this result is being stored;
                        # the result joins a batch (is applied) only once it is durable.
                        group.create_task(stored_then_ready(done, group))
                    else:
                        if store_first:
                            await self.save(items=[done])
                        ready.append(done)
                if not applying and batch_due():
                    if group is None:
                        await apply_due()
                    else:
                        start_writer(group)
                # An obtain from rows read ahead need not suspend: let the batch writer's
                # database hops, the other workers and the rest of the engine run between items.
                if queue:
                    await asyncio.sleep(0)

        def start_writer(group: asyncio.TaskGroup) -> None:
            # The write starts now; the writer task only sees it through.
            nonlocal applying
            applying = True
            started = self._begin_apply(ctx, params, take_batch(), last=False)
            group.create_task(apply_due(started))

        async def stored_then_ready(done: ItemRecord, group: asyncio.TaskGroup) -> None:
            await self.save(items=[done])
            ready.append(done)
            if not applying and batch_due():
                start_writer(group)

        worker_count = min(self.task_type.concurrency(params), len(pending))
        if pending and reads_ahead:
            read_further()
            assert reading is not None
            await reading  # the first items are read before any worker asks for one
        if worker_count == 1:
            await worker(None)
        elif worker_count > 1:
            # A failure anywhere cancels the other workers; a batch write under way is shielded
            # and still finishes (the engine waits for it through ``applying``).
            try:
                async with asyncio.TaskGroup() as group:
                    for _ in range(worker_count):
                        group.create_task(worker(group))
            except BaseExceptionGroup as failed:  # the run fails with the first error itself
                raise failed.exceptions[0] from None
        while ready:
            batch = take_batch()
            await self._apply_shielded(ctx, params, batch, last=not ready)
        await self._stored()

    async def settled(self) -> None:
        """Wait for the batch write under way and the storing of the last written batch's
        outcomes, whatever became of them (the engine records the run's outcome after)."""
        while writes := [f for f in (self.applying, self.saving) if f is not None and not f.done()]:
            # A write that ends starts the storing of its outcomes: wait for that too.
            await asyncio.gather(*writes, return_exceptions=True)

    async def _stored(self) -> None:
        """Wait until the last written batch's outcomes are stored; raise if that failed."""
        saving = self.saving
        if saving is not None:
            await asyncio.shield(saving)  # left in ``saving`` while it runs: settled() sees it
            if self.saving is saving:
                self.saving = None

    async def _apply_shielded(
        self, ctx: TaskContext, params: Any, batch: list[ItemRecord], *, last: bool
    ) -> None:
        """Write a batch; once started it finishes and is recorded, even if the run is cancelled.

        In the run's own coroutine the write runs inline (no task, no shield: most of a small
        task's scheduling): a cancel asked meanwhile is held back (``Engine._cancel_run`` sees
        ``writing``) and taken here once the write is over. A worker of a TaskGroup, which the
        group cancels with the run, writes in a shielded task of its own."""
        if asyncio.current_task() is not self.owner:
            await self._end_apply(self._begin_apply(ctx, params, batch, last=last))
            return
        self.writing = True
        try:
            await self._apply(ctx, params, batch, last=last)
        except Exception:
            if not self.cancel_asked:
                raise
            # As a shielded write's failure after a cancel: the run unwinds, the error is moot.
        finally:
            self.writing = False
        if self.cancel_asked:
            raise asyncio.CancelledError

    def _begin_apply(
        self, ctx: TaskContext, params: Any, batch: list[ItemRecord], *, last: bool
    ) -> asyncio.Future[None]:
        """Start a batch write: once started it finishes and is recorded, even if the run is
        cancelled (the engine waits for ``applying`` before it records the outcome)."""
        self.applying = asyncio.ensure_future(self._apply(ctx, params, batch, last=last))
        return self.applying

    async def _end_apply(self, write: asyncio.Future[None]) -> None:
        await asyncio.shield(write)
        self.applying = None

    async def _obtain(
        self, ctx: TaskContext, params: Any, item: ItemRecord
    ) -> tuple[ItemRecord, bool] | None:
        """The item obtained and whether its result is stored before anything else happens to
        it (a costly result: a crash never repeats the call); None when the item failed."""
        item = self._set(item.evolve(status=ItemStatus.RUNNING))
        failures = 0
        started_s = time.perf_counter()
        while True:
            try:
                result = await self.task_type.obtain(ctx, params, item)
            except TransientError as exc:
                failures += 1
                if not self.policy.should_retry(failures):
                    await self._fail(item, exc, attempts=failures, retryable=True)
                    return None
                delay_s = self.policy.delay_s(failures, exc.retry_after_s, rng=self.rng)
                self.hooks.log(
                    "WARNING",
                    f"{item.label or item.key}: {describe_error(exc)}; retry {failures} in {delay_s:.1f}s",
                    self.task.task_id,
                )
                await self.clock.sleep(delay_s)
                continue
            except OutputUnwritable:
                raise  # no further item could be stored either: the task stops
            except (PermanentError, TavernError, ValueError, OSError) as exc:
                await self._fail(item, exc, attempts=failures + 1, retryable=False)
                return None
            obtained = self._set(
                item.evolve(
                    status=ItemStatus.OBTAINED,
                    attempts=item.attempts + failures + 1,
                    result=result,
                    error=None,
                    updated_at_ms=now_ms(),
                )
            )
            elapsed_s = time.perf_counter() - started_s
            return obtained, bool(failures or self.task_type.stored_before_apply(result, elapsed_s))

    async def _fail(
        self, item: ItemRecord, exc: BaseException, *, attempts: int, retryable: bool
    ) -> None:
        failed = self._set(
            item.evolve(
                status=ItemStatus.FAILED,
                attempts=item.attempts + attempts,
                error=describe_error(exc),
                retryable=retryable,
                updated_at_ms=now_ms(),
            )
        )
        self.hooks.log(
            "WARNING", f"{item.label or item.key} failed: {failed.error}", self.task.task_id
        )
        self._report()
        await self.save(items=[failed], tasks=[self.task])

    async def _apply(
        self, ctx: TaskContext, params: Any, batch: list[ItemRecord], *, last: bool
    ) -> None:
        self.hooks.check_database()
        try:
            outcomes: Sequence[ItemOutcome] = await self.task_type.apply(
                ctx, params, [(item, item.result or {}) for item in batch]
            )
        except (TavernError, ValueError, OSError) as exc:
            retryable = isinstance(exc, TransientError)
            outcomes = [
                ItemOutcome(item.key, ItemStatus.FAILED, describe_error(exc)) for item in batch
            ]
            self.hooks.log(
                "ERROR", f"writing a batch failed: {describe_error(exc)}", self.task.task_id
            )
        else:
            retryable = False
        by_key = {outcome.key: outcome for outcome in outcomes}
        stamp = now_ms()
        changed = []
        for item in batch:
            outcome = by_key.get(item.key)
            if outcome is None:
                outcome = ItemOutcome(
                    item.key, ItemStatus.FAILED, "the task type reported no outcome for this item"
                )
            failed = outcome.status is ItemStatus.FAILED
            changed.append(
                self._set(
                    item.evolve(
                        status=outcome.status,
                        error=outcome.error,
                        result=outcome.result if outcome.result is not None else item.result,
                        retryable=retryable and failed,
                        updated_at_ms=stamp,
                        # Only a failed item is worked again (retried): the values it first saw
                        # are of no use to any other, so its row does not keep them.
                        first_seen=item.first_seen if failed else None,
                    )
                )
            )
        self._report()  # every batch reports its progress, the last one too
        if last:
            # The engine stores these with the finished task, in one transaction. Should it crash
            # first, the items are applied again on resume; the journal's compare-and-set makes
            # that a no-op for writes made.
            self.unsaved.extend(changed)
            return
        # Stored while the next batch is written: once its rows are written a batch is safe to
        # lose (on resume the journal settles what it wrote). At most one is stored at a time.
        await self._stored()
        self.saving = asyncio.ensure_future(self.save(items=changed, tasks=[self.task]))
        self.saving.add_done_callback(_looked_at)
