"""The character view: fields, history after two tasks, revert of one change, from the browser
and from a task's item."""

from __future__ import annotations

import sqlite3
from typing import Any

from textual.widgets import DataTable, Input

from tests.tui.conftest import SIZE, wait_for
from tests.tui.fake_service import FakeService, fixed_clock
from tui_updater.core.models import TaskStatus
from tui_updater.core.service import CharacterQuery
from tui_updater.runtime import Runtime
from tui_updater.tui.app import TavernApp
from tui_updater.tui.screens.character import CharacterScreen
from tui_updater.tui.screens.characters import CharactersScreen
from tui_updater.tui.screens.confirm import ConfirmScreen
from tui_updater.tui.screens.detail import DetailScreen
from tui_updater.tui.screens.form import TaskForm


def _view(app: TavernApp) -> CharacterScreen | None:
    screen = app.screen
    return screen if isinstance(screen, CharacterScreen) and screen.detail is not None else None


async def _open_from_browser(pilot: Any, app: TavernApp, row: int) -> CharacterScreen:
    await pilot.press("c")
    await wait_for(
        pilot,
        lambda: isinstance(app.screen, CharactersScreen) and app.screen.page_data is not None,
        what="browser",
    )
    browser = app.screen
    assert isinstance(browser, CharactersScreen)
    browser.table.move_cursor(row=row)
    await pilot.press("enter")
    await wait_for(pilot, lambda: _view(app) is not None, what="character view")
    view = _view(app)
    assert view is not None
    return view


async def test_history_shows_both_changes_and_one_reverts() -> None:
    service = FakeService()
    app = TavernApp(service, clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        view = await _open_from_browser(pilot, app, 1)  # Aria (c001), sorted by name
        assert view.detail is not None and view.detail.character_id == "c001"
        history = view.query_one("#character-history", DataTable)
        assert history.row_count == 2
        newest = view.detail.history[0]
        assert newest.column == "scenario"  # newest first
        await pilot.press("v")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="question")
        await pilot.press("y")
        await wait_for(
            pilot,
            lambda: _view(app) is not None and _view(app).detail.history[0].state == "reverted",  # type: ignore[union-attr]
            what="reverted",
        )
        assert ("revert_change", newest.entry_id) in service.calls
        assert service.characters.by_id["c001"]["scenario"] is None
        await pilot.press("v")  # reverted already: nothing asked, nothing called
        await pilot.pause(0.2)
        assert not isinstance(app.screen, ConfirmScreen)
        assert [c for c in service.calls if c[0] == "revert_change"] == [
            ("revert_change", newest.entry_id)
        ]


async def _run_for(pilot: Any, app: TavernApp, key: str, character_id: str) -> None:
    """Open the form with ``key``, run it for one character, wait until it completes."""
    await pilot.press(key)
    await wait_for(
        pilot, lambda: isinstance(app.screen, TaskForm) and bool(app.screen.specs), what="form"
    )
    form = app.screen
    assert isinstance(form, TaskForm)
    form.query_one("#field-characterIds", Input).value = character_id
    before = set(app.task_records)
    await pilot.press("ctrl+s")
    await wait_for(pilot, lambda: bool(set(app.task_records) - before), what="task")
    (task_id,) = set(app.task_records) - before
    await wait_for(
        pilot,
        lambda: app.task_records[task_id].status is TaskStatus.COMPLETED,
        timeout_s=30,
        what="task done",
    )


async def test_two_tasks_then_revert_one_change_on_the_demo(runtime: Runtime) -> None:
    app = TavernApp(runtime.service)
    async with app.run_test(size=SIZE) as pilot:
        page = await runtime.service.list_characters(CharacterQuery(filters=("noMbti",), limit=1))
        target = page.rows[0].character_id
        for key in ("m", "s"):
            await _run_for(pilot, app, key, target)
        detail = await runtime.service.character(target)
        assert {entry.task_id for entry in detail.history} == set(app.task_records)
        mbti_entry = next(e for e in detail.history if e.column == "mbtiType")
        assert mbti_entry.old_value is None and mbti_entry.new_value
        # from the MBTI task's item to the character, then revert the MBTI change only
        mbti_task = mbti_entry.task_id
        app.table.move_cursor(row=app.table.get_row_index(mbti_task))
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, DetailScreen) and bool(app.screen.items),
            what="items",
        )
        app.screen.query_one("#detail-items", DataTable).focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: _view(app) is not None, what="character view")
        view = _view(app)
        assert view is not None and view.character_id == target
        table = view.query_one("#character-history", DataTable)
        row = [str(e.entry_id) for e in view.detail.history].index(str(mbti_entry.entry_id))  # type: ignore[union-attr]
        table.move_cursor(row=row)
        await pilot.press("v")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="question")
        await pilot.press("y")
        await wait_for(
            pilot,
            lambda: (
                _view(app) is not None
                and any(
                    e.entry_id == mbti_entry.entry_id and e.state == "reverted"
                    for e in _view(app).detail.history  # type: ignore[union-attr]
                )
            ),
            what="reverted",
        )
    with sqlite3.connect(runtime.settings.db_path) as conn:
        (mbti,) = conn.execute(
            'SELECT "mbtiType" FROM "Character" WHERE id = ?', (target,)
        ).fetchone()
    assert mbti is None  # the MBTI change is undone
    after = await runtime.service.character(target)
    others = [e for e in after.history if e.column != "mbtiType"]
    assert others and all(e.state == "applied" for e in others)  # the settings change stays
