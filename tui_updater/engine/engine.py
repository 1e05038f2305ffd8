"""The engine: a durable priority queue of tasks with concurrency limits, retries and events.

State changes are decided here and recorded through the TaskStore. Each task the engine holds
has one TaskSlot (engine/lifecycle.py); how a run's outcome is stored is engine/outcome.py.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Coroutine, Mapping
from typing import Any, Protocol

from tui_updater.config import EngineSettings
from tui_updater.core.binding import Belonging, DatabaseBinding
from tui_updater.core.events import Event, EventType
from tui_updater.core.models import ItemStatus, Priority, TaskRecord, TaskStatus, now_ms
from tui_updater.core.retry import RetryPolicy
from tui_updater.core.store import TaskStore
from tui_updater.engine.bus import EventBus
from tui_updater.engine.clock import Clock, RealClock
from tui_updater.engine.holding import TERMINAL_EVENTS, belonging, bound, ended
from tui_updater.engine.ids import new_task_id
from tui_updater.engine.lifecycle import TaskSlot, TaskState
from tui_updater.engine.outcome import OutcomeRecorder
from tui_updater.engine.reporter import Reporter
from tui_updater.engine.runner import RunHooks, TaskRun, count_items, overrides
from tui_updater.engine.table import TaskTable
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
        database: DatabaseBinding | None = None,
    ):
        self.store = store
        self.database = database  # the character database this engine runs tasks against
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
        self.table = TaskTable(on_change=self._check_idle)  # the one place a task's state lives
        self._idle = asyncio.Event()
        self._idle.set()
        self._started = asyncio.Event()  # the stored unfinished tasks are in the table
        self._unpaused = asyncio.Event()
        self._unpaused.set()
        self._stopping = False
        self._background: set[asyncio.Task[Any]] = set()
        self.reporter = Reporter(
            self.bus, store, self.clock, is_running=self._is_running, spawn=self._spawn_quietly
        )
        self._outcomes = OutcomeRecorder(self)
        # What every run tells the engine: the same for all runs, built once.
        self._hooks = RunHooks(
            progress=self.reporter.progress,
            log=self.reporter.log,
            paused=self._runnable,
            is_paused=self._held_back,
            started=lambda task: self.reporter.emit(EventType.TASK_STARTED, task),
            check_database=self._check_database,
        )
        self._pruner: asyncio.Task[None] | None = None

    # --- life cycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Resume interrupted tasks, prune old ones, and begin scheduling."""
        if await self.store.get_state("paused") == "1":  # a pause outlives a restart
            self._unpaused.clear()
            self.log("INFO", "the queue is paused (as it was left); resume it to run tasks")
        unfinished = await self.store.unfinished_tasks()
        resumed = []
        held = 0
        for task in unfinished:
            belonging, reason = self._belonging(task)
            if belonging is Belonging.ELSEWHERE:
                held += 1  # another database's task: it waits, untouched, for its own engine
                continue
            if belonging is Belonging.LOST:
                await self._fail_lost(task, reason)
                continue
            if task.database is None and self.database is not None:
                task = self._bound(task)
                await self.store.save(tasks=[task])
            if task.status is TaskStatus.RUNNING:
                await self.store.reset_items(task.task_id, [ItemStatus.RUNNING])
                task = task.evolve(
                    status=TaskStatus.PENDING,
                    message="resuming after interruption",
                    updated_at_ms=now_ms(),
                )
                resumed.append(task)
            if self.table.get(task.task_id) is None:
                self.table.add(task)
        if resumed:
            await self.store.save(tasks=resumed)
            self.log("INFO", f"resuming {len(resumed)} interrupted task(s)")
        if held:
            self.log(
                "INFO",
                f"{held} unfinished task(s) belong to another character database; they run when the engine is started on it",
            )
        await self.prune()
        self._pruner = asyncio.create_task(self._prune_hourly())
        self._started.set()
        self._kick()

    def _belonging(self, task: TaskRecord) -> tuple[Belonging, str]:
        return belonging(self.database, task)

    def _bound(self, task: TaskRecord) -> TaskRecord:
        return bound(self.database, task)

    async def _fail_lost(self, task: TaskRecord, reason: str) -> None:
        await self._end_unheld(task, ended(task, TaskStatus.FAILED, reason))
        self.log("ERROR", f"task {task.task_id} failed: {reason}", task.task_id)

    async def _end_unheld(self, task: TaskRecord, end: TaskRecord) -> None:
        """Record the end of a task this engine does not hold (no run of it exists anywhere)."""
        await self.store.reset_items(task.task_id, [ItemStatus.RUNNING])
        await self.store.save(tasks=[end])
        self.reporter.terminal(TERMINAL_EVENTS[end.status], end)

    def _check_database(self) -> None:
        if self.database is not None:
            self.database.check()

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
        runs = [s.task for s in self.table if s.state.counts_as_running and s.task]
        for slot in self.table:
            # A run already being cancelled or recording its outcome finishes that first.
            if slot.state is TaskState.RUNNING:
                self._cancel_run(slot)
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
        return self.table.running_count

    @property
    def pending_count(self) -> int:
        return self.table.pending_count

    def live_task(self, task_id: str) -> TaskRecord | None:
        """The freshest in-memory record of a task the engine holds (progress not yet stored)."""
        slot = self.table.get(task_id)
        return slot.record if slot else None

    def live_items(self, task_id: str) -> dict[int, Any] | None:
        slot = self.table.get(task_id)
        return dict(slot.run.items) if slot and slot.run else None

    async def get_task(self, task_id: str) -> TaskRecord:
        live = self.live_task(task_id)
        if live is not None:
            return live
        task = await self.store.get_task(task_id)
        if task is None:
            raise TaskNotFound(task_id)
        return task

    async def _held(self, task_id: str) -> TaskSlot | TaskRecord:
        """The task's slot if the engine holds it, else its stored record (TaskNotFound if none).

        Before start() has taken in the stored unfinished tasks, a command on one waits for it.
        """
        while True:
            slot = self.table.get(task_id)
            if slot is not None:
                return slot
            task = await self.store.get_task(task_id)
            if task is None:
                raise TaskNotFound(task_id)
            slot = self.table.get(task_id)  # it may have been taken in during the read
            if slot is not None:
                return slot
            if task.status.finished or self._started.is_set():
                return task
            await self._started.wait()

    # --- commands -------------------------------------------------------------------------------

    def _type(self, type_name: str) -> TaskType[Any]:
        return self.registry.get(type_name)

    def _context(self, task_id: str) -> TaskContext:
        return TaskContext(
            task_id=task_id,
            resources=self.resources,
            log=lambda lvl, msg: self.log(lvl, msg, task_id),
        )

    async def count_work(self, type_name: str, data: Mapping[str, Any]) -> int:
        """How many items a task with these parameters would have now, counted (not loaded)."""
        task_type = self._type(type_name)
        params = task_type.parse_params(data)
        return await task_type.count(self._context("count"), params)

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
        level = _parse_priority(priority)
        params = task_type.parse_params(data)
        task_id = new_task_id()
        if overrides(task_type, "check"):
            await task_type.check(self._context(task_id), params)
        stamp = now_ms()
        task = self._bound(
            TaskRecord(
                task_id=task_id,
                type=task_type.name,
                priority=level,
                status=TaskStatus.PENDING,
                data=params.model_dump(mode="json", exclude_none=True),
                created_at_ms=stamp,
                updated_at_ms=stamp,
                message="queued",
            )
        )
        await self.store.save(tasks=[task])
        self.table.add(task, params=params)
        self.reporter.emit(EventType.TASK_CREATED, task)
        self.log(
            "INFO", f"created task {task_type.name} (ID: {task_id}, priority {level.name})", task_id
        )
        self._kick()
        return task

    async def set_priority(self, task_id: str, priority: object) -> TaskRecord:
        """Change a PENDING task's priority (and so its place in the queue); stored at once."""
        level = _parse_priority(priority)
        held = await self._held(task_id)
        if not isinstance(held, TaskSlot) or not held.state.pending:
            if isinstance(held, TaskSlot):
                cancelling = held.state is TaskState.CANCELLING
                now = "being cancelled" if cancelling else held.record.status.value
            else:
                now = held.status.value
            raise TaskStateError(f"only PENDING tasks can change priority; {task_id} is {now}")
        before = held.record.priority
        if level is before:
            return held.record
        task = held.record.evolve(priority=level, updated_at_ms=now_ms())
        key = None
        if held.state is TaskState.QUEUED:  # keeps its FIFO place among the new priority's tasks
            key = self.table.index(task, order=held.queue_key[1] if held.queue_key else None)
        held.reprioritize(task, key)
        await self.store.save(tasks=[task])
        self.log(
            "INFO", f"task {task_id}: priority set to {level.name} (was {before.name})", task_id
        )
        self._kick()
        return task

    async def cancel(self, task_id: str) -> TaskRecord:
        held = await self._held(task_id)
        if not isinstance(held, TaskSlot) and not held.status.finished:
            return await self._cancel_held(held)
        if not isinstance(held, TaskSlot):
            raise TaskStateError(f"task {task_id} is already {held.status.value}")
        slot = held
        while True:
            state = slot.state
            if state is TaskState.RUNNING:
                slot.request_cancel()
                self._cancel_run(slot)  # the run unwinds and records CANCELLED
            elif state.pending:
                timer = slot.task  # waiting out a retry delay: that retry must never happen
                slot.request_cancel()
                if timer is not None:
                    timer.cancel()
                    await asyncio.wait({timer})
                message = "cancelled before it started" if timer is None else "cancelled"
                await self._outcomes.end(
                    slot, slot.record.evolve(status=TaskStatus.CANCELLED, message=message)
                )
            elif state is TaskState.RECORDING and slot.task is not None:
                # It ended on its own and its outcome is being stored: let that finish (never
                # interrupt it half-way); a scheduled automatic retry is then cancelled.
                await asyncio.wait({slot.task})
                continue
            break  # CANCELLING (a second cancel waits for the first) or FINISHED
        await slot.wait_finished()
        return slot.record

    async def _cancel_held(self, task: TaskRecord) -> TaskRecord:
        """Cancel another database's unfinished task: this engine owns the state dir, so no
        process is running it; it is only recorded."""
        cancelled = ended(task, TaskStatus.CANCELLED, "cancelled")
        await self._end_unheld(task, cancelled)
        self.log("INFO", f"cancelled task {task.task_id} of {task.database}", task.task_id)
        return cancelled

    async def retry(self, task_id: str, data: Mapping[str, Any] | None = None) -> TaskRecord:
        """Rerun a FAILED or CANCELLED task's unfinished and failed items; ``data`` overrides
        some of its parameters (a new budget), validated as at submit."""
        task = await self.get_task(task_id)
        if task.status not in (TaskStatus.FAILED, TaskStatus.CANCELLED):
            raise TaskStateError(
                f"only FAILED or CANCELLED tasks can be retried; {task_id} is {task.status.value}"
            )
        belonging, reason = self._belonging(task)
        if belonging is not Belonging.HERE:
            raise TaskStateError(f"task {task_id} cannot be retried here: {reason}")
        if data:
            params = self._type(task.type).parse_params({**task.data, **data})
            task = task.evolve(data=params.model_dump(mode="json", exclude_none=True))
        reset = await self.store.reset_items(task_id, [ItemStatus.FAILED, ItemStatus.RUNNING])
        items = await self.store.list_items(task_id)
        counts = count_items(items) if items else task.counts
        message = f"retrying {reset} failed item(s) by request"
        task = task.evolve(
            status=TaskStatus.PENDING,
            attempt=task.attempt + 1,
            error=None,
            finished_at_ms=None,
            reverted_at_ms=None,  # the rerun writes again
            message=message,
            counts=counts,
            progress=counts.progress(),
            updated_at_ms=now_ms(),
        )
        if self.table.get(task_id) is not None:  # a concurrent retry got here first
            raise TaskStateError(f"task {task_id} is already queued again")
        await self.store.save(tasks=[task])
        self.table.add(task)
        self.announce_retry(task)
        return task

    def announce_retry(self, task: TaskRecord) -> None:
        """A task is queued again (by request or after transient failures): say so, schedule."""
        self.reporter.emit(EventType.TASK_RETRYING, task)
        self.log(
            "INFO", f"task {task.task_id}: {task.message} (attempt {task.attempt})", task.task_id
        )
        self._kick()

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
        self.reporter.terminal(EventType.TASK_DELETED, task.evolve(message="deleted"))
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
        # The status keeps how the run ended; the record says its writes were undone since.
        reverted = task.evolve(reverted_at_ms=now_ms(), updated_at_ms=now_ms())
        await self.store.save(tasks=[reverted])
        self.reporter.emit(EventType.TASK_PROGRESS, reverted)
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
        held = await self._held(task_id)
        if not isinstance(held, TaskSlot):
            return held  # finished (or not held by this engine: nothing will change it here)
        await held.wait_finished()
        return held.record

    async def wait_idle(self) -> None:
        """Wait until nothing is pending or running (tests, the one-shot command)."""
        await self._idle.wait()

    # --- scheduling -----------------------------------------------------------------------------

    def _check_idle(self) -> None:
        if len(self.table) or self._background:
            self._idle.clear()
        else:
            self._idle.set()

    def _is_running(self, task_id: str) -> bool:
        slot = self.table.get(task_id)
        return slot is not None and slot.state.counts_as_running

    def _kick(self) -> None:
        """Start queued tasks while running slots are free and the queue is not paused."""
        if not self._started.is_set() or self._stopping:
            return
        limit = self.settings.max_running_tasks
        while not self.paused and self.table.running_count < limit:
            slot = self.table.pop_queued()
            if slot is None:
                return
            self._launch(slot)

    def _launch(self, slot: TaskSlot) -> None:
        task = slot.record
        stamp = now_ms()
        task = task.evolve(
            status=TaskStatus.RUNNING,
            started_at_ms=task.started_at_ms or stamp,
            message="running",
            updated_at_ms=stamp,
        )
        run = TaskRun(
            task=task,
            task_type=self._type(task.type),
            store=self.store,
            resources=self.resources,
            policy=self.policy,
            clock=self.clock,
            hooks=self._hooks,
            rng=self.rng,
            fresh=slot.params is not None,
            params=slot.params,
        )
        slot.start(run, asyncio.create_task(self._run(slot, run)))

    def _held_back(self) -> bool:
        """Paused, or the database is held by a task that runs alone: no new items start."""
        return self.paused or (self.database is not None and self.database.held())

    async def _runnable(self) -> None:
        """Returns once items may start again (see ``_held_back``)."""
        while self._held_back():
            await self._unpaused.wait()
            if self.database is not None:
                await self.database.released()

    def _cancel_run(self, slot: TaskSlot) -> None:
        """Interrupt a slot's run; one whose coroutine has not begun checks the state first, and
        one writing a batch inline stops once the write is over (``TaskRun._apply_shielded``)."""
        run = slot.run
        if run is None or not run.begun or slot.task is None:
            return
        if run.writing:
            run.cancel_asked = True
        else:
            slot.task.cancel()

    async def _run(self, slot: TaskSlot, run: TaskRun) -> None:
        """Run a task and record how it ended; its slot is freed only once that is recorded."""
        try:
            await self._outcomes.run(slot, run)
        finally:
            self._kick()

    @property
    def stopping(self) -> bool:
        return self._stopping

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run a background coroutine the engine tracks: wait_idle waits for it, stop cancels it."""
        task = asyncio.create_task(coro)
        self._background.add(task)
        self._idle.clear()
        task.add_done_callback(self._background_done)
        return task

    def _spawn_quietly(self, coro: Coroutine[Any, Any, None]) -> None:
        self.spawn(coro)

    def _background_done(self, task: asyncio.Task[Any]) -> None:
        self._background.discard(task)
        self._check_idle()

    # --- events and logs ------------------------------------------------------------------------

    def log(self, level: str, message: str, task_id: str | None = None) -> None:
        """Record a log line (python logging, tasks.db, the event bus)."""
        self.reporter.log(level, message, task_id)

    async def flush_logs(self) -> None:
        await self.reporter.flush_logs()


def _parse_priority(priority: object) -> Priority:
    try:
        return Priority.parse(priority)
    except ValueError as exc:
        raise InvalidParameters("priority", str(exc)) from None
