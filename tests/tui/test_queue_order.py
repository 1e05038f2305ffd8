"""The queue at scale and under pause: running first, sort modes, whole counts at 80 columns."""

from __future__ import annotations

from typing import Any

from tests.tui.conftest import wait_for
from tests.tui.fake_service import FakeService, fixed_clock, sample_tasks
from tui_updater.core.models import ItemCounts, Priority, TaskRecord, TaskStatus
from tui_updater.tui.app import TavernApp
from tui_updater.tui.screens.confirm import ConfirmScreen

NARROW = (80, 24)


def big_tasks() -> list[TaskRecord]:
    """The sample tasks with 5-digit item counts, and a newer pending URGENT one."""
    tasks = [
        t.evolve(counts=ItemCounts(37500, 3750 * (i + 1), 12, 0))
        for i, t in enumerate(sample_tasks())
    ]
    pending = TaskRecord(
        "task_1767229300000_0000000004",
        "MBTI_ASSIGNMENT",
        Priority.URGENT,
        TaskStatus.PENDING,
        {},
        1_767_226_000_000,
        counts=ItemCounts(12345, 0, 0, 0),
    )
    return [pending, *tasks]


def row_ids(app: TavernApp) -> list[str]:
    table = app.table
    return [
        str(table.coordinate_to_cell_key((row, 0)).row_key.value) for row in range(table.row_count)
    ]


def screen_text(app: TavernApp) -> str:
    return "\n".join(
        "".join(segment.text for segment in strip)
        for strip in app.screen._compositor.render_strips()
    )


async def _shown(pilot: Any, app: TavernApp) -> None:
    await wait_for(pilot, lambda: app.table.row_count == 4 and app.queue is not None, what="rows")


async def test_running_first_then_newest_and_sort_modes() -> None:
    app = TavernApp(FakeService(big_tasks()), clock=fixed_clock)
    async with app.run_test(size=NARROW) as pilot:
        await _shown(pilot, app)
        running, failed, completed = (t.task_id for t in sample_tasks())
        pending = big_tasks()[0].task_id
        assert row_ids(app) == [running, pending, failed, completed]
        await pilot.press("o")
        assert app.table.sort_mode == "status"
        assert row_ids(app) == [running, failed, pending, completed]
        await pilot.press("o")
        assert app.table.sort_mode == "priority"
        assert row_ids(app)[:2] == [running, pending]  # HIGH but running, then URGENT


async def test_five_digit_counts_stay_whole_at_80_columns() -> None:
    app = TavernApp(FakeService(big_tasks()), clock=fixed_clock)
    async with app.run_test(size=NARROW) as pilot:
        await _shown(pilot, app)
        await pilot.pause(0.1)
        text = screen_text(app)
        for shown in ("3762/37500", "7512/37500", "11262/37500", "0/12345"):
            assert shown in text


async def test_pause_holds_running_tasks_visibly() -> None:
    app = TavernApp(FakeService(big_tasks()), clock=fixed_clock)
    async with app.run_test(size=NARROW) as pilot:
        await _shown(pilot, app)
        running = sample_tasks()[0].task_id
        row = app.table.get_row(running)
        assert "RUNNING" in str(row[2])
        await pilot.press("p")
        await wait_for(pilot, lambda: "PAUSED" in str(app.table.get_row(running)[2]), what="held")
        assert str(app.table.get_row(running)[6]) == "‖"
        await pilot.press("p")
        await wait_for(pilot, lambda: "RUNNING" in str(app.table.get_row(running)[2]), what="on")


async def test_marked_tasks_take_one_bulk_action_and_priority_changes() -> None:
    service = FakeService(big_tasks())
    app = TavernApp(service, clock=fixed_clock)
    async with app.run_test(size=NARROW) as pilot:
        await _shown(pilot, app)
        pending = big_tasks()[0].task_id
        failed = sample_tasks()[1].task_id
        app.table.move_cursor(row=app.table.get_row_index(pending))
        await pilot.press("plus")  # URGENT already: stays
        await pilot.press("minus")
        await wait_for(
            pilot, lambda: service.tasks[pending].priority is Priority.HIGH, what="lowered"
        )
        app.table.move_cursor(row=app.table.get_row_index(pending))
        await pilot.press("space")
        app.table.move_cursor(row=app.table.get_row_index(failed))
        await pilot.press("space")
        assert list(app.table.marked) == [pending, failed]
        assert "● " in str(app.table.get_row(pending)[0])
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="question")
        await pilot.press("y")
        await wait_for(pilot, lambda: not app.table.marked, what="done")
        assert service.tasks[pending].status is TaskStatus.CANCELLED
        assert service.tasks[failed].status is TaskStatus.FAILED  # a finished task: skipped
