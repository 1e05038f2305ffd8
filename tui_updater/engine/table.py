"""Every task the engine holds: one TaskSlot per id, with the queue order kept as an index.

The heap holds (-priority, FIFO order, id) entries for QUEUED slots. An entry whose key is no
longer its slot's ``queue_key`` (cancelled, reprioritised, started) is stale and skipped.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterator
from typing import Any

from tui_updater.core.models import TaskRecord
from tui_updater.engine.lifecycle import TaskSlot, TaskState


class TaskTable:
    """The engine's one mapping of task id to slot; a finished slot leaves it."""

    def __init__(self, on_change: Callable[[], None] = lambda: None):
        """``on_change`` is called when a slot is added or leaves (the table's size changed)."""
        self._slots: dict[str, TaskSlot] = {}
        self._heap: list[tuple[int, int, str]] = []
        self._order = itertools.count()
        self._census = dict.fromkeys(TaskState, 0)  # slots per state, for O(1) counts
        self._on_change = on_change
        self._observer = self._moved  # one bound method shared by every slot, not one each

    def __len__(self) -> int:
        return len(self._slots)

    def __iter__(self) -> Iterator[TaskSlot]:
        return iter(list(self._slots.values()))

    def get(self, task_id: str) -> TaskSlot | None:
        return self._slots.get(task_id)

    @property
    def running_count(self) -> int:
        """Slots holding a run: counted against max_running_tasks."""
        census = self._census
        return (
            census[TaskState.RUNNING] + census[TaskState.CANCELLING] + census[TaskState.RECORDING]
        )

    @property
    def pending_count(self) -> int:
        return self._census[TaskState.QUEUED] + self._census[TaskState.WAITING_RETRY]

    def add(self, task: TaskRecord, *, params: Any = None) -> TaskSlot:
        """Hold a PENDING task as a QUEUED slot, at its place in the queue."""
        slot = TaskSlot(task, params=params, observer=self._observer)
        slot.queue_key = self.index(task)
        self._slots[task.task_id] = slot
        self._census[TaskState.QUEUED] += 1
        self._on_change()
        return slot

    def index(self, task: TaskRecord, *, order: int | None = None) -> tuple[int, int]:
        """Push a heap entry for the task and return its key (the slot's new queue_key).

        ``order`` keeps an earlier FIFO place (a new priority); by default it goes last.
        """
        key = (-int(task.priority), next(self._order) if order is None else order)
        heapq.heappush(self._heap, (*key, task.task_id))
        return key

    def pop_queued(self) -> TaskSlot | None:
        """The highest-priority, oldest QUEUED slot, taken off the queue; None if none."""
        while self._heap:
            neg_priority, order, task_id = heapq.heappop(self._heap)
            slot = self._slots.get(task_id)
            if slot is not None and slot.queue_key == (neg_priority, order):
                return slot
        return None

    def _moved(self, slot: TaskSlot, before: TaskState, after: TaskState) -> None:
        self._census[before] -= 1
        self._census[after] += 1
        if after is TaskState.FINISHED:
            if self._slots.get(slot.task_id) is slot:
                del self._slots[slot.task_id]
            self._on_change()  # the only move that can leave the table empty
