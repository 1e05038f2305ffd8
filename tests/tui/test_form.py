"""The new-task form from the keyboard: tab order, the SQL editor and when errors show."""

from __future__ import annotations

import asyncio

from textual.widgets import Input, Select, Switch, TextArea

from tests.tui.conftest import SIZE, text_of, wait_for
from tests.tui.fake_service import FakeService, fixed_clock
from tui_updater.tui.app import TavernApp
from tui_updater.tui.screens.form import TaskForm


async def _open_form(pilot, app: TavernApp, key: str) -> TaskForm:  # type: ignore[no-untyped-def]
    await pilot.press(key)
    await wait_for(
        pilot, lambda: isinstance(app.screen, TaskForm) and bool(app.screen.specs), what="form"
    )
    assert isinstance(app.screen, TaskForm)
    return app.screen


async def test_tab_leaves_the_sql_editor_and_no_stop_is_wasted() -> None:
    app = TavernApp(FakeService(), clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        form = await _open_form(pilot, app, "u")
        assert isinstance(form.focused, Select)
        await pilot.press("tab", "tab")  # priority, then straight into the first field
        assert isinstance(form.focused, TextArea)
        await pilot.press(*"SELECT 1;")
        await pilot.press("tab")
        assert isinstance(form.focused, Switch)
        assert form.query_one("#field-migrationScript", TextArea).text == "SELECT 1;"


async def test_required_field_is_not_marked_before_it_is_touched() -> None:
    app = TavernApp(FakeService(), clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        form = await _open_form(pilot, app, "u")
        await wait_for(
            pilot, lambda: "required fields" in text_of(form.query_one("#preview")), what="hint"
        )
        assert not form.query_one("#error-migrationScript").display
        await pilot.press("ctrl+s")
        await wait_for(
            pilot, lambda: form.query_one("#error-migrationScript").display, what="field error"
        )
        assert "migrationScript" in text_of(form.query_one("#form-status"))


async def test_typed_invalid_value_is_marked_live() -> None:
    app = TavernApp(FakeService(), clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        form = await _open_form(pilot, app, "m")
        form.query_one("#field-batchSize", Input).focus()
        await pilot.press("end", "backspace", "backspace", "0")
        await wait_for(
            pilot, lambda: form.query_one("#error-batchSize").display, what="live field error"
        )
        assert "fix the marked fields" in text_of(form.query_one("#preview"))


async def test_number_field_refuses_a_letter_after_many_digits_without_freezing() -> None:
    """Textual's own integer pattern backtracks exponentially here (40 digits: hours per key);
    the form's linear pattern refuses the letter at once and the next key still lands."""
    app = TavernApp(FakeService(), clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        form = await _open_form(pilot, app, "m")
        field = form.query_one("#field-batchSize", Input)
        field.focus()
        field.value = ""
        digits = "1234567890" * 4
        await pilot.press(*digits)

        async def letter_then_digit() -> None:
            await pilot.press("z", "7")

        await asyncio.wait_for(letter_then_digit(), timeout=30.0)
        assert field.value == digits + "7"
