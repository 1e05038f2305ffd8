"""Snapshots of the main screen, form, detail, characters, backups and help (fixed data and clock)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.tui.conftest import wait_for
from tests.tui.fake_service import FakeService, fixed_clock
from tui_updater.tui.app import TavernApp
from tui_updater.tui.screens.detail import DetailScreen
from tui_updater.tui.screens.form import TaskForm

SIZE = (120, 40)


pytestmark = pytest.mark.usefixtures("utc")  # tests/tui/conftest.py


def make_app() -> TavernApp:
    return TavernApp(FakeService(), clock=fixed_clock)


async def settle(pilot: Any) -> None:
    await wait_for(
        pilot,
        lambda: pilot.app.table.row_count == 3 and pilot.app.queue is not None,
        what="tasks shown",
    )
    await wait_for(
        pilot,
        lambda: pilot.app.query_one("#detail-pane").task_id == pilot.app.table.selected_task_id,
        what="the detail pane",
    )
    await pilot.pause(0.1)


def test_main_screen(snap_compare: Any) -> None:
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=settle)


def test_main_screen_pane_shows_mbti_result(snap_compare: Any) -> None:
    async def highlight_mbti(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press("down", "down")
        await wait_for(
            pilot,
            lambda: pilot.app.query_one("#detail-pane").task_id == "task_1767229000000_0000000001",
            what="pane",
        )
        await pilot.pause(0.1)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=highlight_mbti)


def test_task_form(snap_compare: Any) -> None:
    async def open_form(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press("s")
        await pilot.pause(0.6)
        await wait_for(
            pilot,
            lambda: isinstance(pilot.app.screen, TaskForm) and pilot.app.screen.preview_count == 12,
            what="preview",
        )
        await pilot.pause(0.1)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=open_form)


def test_task_detail(snap_compare: Any) -> None:
    async def open_detail(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press("down", "down", "enter")
        await wait_for(
            pilot,
            lambda: isinstance(pilot.app.screen, DetailScreen) and len(pilot.app.screen.items) == 6,
            what="items",
        )
        await pilot.pause(0.1)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=open_detail)


def test_characters_screen(snap_compare: Any) -> None:
    async def open_characters(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press("c")
        await wait_for(
            pilot,
            lambda: (
                getattr(pilot.app.screen, "summary", None) is not None
                and getattr(pilot.app.screen, "page_data", None) is not None
            ),
            what="summary and the first page",
        )
        await pilot.pause(0.1)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=open_characters)


def test_backups_screen(snap_compare: Any) -> None:
    async def open_backups(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press("b")
        await wait_for(
            pilot, lambda: len(getattr(pilot.app.screen, "backups", [])) == 2, what="backups"
        )
        await pilot.pause(0.1)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=open_backups)


def test_help_screen(snap_compare: Any) -> None:
    assert snap_compare(make_app(), terminal_size=SIZE, press=["question_mark"], run_before=settle)
