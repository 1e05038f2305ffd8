"""The characters browser from the keyboard: search, filters, marks, and a task for them."""

from __future__ import annotations

from typing import Any

from textual.widgets import Input

from tests.tui.conftest import SIZE, wait_for
from tests.tui.fake_service import FakeService, fixed_clock
from tui_updater.core.service import CharacterQuery
from tui_updater.runtime import Runtime
from tui_updater.tui.app import TavernApp
from tui_updater.tui.screens.characters import CharactersScreen
from tui_updater.tui.screens.confirm import ConfirmScreen
from tui_updater.tui.screens.form import TaskForm


async def _browser(pilot: Any, app: TavernApp) -> CharactersScreen:
    await pilot.press("c")
    await wait_for(
        pilot,
        lambda: isinstance(app.screen, CharactersScreen) and app.screen.page_data is not None,
        what="first page",
    )
    assert isinstance(app.screen, CharactersScreen)
    return app.screen


def _names(screen: CharactersScreen) -> list[str]:
    assert screen.page_data is not None
    return [row.name for row in screen.page_data.rows]


async def test_search_and_filters_narrow_the_table() -> None:
    app = TavernApp(FakeService(), clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _browser(pilot, app)
        assert screen.table.row_count == 41 and _names(screen) == sorted(_names(screen))
        await pilot.press("slash", *"lighthouse")
        await wait_for(pilot, lambda: screen.query_state.search == "lighthouse", what="search")
        await wait_for(pilot, lambda: screen.page_data.total < 41, what="searched page")  # type: ignore[union-attr]
        await pilot.press("enter")  # back to the table
        await pilot.press("1")
        await wait_for(
            pilot, lambda: screen.query_state.filters == ("missingAvatar",), what="filter"
        )
        await wait_for(
            pilot,
            lambda: all(not r.has_avatar for r in screen.page_data.rows),  # type: ignore[union-attr]
            what="only characters without an avatar",
        )
        filtered = screen.page_data
        assert filtered is not None and 0 < filtered.total < 41
        assert screen.table.row_count == len(filtered.rows)


async def test_marks_open_the_form_with_those_ids() -> None:
    app = TavernApp(FakeService(), clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _browser(pilot, app)
        first, second = (row.character_id for row in screen.page_data.rows[:2])  # type: ignore[union-attr]
        await pilot.press("space", "space")  # marks and moves down
        assert list(screen.marked) == [first, second]
        await pilot.press("space", "up", "space")  # marks the third, goes back, unmarks it
        assert list(screen.marked) == [first, second]
        await pilot.press("2", "t")  # no MBTI filter: the form opens on MBTI with the marks
        await wait_for(
            pilot, lambda: isinstance(app.screen, TaskForm) and bool(app.screen.specs), what="form"
        )
        form = app.screen
        assert isinstance(form, TaskForm) and form.type_name == "MBTI_ASSIGNMENT"
        ids = form.query_one("#field-characterIds", Input).value
        assert [part.strip() for part in ids.split(",")] == list(screen.marked)


async def test_mark_all_marks_every_filtered_character() -> None:
    service = FakeService()
    app = TavernApp(service, clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _browser(pilot, app)
        await pilot.press("1")
        await wait_for(
            pilot, lambda: screen.query_state.filters == ("missingAvatar",), what="filter"
        )
        await pilot.press("asterisk")
        expected = service.characters.ids(CharacterQuery(filters=("missingAvatar",)))
        await wait_for(pilot, lambda: len(screen.marked) == len(expected), what="all marked")
        assert set(screen.marked) == set(expected)


async def test_task_for_a_filter_lets_the_type_pick_its_candidates() -> None:
    service = FakeService()
    app = TavernApp(service, clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        await _browser(pilot, app)
        await pilot.press("2", "T")
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, TaskForm) and app.screen.preview_count is not None,
            what="form",
        )
        form = app.screen
        assert isinstance(form, TaskForm) and form.type_name == "MBTI_ASSIGNMENT"
        assert form.query_one("#field-characterIds", Input).value == ""
        await pilot.press("ctrl+s")  # every candidate: asked first
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="question")
        await pilot.press("y")
        await wait_for(
            pilot, lambda: any(c[0] == "submit" for c in service.calls), what="submitted"
        )


async def test_search_on_the_demo_database(runtime: Runtime) -> None:
    app = TavernApp(runtime.service)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _browser(pilot, app)
        page = screen.page_data
        assert page is not None and page.total == 41
        name = page.rows[3].name
        screen.query_one("#characters-search", Input).value = name
        await wait_for(
            pilot,
            lambda: screen.page_data is not None and screen.page_data.total < 41,
            what="searched",
        )
        assert name in _names(screen)
