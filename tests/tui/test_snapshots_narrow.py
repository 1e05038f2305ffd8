"""Snapshots at 80×24 (fixed data and clock): the queue with 5-digit item counts, the
characters browser with a filter and marks, the character view, and a task's change list."""

from __future__ import annotations

from typing import Any

import pytest

from tests.tui.conftest import wait_for
from tests.tui.fake_service import FakeService, fixed_clock
from tests.tui.test_queue_order import big_tasks
from tests.tui.test_task_changes import detail_ready
from tui_updater.tui.app import TavernApp
from tui_updater.tui.screens.character import CharacterScreen
from tui_updater.tui.screens.characters import CharactersScreen

NARROW = (80, 24)


pytestmark = pytest.mark.usefixtures("utc")  # tests/tui/conftest.py


def big_app() -> TavernApp:
    return TavernApp(FakeService(big_tasks()), clock=fixed_clock)


async def queue_shown(pilot: Any) -> None:
    app = pilot.app
    await wait_for(
        pilot, lambda: app.table.row_count == 4 and app.queue is not None, what="tasks shown"
    )
    await pilot.pause(0.1)


def test_queue_with_five_digit_counts(snap_compare: Any) -> None:
    assert snap_compare(big_app(), terminal_size=NARROW, run_before=queue_shown)


def test_characters_browser_filtered_and_marked(snap_compare: Any) -> None:
    async def browse(pilot: Any) -> None:
        await queue_shown(pilot)
        await pilot.press("c")
        await wait_for(
            pilot,
            lambda: (
                isinstance(pilot.app.screen, CharactersScreen)
                and pilot.app.screen.page_data is not None
                and pilot.app.screen.summary is not None
            ),
            what="browser",
        )
        screen = pilot.app.screen
        await pilot.press("1")
        await wait_for(
            pilot,
            lambda: screen.page_data.total == 20 and screen.table.row_count == 20,
            what="filtered",
        )
        await pilot.press("space", "space")
        await pilot.pause(0.1)

    assert snap_compare(big_app(), terminal_size=NARROW, run_before=browse)


def test_character_view_with_history(snap_compare: Any) -> None:
    async def view(pilot: Any) -> None:
        await queue_shown(pilot)
        await pilot.press("c")
        await wait_for(
            pilot,
            lambda: (
                isinstance(pilot.app.screen, CharactersScreen)
                and pilot.app.screen.page_data is not None
            ),
            what="browser",
        )
        pilot.app.screen.table.move_cursor(row=1)  # Aria, with two journaled changes
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: (
                isinstance(pilot.app.screen, CharacterScreen)
                and pilot.app.screen.detail is not None
            ),
            what="character view",
        )
        await pilot.pause(0.1)

    assert snap_compare(big_app(), terminal_size=NARROW, run_before=view)


def test_change_list_of_a_partly_reverted_task(snap_compare: Any) -> None:
    async def changes(pilot: Any) -> None:
        app = pilot.app
        await wait_for(pilot, lambda: app.table.row_count == 3, what="rows")
        app.table.move_cursor(row=app.table.get_row_index("task_1767229000000_0000000001"))
        await pilot.press("enter")
        await wait_for(pilot, lambda: detail_ready(app), what="detail")
        await pilot.press("w")
        await wait_for(pilot, lambda: app.screen.changes.table.row_count == 4, what="changes")
        await pilot.pause(0.1)

    app = TavernApp(FakeService(), clock=fixed_clock)
    assert snap_compare(app, terminal_size=NARROW, run_before=changes)
