"""The queue's `/` filter: a task is found by its database as by its id, type or status."""

from __future__ import annotations

from tui_updater.core.models import Priority, TaskRecord, TaskStatus
from tui_updater.tui.widgets.queue_table import task_matches


def task(task_id: str, database: str | None) -> TaskRecord:
    return TaskRecord(
        task_id, "MBTI_ASSIGNMENT", Priority.NORMAL, TaskStatus.PENDING, {}, 1, database=database
    )


def test_the_filter_finds_a_task_by_its_database() -> None:
    site_a = task("task_1", "/srv/siteA/prisma/dev.db")
    site_b = task("task_2", "/srv/siteB/prisma/dev.db")
    legacy = task("task_3", None)  # stored before tasks recorded their database
    assert [t.task_id for t in (site_a, site_b, legacy) if task_matches(t, "sitea")] == ["task_1"]
    assert [t.task_id for t in (site_a, site_b, legacy) if task_matches(t, "dev.db")] == [
        "task_1",
        "task_2",
    ]
    assert task_matches(legacy, "mbti") and task_matches(legacy, "")
