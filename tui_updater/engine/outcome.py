"""How a run ends: its outcome decided (completed, failed, retried, cancelled) and stored.

Whatever goes wrong while storing an outcome (the disk is full, a record cannot be serialised)
ends the task FAILED with that reason and releases its waiters: a task never hangs half-ended.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from tui_updater.core.events import EventType
from tui_updater.core.models import ItemRecord, ItemStatus, TaskRecord, TaskStatus, now_ms
from tui_updater.engine.holding import TERMINAL_EVENTS
from tui_updater.engine.lifecycle import TaskSlot, TaskState
from tui_updater.engine.runner import TaskRun, count_items, describe_error

if TYPE_CHECKING:
    from tui_updater.engine.engine import Engine


def failure_reason(items: list[ItemRecord], total: int) -> str:
    """task_failed's error: the one failure's own message, or how many failed and the first."""
    failed = sorted((i for i in items if i.status is ItemStatus.FAILED), key=lambda i: i.seq)
    if not failed:
        return "failed"
    first = failed[0]
    reason = first.error or "failed"
    if len(failed) == 1:
        return reason
    return f"{len(failed)} of {total} items failed; first: {first.label or first.key}: {reason}"


class OutcomeRecorder:
    """Runs a slot's TaskRun to its end and stores what became of it, for one engine."""

    def __init__(self, engine: Engine):
        self._engine = engine

    async def run(self, slot: TaskSlot, run: TaskRun) -> None:
        """Execute the run, then record its outcome; never raises, always leaves the slot."""
        try:
            await self._execute_and_record(slot, run)
        except Exception as exc:  # storing the outcome failed: the task ends FAILED anyway
            await self._unrecorded(slot, exc)

    async def _execute_and_record(self, slot: TaskSlot, run: TaskRun) -> None:
        run.begun = True
        if slot.state is TaskState.CANCELLING or self._engine.stopping:
            await self._unwind(slot, run)  # stopped before it began: nothing ran
            return
        try:
            task = await run.execute()  # records RUNNING with its first write; announces itself
        except asyncio.CancelledError:
            current = asyncio.current_task()
            asked = run.cancel_asked or (current is not None and current.cancelling() > 0)
            if slot.state is TaskState.CANCELLING or asked:
                await self._unwind(slot, run)
                return
            exc: BaseException = asyncio.CancelledError("cancelled from inside the task type")
            await self._run_failed(slot, run, exc)  # nobody asked for it: the run failed
            return
        except Exception as failure:  # the task as a whole could not run (bad db, missing column…)
            await self._run_failed(slot, run, failure)
            return
        if slot.state is TaskState.CANCELLING:  # the task type swallowed the cancellation
            await self._unwind(slot, run)
            return
        slot.begin_recording()  # from here a cancel waits for the outcome to be stored
        if not task.counts.failed:
            waiting = task.review_pending  # a review-mode task says its proposals wait
            message = f"completed; {waiting} proposal(s) wait" if waiting else "completed"
            # The final fields ride on end()'s stamping evolve: one record, not two.
            await self.end(
                slot, task, run, status=TaskStatus.COMPLETED, message=message, progress=100.0
            )
            return
        failed_items = [i for i in run.items.values() if i.status is ItemStatus.FAILED]
        retryable = any(i.retryable for i in failed_items)
        if retryable and task.attempt < self._engine.settings.task_max_attempts:
            await self._schedule_retry(slot, run, task)
            return
        error = failure_reason(list(run.items.values()), task.counts.total)
        await self.end(slot, task.evolve(status=TaskStatus.FAILED, error=error, message=error), run)

    async def _run_failed(self, slot: TaskSlot, run: TaskRun, exc: BaseException) -> None:
        if slot.state is TaskState.RUNNING:
            slot.begin_recording()
        if not run.announced:  # keep the order created → started → failed
            run.announced = True
            self._engine.reporter.emit(EventType.TASK_STARTED, run.task)
        await run.settled()  # a batch write under way finishes and is recorded first
        if slot.state is TaskState.CANCELLING:
            cancelled = run.task.evolve(status=TaskStatus.CANCELLED, message="cancelled")
            await self.end(slot, cancelled, run)
            return
        reason = describe_error(exc)
        failed = run.task.evolve(status=TaskStatus.FAILED, error=reason, message=reason)
        await self.end(slot, failed, run)

    async def _unwind(self, slot: TaskSlot, run: TaskRun) -> None:
        """The run was cancelled: by a cancel (record CANCELLED) or by stop (resume later)."""
        engine = self._engine
        task_id = slot.task_id
        await run.settled()  # a batch write under way finishes and is recorded first
        if slot.state is TaskState.CANCELLING:
            await self.end(
                slot, run.task.evolve(status=TaskStatus.CANCELLED, message="cancelled"), run
            )
            return
        task = run.task.evolve(
            status=TaskStatus.PENDING,
            message="interrupted; resumes on next start",
            updated_at_ms=now_ms(),
        )
        try:
            items, new_items = run.writes(run.unsaved)
            await engine.store.save(tasks=[task], items=items, new_items=new_items)
        except Exception as exc:  # still stored RUNNING, which a restart resumes just the same
            engine.log(
                "ERROR",
                f"task {task_id}: the interruption was not stored: {describe_error(exc)}",
                task_id,
            )
        slot.interrupt(task, engine.table.index(task))
        engine.log("INFO", f"task {task_id} interrupted; it resumes on the next start", task_id)

    async def _schedule_retry(self, slot: TaskSlot, run: TaskRun, task: TaskRecord) -> None:
        engine = self._engine
        delay_s = engine.policy.delay_s(task.attempt, rng=engine.rng)
        # Stored as PENDING while it waits: get_task, cancel and a restart all see a task that is
        # queued, not one that is running with nothing behind it.
        waiting = task.evolve(
            status=TaskStatus.PENDING,
            message=f"transient failures; retrying in {delay_s:.1f}s",
            updated_at_ms=now_ms(),
        )
        items, new_items = run.writes(run.unsaved)
        await engine.store.save(items=items, tasks=[waiting], new_items=new_items)
        await engine.store.reset_items(task.task_id, [ItemStatus.FAILED], only_retryable=True)
        after_reset = [
            i.evolve(status=ItemStatus.PENDING)
            if i.status is ItemStatus.FAILED and i.retryable
            else i
            for i in run.items.values()
        ]
        timer = engine.spawn(self._retry_later(slot, delay_s, after_reset))
        slot.wait_retry(waiting, timer)

    async def _retry_later(self, slot: TaskSlot, delay_s: float, items: list[ItemRecord]) -> None:
        """Sleep out the retry delay (a cancel interrupts only this), then queue the task again."""
        engine = self._engine
        await engine.clock.sleep(delay_s)
        counts = count_items(items)
        task = slot.record.evolve(
            attempt=slot.record.attempt + 1,
            error=None,
            finished_at_ms=None,
            message="retrying failed items after transient errors",
            counts=counts,
            progress=counts.progress(),
            updated_at_ms=now_ms(),
        )
        slot.requeue(task, engine.table.index(task))
        engine.announce_retry(task)
        try:  # queued before any write of the new attempt's run, so it lands first
            await engine.store.save(tasks=[task])
        except Exception as exc:  # the run stores its record again when it starts
            engine.log(
                "WARNING",
                f"task {task.task_id}: could not store the retry: {describe_error(exc)}",
                task.task_id,
            )

    async def end(
        self, slot: TaskSlot, task: TaskRecord, run: TaskRun | None = None, **changes: Any
    ) -> None:
        """Store the task's final record (with the run's last outcomes, and ``changes`` to its
        fields), then finish the slot."""
        stamp = now_ms()
        task = task.evolve(finished_at_ms=stamp, updated_at_ms=stamp, **changes)
        items, new_items = run.writes(run.unsaved) if run is not None else ((), [])
        try:
            await self._engine.store.save(tasks=[task], items=items, new_items=new_items)
        except Exception as exc:
            task = await self._store_failure(task, exc, new_items)
        self._finish(slot, task)

    async def _unrecorded(self, slot: TaskSlot, exc: Exception) -> None:
        """Something raised outside ``end`` while the outcome was being stored."""
        if slot.state is TaskState.RUNNING:
            slot.begin_recording()
        if slot.state not in (TaskState.RECORDING, TaskState.CANCELLING):
            # Left its run already (an engine bug after the last transition): say so loudly.
            self._engine.log(
                "ERROR",
                f"task {slot.task_id}: error after its outcome was recorded: {describe_error(exc)}",
                slot.task_id,
            )
            return
        stamp = now_ms()
        failed = await self._store_failure(
            slot.record.evolve(finished_at_ms=stamp, updated_at_ms=stamp), exc
        )
        self._finish(slot, failed)

    async def _store_failure(
        self, task: TaskRecord, exc: Exception, new_items: list[ItemRecord] | None = None
    ) -> TaskRecord:
        """The outcome could not be stored: try to store FAILED with why, results left out.

        Items never stored before go in as PENDING, so a retry knows what the task covers.
        """
        reason = f"could not store the task's outcome: {describe_error(exc)}"
        failed = task.evolve(status=TaskStatus.FAILED, error=reason, message=reason, result=None)
        selected = [i.evolve(status=ItemStatus.PENDING, result=None) for i in new_items or ()]
        try:
            await self._engine.store.save(tasks=[failed], new_items=selected)
        except Exception as again:
            self._engine.log(
                "ERROR",
                f"task {task.task_id}: the failure could not be stored either: "
                f"{describe_error(again)}",
                task.task_id,
            )
        return failed

    def _finish(self, slot: TaskSlot, task: TaskRecord) -> None:
        engine = self._engine
        slot.finish(task)
        level = "ERROR" if task.status is TaskStatus.FAILED else "INFO"
        detail = f": {task.error}" if task.error else ""
        engine.log(level, f"task {task.status.value.lower()}: {task.task_id}{detail}", task.task_id)
        engine.reporter.terminal(TERMINAL_EVENTS[task.status], task)
