"""One task's life inside the engine: its state, its asyncio task, its record, its finished event.

The engine keeps one ``TaskSlot`` per task it holds in memory. Every change of state goes
through one method per legal transition; anything else is a bug in the engine and raises
``IllegalTransition`` instead of leaving the task half in one state and half in another.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Callable
from typing import Any

from tui_updater.core.models import TaskRecord
from tui_updater.engine.runner import TaskRun


class TaskState(enum.Enum):
    """Where a task is in the engine (finer than the stored TaskStatus)."""

    QUEUED = "queued"  # waiting for a running slot (stored PENDING)
    RUNNING = "running"  # its run is obtaining and applying items
    CANCELLING = "cancelling"  # a cancel was asked; the run unwinds and records CANCELLED
    RECORDING = "recording"  # the run ended on its own; its outcome is being stored
    WAITING_RETRY = "waiting_retry"  # failed transiently; waits out the delay (stored PENDING)
    FINISHED = "finished"  # ended for good; the finished event is set

    # Members are singletons compared by identity: hash them the same way, in C. Enum's own
    # __hash__ is Python code, and every transition hashes states several times.
    __hash__ = object.__hash__

    @property
    def counts_as_running(self) -> bool:
        """Counted against max_running_tasks: a run coroutine is still at work."""
        return self in _RUNNING_STATES

    @property
    def pending(self) -> bool:
        return self is TaskState.QUEUED or self is TaskState.WAITING_RETRY


_RUNNING_STATES = frozenset({TaskState.RUNNING, TaskState.CANCELLING, TaskState.RECORDING})


class IllegalTransition(RuntimeError):
    """An engine bug: a transition was asked of a task in a state that does not allow it."""


Observer = Callable[["TaskSlot", TaskState, TaskState], None]


class TaskSlot:
    """The engine's state for one task; ``record`` is always its latest known record."""

    __slots__ = ("_finished", "_observer", "_record", "params", "queue_key", "run", "state", "task")

    def __init__(
        self,
        record: TaskRecord,
        *,
        params: Any = None,
        observer: Observer | None = None,
    ):
        self.state = TaskState.QUEUED
        self._record = record
        self.params = params  # parsed params of a task submitted here and never started
        self.run: TaskRun | None = None
        self.task: asyncio.Task[None] | None = None  # the run, or the retry timer while waiting
        # Made by the first waiter: most tasks are never waited for, and an Event is three
        # objects more per queued task for the cyclic collector to walk.
        self._finished: asyncio.Event | None = None
        self.queue_key: tuple[int, int] | None = None  # its live entry in the engine's heap
        self._observer = observer

    def __repr__(self) -> str:
        return f"TaskSlot({self._record.task_id}, {self.state.name})"

    @property
    def task_id(self) -> str:
        return self._record.task_id

    @property
    def record(self) -> TaskRecord:
        """The running attempt's in-memory record while there is one, else the last one set."""
        return self.run.task if self.run is not None else self._record

    async def wait_finished(self) -> None:
        """Return once the task has ended for good (at once if it has)."""
        if self.state is TaskState.FINISHED:
            return
        if self._finished is None:
            self._finished = asyncio.Event()
        await self._finished.wait()

    # --- transitions: one method each, legal only from the states TRANSITIONS lists ---------

    def start(self, run: TaskRun, task: asyncio.Task[None]) -> None:
        """A running slot was free and the run is under way."""
        self._move("start")
        self.run, self.task, self.params, self.queue_key = run, task, None, None

    def request_cancel(self) -> None:
        """A cancel was asked; the caller stops whatever is at work for the task."""
        self._move("request_cancel")
        self.queue_key = None

    def begin_recording(self) -> None:
        """The run ended by itself; from here a cancel waits for the outcome to be stored."""
        self._move("begin_recording")

    def wait_retry(self, record: TaskRecord, timer: asyncio.Task[None]) -> None:
        """Stored PENDING for an automatic retry; ``timer`` requeues it after the delay."""
        self._move("wait_retry")
        self._record, self.run, self.task = record, None, timer

    def requeue(self, record: TaskRecord, queue_key: tuple[int, int]) -> None:
        """The retry delay is over: back in the queue."""
        self._move("requeue")
        self._record, self.task, self.queue_key = record, None, queue_key

    def interrupt(self, record: TaskRecord, queue_key: tuple[int, int]) -> None:
        """The engine is stopping: stored PENDING, the task resumes on the next start."""
        self._move("interrupt")
        self._record, self.run, self.task, self.queue_key = record, None, None, queue_key

    def finish(self, record: TaskRecord) -> None:
        """Ended for good with ``record``; every waiter is released."""
        self._move("finish")
        self._record, self.run, self.task, self.queue_key = record, None, None, None
        if self._finished is not None:
            self._finished.set()

    def reprioritize(self, record: TaskRecord, queue_key: tuple[int, int] | None) -> None:
        """A new priority for a pending task; a queued one's old heap entry becomes stale."""
        self._move("reprioritize")
        self._record, self.queue_key = record, queue_key

    def _move(self, method: str) -> None:
        allowed = _ALLOWED[method]
        if self.state not in allowed:
            names = ", ".join(sorted(state.name for state in allowed))
            raise IllegalTransition(f"{method}: {self!r} is not in {names}")
        before, self.state = self.state, allowed[self.state]
        if self._observer is not None:
            self._observer(self, before, self.state)


# From-state, method, to-state: the whole life cycle (docs/ARCHITECTURE.md shows it).
TRANSITIONS: tuple[tuple[TaskState, str, TaskState], ...] = (
    (TaskState.QUEUED, "start", TaskState.RUNNING),
    (TaskState.QUEUED, "reprioritize", TaskState.QUEUED),
    (TaskState.QUEUED, "request_cancel", TaskState.CANCELLING),
    (TaskState.RUNNING, "request_cancel", TaskState.CANCELLING),
    (TaskState.RUNNING, "begin_recording", TaskState.RECORDING),
    (TaskState.RUNNING, "interrupt", TaskState.QUEUED),
    (TaskState.RECORDING, "wait_retry", TaskState.WAITING_RETRY),
    (TaskState.RECORDING, "finish", TaskState.FINISHED),
    (TaskState.CANCELLING, "finish", TaskState.FINISHED),
    (TaskState.WAITING_RETRY, "request_cancel", TaskState.CANCELLING),
    (TaskState.WAITING_RETRY, "requeue", TaskState.QUEUED),
    (TaskState.WAITING_RETRY, "reprioritize", TaskState.WAITING_RETRY),
)

_ALLOWED: dict[str, dict[TaskState, TaskState]] = {}
for _before, _method, _after in TRANSITIONS:
    _ALLOWED.setdefault(_method, {})[_before] = _after
