"""The schedules screen and "schedule this" from the task form, driven with Pilot."""

from __future__ import annotations

from textual.widgets import DataTable, Input, Static

from tests.tui.conftest import SIZE, text_of, wait_for
from tests.tui.fake_service import FakeService, fixed_clock
from tui_updater.tui.app import TavernApp
from tui_updater.tui.screens.confirm import ConfirmScreen
from tui_updater.tui.screens.form import TaskForm
from tui_updater.tui.screens.schedules import SchedulesScreen, TriggerPrompt, trigger_fields


def test_trigger_text_is_a_watch_rule_or_a_cron():
    assert trigger_fields("every 5") == {"everyMinutes": 5}
    assert trigger_fields(" Every 15 min ") == {"everyMinutes": 15}
    assert trigger_fields("0 3 * * *") == {"cron": "0 3 * * *"}


async def test_schedule_from_the_form_then_switch_off_and_remove() -> None:
    service = FakeService()
    app = TavernApp(service, clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("m")
        await wait_for(
            pilot, lambda: isinstance(app.screen, TaskForm) and bool(app.screen.specs), what="form"
        )
        preview = app.screen.query_one("#preview", Static)
        await wait_for(pilot, lambda: "estimate:" in text_of(preview), what="estimate line")
        assert "12 candidates ×" in text_of(preview) and "(default)" in text_of(preview)

        await pilot.press("ctrl+t")
        await wait_for(pilot, lambda: isinstance(app.screen, TriggerPrompt), what="prompt")
        app.screen.query_one("#trigger-when", Input).value = "61 * * * *"
        await pilot.press("enter")
        status = app.screen.query_one("#trigger-status", Static)
        await wait_for(pilot, lambda: "cron" in text_of(status), what="bad cron refused")
        assert await service.list_schedules() == []

        app.screen.query_one("#trigger-when", Input).value = "every 5"
        app.screen.query_one("#trigger-budget", Input).value = "20,000"
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: not isinstance(app.screen, (TaskForm, TriggerPrompt)), what="closed"
        )
        (schedule,) = await service.list_schedules()
        assert (schedule.type, schedule.every_minutes, schedule.max_tokens) == (
            "MBTI_ASSIGNMENT",
            5,
            20_000,
        )

        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, SchedulesScreen), what="screen")
        table = app.screen.query_one("#schedules-table", DataTable)
        await wait_for(pilot, lambda: table.row_count == 1, what="row")
        assert "every 5 min" in str(table.get_cell(schedule.schedule_id, "trigger"))
        assert str(table.get_cell(schedule.schedule_id, "state")) == "on"

        await pilot.press("e")
        await wait_for(
            pilot,
            lambda: (
                table.row_count == 1 and str(table.get_cell(schedule.schedule_id, "state")) == "off"
            ),
            what="switched off",
        )
        assert not (await service.list_schedules())[0].enabled

        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        await pilot.press("n")  # not confirmed: kept
        await wait_for(pilot, lambda: isinstance(app.screen, SchedulesScreen), what="back")
        assert len(await service.list_schedules()) == 1
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        await pilot.press("y")
        await wait_for(pilot, lambda: table.row_count == 0, what="removed")
        assert await service.list_schedules() == []
