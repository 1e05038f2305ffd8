"""RowTable: a cell written with ``set_row_cells`` reaches the screen, and only its row repaints."""

from __future__ import annotations

from typing import Any

from textual.app import App, ComposeResult

from tui_updater.tui.widgets.row_table import RowTable

ROWS = 40


class Table(App[None]):
    """A RowTable of ``rows`` rows: a name cell (``name_cell``) and a state cell."""

    rows = ROWS

    def name_cell(self, index: int) -> Any:
        return f"row {index:02d}"

    def compose(self) -> ComposeResult:
        yield RowTable(cursor_type="row")

    def on_mount(self) -> None:
        table = self.query_one(RowTable)
        table.add_column("Name", key="name", width=12)
        table.add_column("State", key="state", width=12)
        for index in range(self.rows):
            table.add_row(self.name_cell(index), "idle", key=f"r{index}")


async def settle(pilot: Any, table: RowTable) -> None:
    """Let focus and sizes settle, then paint every row once more: its renders are cached now."""
    await pilot.pause()
    table.refresh()
    await pilot.pause()


def lines(app: App[None]) -> list[str]:
    """What the terminal would get: the compositor's strips as text."""
    return [
        "".join(segment.text for segment in strip)
        for strip in app.screen._compositor.render_strips()
    ]


async def test_written_cells_reach_the_screen_and_other_rows_keep_theirs() -> None:
    app = Table()
    async with app.run_test(size=(40, 20)) as pilot:
        table = app.query_one(RowTable)
        await settle(pilot, table)
        assert any("row 03" in line and "idle" in line for line in lines(app))
        table.set_row_cells("r3", {"state": "busy 50%"})
        await pilot.pause()
        shown = lines(app)
        assert any("row 03" in line and "busy 50%" in line for line in shown)
        assert sum("busy" in line for line in shown) == 1
        assert sum("idle" in line for line in shown) >= 10
        assert str(table.get_cell("r3", "state")) == "busy 50%"
        # the same row again, and a move of the cursor over it: still the newest text
        table.set_row_cells("r3", {"state": "done", "name": "row three"})
        await pilot.press("down", "down", "down")
        shown = lines(app)
        assert any("row three" in line and "done" in line for line in shown)
        assert not any("busy" in line for line in shown)


async def test_a_sort_after_writes_shows_the_written_cells_in_the_new_order() -> None:
    app = Table()
    async with app.run_test(size=(40, 20)) as pilot:
        table = app.query_one(RowTable)
        await settle(pilot, table)
        table.set_row_cells("r0", {"name": "zz first"})
        await pilot.pause()
        table.sort("name", reverse=True)
        await pilot.pause()
        body = [line for line in lines(app) if "row" in line or "zz" in line]
        assert body[0].strip().startswith("zz first")


async def test_an_unknown_row_or_column_is_refused() -> None:
    app = Table()
    async with app.run_test(size=(40, 20)) as pilot:
        await pilot.pause()
        table = app.query_one(RowTable)
        for row, cells in (("nope", {"state": "x"}), ("r1", {"nope": "x"})):
            try:
                table.set_row_cells(row, cells)
            except KeyError:
                continue
            raise AssertionError(f"{row} {cells} was accepted")
