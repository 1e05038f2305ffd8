"""What a frame costs under a stream of updates: text of the same height repaints without a
screen layout, a growing log lays nothing out, a written cell is the only one rendered again,
ages are refreshed a slice at a time, and the start-up heap is frozen once the queue is shown."""

from __future__ import annotations

import gc
from typing import Any

from rich.console import Console, ConsoleOptions, RenderResult
from rich.text import Text
from textual.app import App, ComposeResult

from tests.tui.conftest import wait_for
from tests.tui.fake_service import FakeService, sample_tasks
from tests.tui.test_row_table import Table as PlainTable
from tui_updater.tui.app import TavernApp
from tui_updater.tui.widgets.log_pane import LogPane
from tui_updater.tui.widgets.row_table import RowTable
from tui_updater.tui.widgets.steady import SteadyStatic


class Steady(App[None]):
    def compose(self) -> ComposeResult:
        yield SteadyStatic("one line", id="steady")
        yield LogPane(id="log-pane")


def layout_pending(app: App[Any]) -> bool:
    """Whether any widget asked for a layout since the last one ran."""
    return any(node._layout_required for node in (app.screen, *app.screen.walk_children()))


async def test_same_height_text_repaints_without_a_layout_and_taller_text_lays_out() -> None:
    app = Steady()
    async with app.run_test(size=(40, 30)) as pilot:
        await pilot.pause()
        steady = app.query_one(SteadyStatic)
        assert steady.size.height == 1
        steady.show_text("another line")
        assert not layout_pending(app)
        await pilot.pause()
        assert "another line" in str(steady.render())
        steady.show_text("first\nsecond\nthird")
        assert layout_pending(app)
        await pilot.pause()
        assert steady.size.height == 3


async def test_a_growing_log_lays_nothing_out_and_shows_its_newest_line() -> None:
    app = Steady()
    async with app.run_test(size=(40, 30)) as pilot:
        await pilot.pause()
        pane = app.query_one(LogPane)
        pane.add([(None, "first line")])
        await pilot.pause()  # the first line may show the scrollbar's gutter: laid out here
        for batch in range(5):
            pane.add([(None, f"line {batch}.{index}") for index in range(20)])
            assert not layout_pending(app)
            await pilot.pause()
        shown = "\n".join(
            "".join(segment.text for segment in strip)
            for strip in app.screen._compositor.render_strips()
        )
        assert "line 4.19" in shown
        assert "first line" not in shown  # scrolled to the end
        assert app.query_one("#log").show_vertical_scrollbar


class CountedText(Text):
    """A cell value that counts how often Rich renders it."""

    renders = 0

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        CountedText.renders += 1
        yield from super().__rich_console__(console, options)


class Table(PlainTable):
    rows = 10

    def name_cell(self, index: int) -> Any:
        return CountedText(f"row {index}")


async def test_a_written_cell_is_the_only_cell_rendered_again() -> None:
    app = Table()
    async with app.run_test(size=(40, 20)) as pilot:
        table = app.query_one(RowTable)
        await pilot.pause()
        table.refresh()  # every row painted once more, after focus and sizes settled
        await pilot.pause()
        CountedText.renders = 0
        table.set_row_cells("r3", {"state": "busy"})
        await pilot.pause()
        assert CountedText.renders == 0  # the row's name cell kept its render
        assert "busy" in "".join(
            segment.text for strip in app.screen._compositor.render_strips() for segment in strip
        )
        table.set_row_cells("r3", {"name": CountedText("row three")})
        await pilot.pause()
        assert CountedText.renders == 1


async def test_ages_are_refreshed_a_slice_at_a_time_and_all_within_a_period() -> None:
    now = [sample_tasks()[0].created_at_ms + 5_000]
    app = TavernApp(FakeService(sample_tasks()), clock=lambda: now[0])
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.table
        await wait_for(pilot, lambda: table.row_count == 3, what="rows")
        ages = {task_id: table._drawn[task_id]["age"] for task_id in table._shown}
        now[0] += 3_600_000  # every age moves on by an hour
        table.refresh_ages(3)
        changed = [t for t in ages if table._drawn[t]["age"] != ages[t]]
        assert len(changed) == 1
        table.refresh_ages(3)
        table.refresh_ages(3)
        assert all(table._drawn[t]["age"] != ages[t] for t in ages)


async def test_the_heap_is_frozen_once_the_queue_is_shown() -> None:
    gc.unfreeze()
    app = TavernApp(FakeService(sample_tasks()))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.table.row_count == 3, what="rows")
        await wait_for(pilot, lambda: gc.get_freeze_count() > 0, what="a frozen heap")
