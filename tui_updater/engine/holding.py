"""Whose a stored task is (core.binding), and the records of tasks that end without running here:
another database's task cancelled, or one whose database is gone."""

from __future__ import annotations

from tui_updater.core.binding import Belonging, DatabaseBinding
from tui_updater.core.events import EventType
from tui_updater.core.models import TaskRecord, TaskStatus, now_ms

TERMINAL_EVENTS = {
    TaskStatus.COMPLETED: EventType.TASK_COMPLETED,
    TaskStatus.FAILED: EventType.TASK_FAILED,
    TaskStatus.CANCELLED: EventType.TASK_CANCELLED,
}


def belonging(database: DatabaseBinding | None, task: TaskRecord) -> tuple[Belonging, str]:
    """An engine without a binding (tests of the engine alone) runs every task."""
    if database is None:
        return Belonging.HERE, ""
    return database.belonging(task)


def bound(database: DatabaseBinding | None, task: TaskRecord) -> TaskRecord:
    """The task tied to this database (new tasks, and ones stored before tasks were bound)."""
    if database is None:
        return task
    return task.evolve(database=database.path, database_identity=database.identity)


def ended(task: TaskRecord, status: TaskStatus, reason: str) -> TaskRecord:
    stamp = now_ms()
    return task.evolve(
        status=status,
        error=reason if status is TaskStatus.FAILED else task.error,
        message=reason,
        finished_at_ms=stamp,
        updated_at_ms=stamp,
    )
