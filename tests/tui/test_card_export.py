"""Exporting Character Cards from the browser: marked characters (or the filter's) → x → the
dialog → files, on the fake service and on the demo database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets import Input, RadioSet

from tests.cards.reader import card_of
from tests.tui.conftest import SIZE, wait_for
from tests.tui.fake_service import FakeService, fixed_clock
from tui_updater.runtime import Runtime
from tui_updater.tui.app import TavernApp
from tui_updater.tui.screens.card_export import CardExportDialog
from tui_updater.tui.screens.characters import CharactersScreen


async def _browser(pilot: Any, app: TavernApp) -> CharactersScreen:
    await pilot.press("c")
    await wait_for(
        pilot,
        lambda: isinstance(app.screen, CharactersScreen) and app.screen.page_data is not None,
        what="first page",
    )
    assert isinstance(app.screen, CharactersScreen)
    return app.screen


async def _dialog(pilot: Any, app: TavernApp) -> CardExportDialog:
    await pilot.press("x")
    await wait_for(pilot, lambda: isinstance(app.screen, CardExportDialog), what="dialog")
    assert isinstance(app.screen, CardExportDialog)
    return app.screen


async def test_marked_characters_are_exported_into_the_typed_folder() -> None:
    service = FakeService()
    app = TavernApp(service, clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _browser(pilot, app)
        await pilot.press("space", "space")
        marked = list(screen.marked)
        assert len(marked) == 2
        dialog = await _dialog(pilot, app)
        assert dialog.ids == marked
        dialog.query_one("#export-format", RadioSet).action_next_button()
        dialog.query_one("#export-format", RadioSet).action_toggle_button()
        await pilot.click("#export-directory")
        await pilot.press(*"picked", "enter")
        await wait_for(pilot, lambda: app.screen is screen, what="dialog closed")
        calls = [c for c in service.calls if c[0] == "export_cards"]
        assert calls == [("export_cards", (tuple(marked), "v2", "picked"))]


async def test_escape_exports_nothing() -> None:
    service = FakeService()
    app = TavernApp(service, clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _browser(pilot, app)
        await _dialog(pilot, app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, what="dialog closed")
        assert not [c for c in service.calls if c[0] == "export_cards"]


async def test_without_marks_the_filter_is_exported_from_the_demo_database(
    runtime: Runtime,
) -> None:
    app = TavernApp(runtime.service)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _browser(pilot, app)
        await pilot.press("2")  # no MBTI
        await wait_for(pilot, lambda: screen.query_state.filters == ("noMbti",), what="filter")
        ids = await runtime.service.character_ids(screen.query_state)
        dialog = await _dialog(pilot, app)
        assert dialog.ids == ids and "filter" in dialog.what
        app.screen.query_one("#export-directory", Input).value = "from-browser"
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is screen, what="exported")
    folder = runtime.settings.data_dir / "cards" / "from-browser"
    files = sorted(folder.glob("*.png"))
    assert len(files) == len(ids) > 0
    for file in files:
        assert (
            card_of(read(file), "ccv3")["data"]["extensions"]["tavernai_plus"]["mbtiType"] is None
        )


def read(path: Path) -> bytes:
    return path.read_bytes()
