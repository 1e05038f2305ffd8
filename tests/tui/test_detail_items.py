"""The task detail's items: pages past the first 500, a state filter, a cursor that stays put."""

from __future__ import annotations

from typing import Any

from textual.widgets import DataTable

from tests.tui.conftest import SIZE, wait_for
from tests.tui.fake_service import FakeService, fixed_clock, sample_tasks
from tui_updater.core.models import ItemCounts, ItemStatus
from tui_updater.tui.app import TavernApp
from tui_updater.tui.screens.detail import ITEM_LIMIT, DetailScreen


def _service() -> FakeService:
    running, failed, completed = sample_tasks()
    return FakeService(
        [
            running.evolve(counts=ItemCounts(1200, 400, 0, 0)),
            failed.evolve(counts=ItemCounts(1200, 1199, 1, 0)),
            completed,
        ]
    )


async def _detail(pilot: Any, app: TavernApp, task_id: str) -> DetailScreen:
    await wait_for(pilot, lambda: app.table.row_count == 3, what="rows")
    app.table.move_cursor(row=app.table.get_row_index(task_id))
    await pilot.press("enter")
    await wait_for(
        pilot,
        lambda: isinstance(app.screen, DetailScreen) and bool(app.screen.items),
        what="items",
    )
    assert isinstance(app.screen, DetailScreen)
    return app.screen


async def test_failed_item_past_the_first_page_is_reachable() -> None:
    app = TavernApp(_service(), clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        failed_id = sample_tasks()[1].task_id
        screen = await _detail(pilot, app, failed_id)
        assert len(screen.items) == ITEM_LIMIT
        assert all(item.status is not ItemStatus.FAILED for item in screen.items)
        await pilot.press("right_square_bracket", "right_square_bracket")
        await wait_for(pilot, lambda: screen.item_offset == 2 * ITEM_LIMIT, what="third page")
        await wait_for(pilot, lambda: len(screen.items) == 200, what="last 200 items")
        assert screen.items[-1].status is ItemStatus.FAILED
        await pilot.press("f")  # FAILED only, from the start
        await wait_for(
            pilot,
            lambda: screen.item_filter == "FAILED" and len(screen.items) == 1,
            what="the failed item",
        )
        assert screen.items[0].seq == 1199 and screen.item_offset == 0


async def test_cursor_stays_on_its_item_while_the_task_runs() -> None:
    service = _service()
    app = TavernApp(service, clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        running = sample_tasks()[0]
        screen = await _detail(pilot, app, running.task_id)
        table = screen.query_one("#detail-items", DataTable)
        table.move_cursor(row=42)
        service.tasks[running.task_id] = running.evolve(counts=ItemCounts(1200, 450, 0, 0))
        screen.reload()
        await wait_for(
            pilot,
            lambda: screen.items[440].status is ItemStatus.DONE,
            what="fresher items",
        )
        assert table.cursor_row == 42
