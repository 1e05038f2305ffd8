"""The engine: a durable priority queue of tasks with concurrency limits, retries and events.

State changes are decided here and recorded through the TaskStore; runs are TaskRun objects.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import random
from collections.abc import Mapping
from typing import Any, Protocol

from tui_updater.config import EngineSettings
from tui_updater.core.events import Event, EventType
from tui_updater.core.models import (
    ItemStatus,
    Priority,
    TaskRecord,
    TaskStatus,
    now_ms,
)
from tui_updater.core.retry import RetryPolicy
from tui_updater.core.store import TaskStore
from tui_updater.engine.bus import EventBus
from tui_updater.engine.clock import Clock, RealClock
from tui_updater.engine.ids import new_task_id
from tui_updater.engine.reporter import Reporter
from tui_updater.engine.runner import RunHooks, TaskRun, count_items, describe_error
from tui_updater.errors import InvalidParameters, TaskNotFound, TaskStateError
from tui_updater.tasks.base import TaskContext, TaskType

DAY_MS = 86_400_000


class TaskRegistry(Protocol):
    def get(self, name: str) -> TaskType[Any]: ...

    def names(self) -> list[str]: ...

    def aliases(self, name: str) -> list[str]: ...


class Engine:
    """Schedules tasks by priority (FIFO within one), runs them, and publishes what happens."""

    def __init__(
        self,
        store: TaskStore,
        registry: TaskRegistry,
        resources: Any,
        settings: EngineSettings | None = None,
        *,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        bus: EventBus | None = None,
    ):
        self.store = store
        self.registry = registry
        self.resources = resources
        self.settings = settings or EngineSettings()
        self.clock = clock or RealClock()
        self.rng = rng or random.Random()
        self.bus = bus or EventBus()
        self.policy = RetryPolicy(
            max_attempts=self.settings.item_max_attempts,
            base_delay_s=self.settings.retry_base_delay_s,
            max_delay_s=self.settings.retry_max_delay_s,
        )
        self._heap: list[tuple[int, int, str]] = []
        self._order = itertools.count()
        self._pending: dict[str, TaskRecord] = {}
        self._running: dict[str, tuple[asyncio.Task[None], TaskRun]] = {}
        self._cancelling: set[str] = set()
        self._recording: set[str] = set()  # runs whose outcome is being stored: not cancellable
        self._retrying: dict[str, asyncio.Task[None]] = {}  # waiting out an automatic retry delay
        self._finished: dict[str, asyncio.Event] = {}
        self._unpaused = asyncio.Event()
        self._unpaused.set()
        self._stopping = False
        self._started = False
        self._background: set[asyncio.Task[Any]] = set()
        self.reporter = Reporter(
            self.bus,
            store,
            self.clock,
            is_running=lambda task_id: task_id in self._running,
            spawn=self._spawn,
        )
        self._pruner: asyncio.Task[None] | None = None
        self._fresh: dict[str, Any] = {}  # submitted here, never started: params, nothing stored

    # --- life cycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Resume interrupted tasks, prune old ones, and begin scheduling."""
        if await self.store.get_state("paused") == "1":  # a pause outlives a restart
            self._unpaused.clear()
            self.log("INFO", "the queue is paused (as it was left); resume it to run tasks")
        unfinished = await self.store.unfinished_tasks()
        resumed = []
        for task in unfinished:
            if task.status is TaskStatus.RUNNING:
                await self.store.reset_items(task.task_id, [ItemStatus.RUNNING])
                task = task.evolve(
                    status=TaskStatus.PENDING,
                    message="resuming after interruption",
                    updated_at_ms=now_ms(),
                )
                resumed.append(task)
            self._enqueue(task)
        if resumed:
            await self.store.save(tasks=resumed)
            self.log("INFO", f"resuming {len(resumed)} interrupted task(s)")
        await self.prune()
        self._pruner = asyncio.create_task(self._prune_hourly())
        self._started = True
        self._kick()

    async def prune(self) -> int:
        """Delete finished tasks older than the retention period; return how many."""
        pruned = await self.store.prune(now_ms() - self.settings.retention_days * DAY_MS)
        if pruned:
            self.log(
                "INFO",
                f"pruned {pruned} finished task(s) older than {self.settings.retention_days} days",
            )
        return pruned

    async def _prune_hourly(self) -> None:
        while True:
            await asyncio.sleep(3600)
            await self.prune()

    async def stop(self) -> None:
        """Interrupt running tasks so they resume on the next start; flush logs."""
        self._stopping = True
        if self._pruner is not None:
            self._pruner.cancel()
        runs = [task for task, _ in self._running.values()]
        for task_id, (task, _) in list(self._running.items()):
            # A run already being cancelled or recording its outcome finishes that first.
            if task_id not in self._cancelling and task_id not in self._recording:
                task.cancel()
        if runs:
            await asyncio.wait(runs)
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        await self.reporter.stop()

    # --- queries --------------------------------------------------------------------------------

    @property
    def paused(self) -> bool:
        return not self._unpaused.is_set()

    @property
    def running_count(self) -> int:
        return len(self._running)

    @property
    def pending_count(self) -> int:
        return len(self._pending)

    def live_task(self, task_id: str) -> TaskRecord | None:
        """The freshest in-memory record of a running task (progress not yet persisted)."""
        run = self._running.get(task_id)
        return run[1].task if run else None

    def live_items(self, task_id: str) -> dict[int, Any] | None:
        run = self._running.get(task_id)
        return dict(run[1].items) if run else None

    async def get_task(self, task_id: str) -> TaskRecord:
        live = self.live_task(task_id)
        if live is not None:
            return live
        task = await self.store.get_task(task_id)
        if task is None:
            raise TaskNotFound(task_id)
        return task

    # --- commands -------------------------------------------------------------------------------

    def _type(self, type_name: str) -> TaskType[Any]:
        return self.registry.get(type_name)

    def _context(self, task_id: str) -> TaskContext:
        return TaskContext(
            task_id=task_id,
            resources=self.resources,
            log=lambda lvl, msg: self.log(lvl, msg, task_id),
        )

    async def preview(self, type_name: str, data: Mapping[str, Any]) -> int:
        """How many items a task with these parameters would work on now."""
        task_type = self._type(type_name)
        params = task_type.parse_params(data)
        ctx = self._context("preview")
        await task_type.check(ctx, params)
        return len(await task_type.select(ctx, params))

    async def submit(
        self, type_name: str, data: Mapping[str, Any] | None = None, priority: object = "NORMAL"
    ) -> TaskRecord:
        """Validate and queue a task; raise InvalidParameters / UnknownTaskType on bad input."""
        task_type = self._type(type_name)
        try:
            level = Priority.parse(priority)
        except ValueError as exc:
            raise InvalidParameters("priority", str(exc)) from None
        params = task_type.parse_params(data)
        task_id = new_task_id()
        await task_type.check(self._context(task_id), params)
        stamp = now_ms()
        task = TaskRecord(
            task_id=task_id,
            type=task_type.name,
            priority=level,
            status=TaskStatus.PENDING,
            data=params.model_dump(mode="json", exclude_none=True),
            created_at_ms=stamp,
            updated_at_ms=stamp,
            message="queued",
        )
        await self.store.save(tasks=[task])
        self._fresh[task_id] = params
        self._enqueue(task)
        self.reporter.emit(EventType.TASK_CREATED, task)
        self.log(
            "INFO", f"created task {task_type.name} (ID: {task_id}, priority {level.name})", task_id
        )
        self._kick()
        return task

    async def cancel(self, task_id: str) -> TaskRecord:
        task = await self.get_task(task_id)
        if task.status.finished:
            raise TaskStateError(f"task {task_id} is already {task.status.value}")
        if task_id in self._running:
            run_task, _ = self._running[task_id]
            if task_id in self._recording:
                # It ended on its own and its outcome is being stored: let that finish (never
                # interrupt it half-way); only a scheduled automatic retry is left to cancel.
                await asyncio.wait({run_task})
                if task_id not in self._retrying:
                    return await self.get_task(task_id)
            else:
                if task_id not in self._cancelling:  # a second cancel just waits for the first
                    self._cancelling.add(task_id)
                    run_task.cancel()
                await asyncio.wait({run_task})
                return await self.get_task(task_id)
        waiter = self._retrying.pop(task_id, None)
        if waiter is not None:  # waiting out a retry delay: that retry must never happen
            waiter.cancel()
            await asyncio.wait({waiter})
            task = await self.get_task(task_id)
        self._pending.pop(task_id, None)
        self._fresh.pop(task_id, None)
        task = task.evolve(
            status=TaskStatus.CANCELLED,
            message="cancelled before it started" if waiter is None else "cancelled",
            finished_at_ms=now_ms(),
            updated_at_ms=now_ms(),
        )
        await self.store.save(tasks=[task])
        self._terminal(EventType.TASK_CANCELLED, task)
        return task

    async def retry(self, task_id: str) -> TaskRecord:
        """Rerun a FAILED or CANCELLED task's unfinished and failed items."""
        task = await self.get_task(task_id)
        if task.status not in (TaskStatus.FAILED, TaskStatus.CANCELLED):
            raise TaskStateError(
                f"only FAILED or CANCELLED tasks can be retried; {task_id} is {task.status.value}"
            )
        reset = await self.store.reset_items(task_id, [ItemStatus.FAILED, ItemStatus.RUNNING])
        return await self._requeue(task, f"retrying {reset} failed item(s) by request")

    async def _requeue(self, task: TaskRecord, message: str) -> TaskRecord:
        items = await self.store.list_items(task.task_id)
        counts = count_items(items) if items else task.counts
        task = task.evolve(
            status=TaskStatus.PENDING,
            attempt=task.attempt + 1,
            error=None,
            finished_at_ms=None,
            message=message,
            counts=counts,
            progress=counts.progress(),
            updated_at_ms=now_ms(),
        )
        await self.store.save(tasks=[task])
        waiter = self._finished.get(task.task_id)
        if waiter is not None and waiter.is_set():  # finished before: later waiters wait afresh
            del self._finished[task.task_id]
        self._enqueue(task)
        self.reporter.emit(EventType.TASK_RETRYING, task)
        self.log("INFO", f"task {task.task_id}: {message} (attempt {task.attempt})", task.task_id)
        self._kick()
        return task

    async def set_priority(self, task_id: str, priority: object) -> TaskRecord:
        """Change a queued task's priority; it keeps its place among tasks of the new priority."""
        try:
            level = Priority.parse(priority)
        except ValueError as exc:
            raise InvalidParameters("priority", str(exc)) from None
        task = await self.get_task(task_id)
        if task_id not in self._pending or task_id in self._retrying or task_id in self._running:
            raise TaskStateError(
                f"only a queued task's priority can change; {task_id} is {task.status.value}"
            )
        # The queue changes before the await: the scheduler may start the task meanwhile, and
        # must then start it as changed, never from a stale heap entry.
        task = self._pending[task_id].evolve(priority=level, updated_at_ms=now_ms())
        self._pending[task_id] = task
        self._heap = [entry for entry in self._heap if entry[2] != task_id]
        heapq.heapify(self._heap)
        heapq.heappush(self._heap, (-int(level), next(self._order), task_id))
        await self.store.save(tasks=[task])
        self.log("INFO", f"task {task_id}: priority set to {level.name}", task_id)
        return task

    async def delete(self, task_id: str) -> None:
        task = await self.get_task(task_id)
        if not task.status.finished:
            await self.cancel(task_id)
        # Its buffered log lines would land after the delete as orphans: drop them, and let every
        # write queued so far commit first (delete_task does not wait for queued writes).
        self.reporter.drop_logs(task_id)
        await self.reporter.flush_logs()
        await self.store.get_task(task_id)  # a read waits for every queued write to commit
        await self.store.delete_task(task_id)
        self._pending.pop(task_id, None)
        self._terminal(EventType.TASK_DELETED, task.evolve(message="deleted"))
        self.log("INFO", f"deleted task {task_id}")

    async def revert(self, task_id: str) -> dict[str, Any]:
        task = await self.get_task(task_id)
        if not task.status.finished:
            raise TaskStateError(
                f"task {task_id} is {task.status.value}; cancel it before reverting"
            )
        task_type = self._type(task.type)
        ctx = self._context(task_id)
        ctx.result = task.result
        report = await task_type.revert(ctx, task_type.parse_params(task.data))
        skipped = report.get("skipped") or []
        detail = f"; {len(skipped)} skipped (changed since the task wrote them)" if skipped else ""
        self.log(
            "INFO",
            f"reverted task {task_id}: {report.get('reverted', 0)} change(s) undone{detail}",
            task_id,
        )
        return report

    async def pause(self) -> None:
        if self.paused:
            return
        self._unpaused.clear()
        await self.store.set_state("paused", "1")
        self.bus.publish(Event(EventType.QUEUE_PAUSED, message="queue paused"))
        self.log(
            "INFO", "queue paused: running tasks finish their in-flight items, nothing new starts"
        )

    async def resume(self) -> None:
        if not self.paused:
            return
        self._unpaused.set()
        await self.store.set_state("paused", "0")
        self.bus.publish(Event(EventType.QUEUE_RESUMED, message="queue resumed"))
        self.log("INFO", "queue resumed")
        self._kick()

    async def wait(self, task_id: str) -> TaskRecord:
        """Wait until the task is finished for good (after any automatic retries)."""
        task = await self.get_task(task_id)
        event = self._finished.setdefault(task_id, asyncio.Event())
        if task.status.finished and task_id not in self._pending and task_id not in self._running:
            return task
        await event.wait()
        stored = await self.store.get_task(task_id)
        return stored or task

    async def wait_idle(self) -> None:
        """Wait until nothing is pending or running (tests, the one-shot command)."""
        while self._pending or self._running or self._background:  # noqa: ASYNC110 (state spans several collections)
            await asyncio.sleep(0.01)

    # --- scheduling -----------------------------------------------------------------------------

    def _enqueue(self, task: TaskRecord) -> None:
        self._pending[task.task_id] = task
        heapq.heappush(self._heap, (-int(task.priority), next(self._order), task.task_id))

    def _kick(self) -> None:
        if not self._started or self._stopping:
            return
        while (
            self._heap and not self.paused and len(self._running) < self.settings.max_running_tasks
        ):
            _, _, task_id = heapq.heappop(self._heap)
            task = self._pending.pop(task_id, None)
            if task is None or task_id in self._running:
                continue
            run = TaskRun(
                task=task,
                task_type=self._type(task.type),
                store=self.store,
                resources=self.resources,
                policy=self.policy,
                clock=self.clock,
                hooks=RunHooks(
                    progress=self.reporter.progress,
                    log=self.log,
                    paused=self._unpaused.wait,
                    is_paused=lambda: self.paused,
                    started=lambda task: self.reporter.emit(EventType.TASK_STARTED, task),
                ),
                rng=self.rng,
                fresh=task_id in self._fresh,
                params=self._fresh.pop(task_id, None),
            )
            self._running[task_id] = (asyncio.create_task(self._run(run)), run)

    async def _run(self, run: TaskRun) -> None:
        """Run a task and record how it ended; its slot is freed only once that is recorded."""
        try:
            await self._run_and_record(run)
        finally:
            self._running.pop(run.task.task_id, None)
            self._recording.discard(run.task.task_id)
            self._cancelling.discard(run.task.task_id)
            self._kick()

    async def _run_and_record(self, run: TaskRun) -> None:
        task_id = run.task.task_id
        stamp = now_ms()
        run.task = run.task.evolve(
            status=TaskStatus.RUNNING,
            started_at_ms=run.task.started_at_ms or stamp,
            message="running",
            updated_at_ms=stamp,
        )
        try:
            task = await run.execute()  # records RUNNING with its first write; announces itself
        except asyncio.CancelledError:
            await self._interrupted(run)
            return
        except Exception as exc:  # the task as a whole could not run (bad db, missing column…)
            if not run.announced:  # keep the order created → started → failed
                run.announced = True
                self.reporter.emit(EventType.TASK_STARTED, run.task)
            self._recording.add(task_id)
            if run.applying is not None:  # a batch write under way finishes and is recorded first
                await asyncio.gather(run.applying, return_exceptions=True)
            failed = run.task.evolve(
                status=TaskStatus.FAILED, error=describe_error(exc), message=describe_error(exc)
            )
            await self._finish(failed, run)
            return
        self._recording.add(task_id)  # from here a cancel waits for the outcome to be stored
        if task.counts.failed:
            retryable = any(
                i.retryable for i in run.items.values() if i.status is ItemStatus.FAILED
            )
            if retryable and task.attempt < self.settings.task_max_attempts:
                delay_s = self.policy.delay_s(task.attempt, rng=self.rng)
                # Stored as PENDING while it waits: get_task, cancel and a restart all see a task
                # that is queued, not one that is running with nothing behind it.
                task = task.evolve(
                    status=TaskStatus.PENDING,
                    message=f"transient failures; retrying in {delay_s:.1f}s",
                    updated_at_ms=now_ms(),
                )
                await self.store.save(
                    items=run.unsaved, tasks=[task], new_items=run.take_new_items()
                )
                await self.store.reset_items(task_id, [ItemStatus.FAILED], only_retryable=True)
                self._pending[task_id] = task  # visible as pending while it waits
                waiter = asyncio.create_task(self._retry_later(task, delay_s))
                self._retrying[task_id] = waiter
                self._background.add(waiter)
                waiter.add_done_callback(self._background.discard)
                return
            error = f"{task.counts.failed} of {task.counts.total} item(s) failed"
            await self._finish(
                task.evolve(status=TaskStatus.FAILED, error=error, message=error), run
            )
        else:
            await self._finish(
                task.evolve(status=TaskStatus.COMPLETED, message="completed", progress=100.0), run
            )

    async def _retry_later(self, task: TaskRecord, delay_s: float) -> None:
        try:
            await self.clock.sleep(delay_s)
            self._pending.pop(task.task_id, None)
            await self._requeue(task, "retrying failed items after transient errors")
        finally:
            if self._retrying.get(task.task_id) is asyncio.current_task():
                del self._retrying[task.task_id]

    async def _interrupted(self, run: TaskRun) -> None:
        task_id = run.task.task_id
        if run.applying is not None:  # a write already under way finishes and is recorded first
            await asyncio.gather(run.applying, return_exceptions=True)
        if task_id in self._cancelling:  # kept until the run ends: a second cancel only waits
            await self._finish(
                run.task.evolve(status=TaskStatus.CANCELLED, message="cancelled"), run
            )
        else:
            task = run.task.evolve(
                status=TaskStatus.PENDING,
                message="interrupted; resumes on next start",
                updated_at_ms=now_ms(),
            )
            await self.store.save(tasks=[task], items=run.unsaved, new_items=run.take_new_items())
            self.log("INFO", f"task {task_id} interrupted; it resumes on the next start", task_id)

    async def _finish(self, task: TaskRecord, run: TaskRun | None = None) -> None:
        stamp = now_ms()
        task = task.evolve(finished_at_ms=stamp, updated_at_ms=stamp)
        if run is None:
            await self.store.save(tasks=[task])
        else:
            await self.store.save(tasks=[task], items=run.unsaved, new_items=run.take_new_items())
        kind = {
            TaskStatus.COMPLETED: EventType.TASK_COMPLETED,
            TaskStatus.FAILED: EventType.TASK_FAILED,
            TaskStatus.CANCELLED: EventType.TASK_CANCELLED,
        }[task.status]
        level = "ERROR" if task.status is TaskStatus.FAILED else "INFO"
        detail = f": {task.error}" if task.error else ""
        self.log(level, f"task {task.status.value.lower()}: {task.task_id}{detail}", task.task_id)
        self._terminal(kind, task)

    def _terminal(self, kind: EventType, task: TaskRecord) -> None:
        self.reporter.terminal(kind, task)
        self._finished.setdefault(task.task_id, asyncio.Event()).set()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # --- events and logs ------------------------------------------------------------------------

    def log(self, level: str, message: str, task_id: str | None = None) -> None:
        """Record a log line (python logging, tasks.db, the event bus)."""
        self.reporter.log(level, message, task_id)

    async def flush_logs(self) -> None:
        await self.reporter.flush_logs()
