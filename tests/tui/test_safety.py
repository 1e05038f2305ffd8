"""The prompts and hints that keep an operator from a mistake: every candidate, a live migration,
esc in a dropdown, revert or delete of a task that has not run, an empty queue."""

from __future__ import annotations

from textual.widgets import Input, Select, Static, Switch, TextArea

from tests.tui.conftest import SIZE, text_of, wait_for
from tests.tui.fake_service import FakeService, fixed_clock, sample_tasks
from tui_updater.core.models import Priority, TaskRecord, TaskStatus
from tui_updater.tui.app import EMPTY_QUEUE_HINT, TavernApp
from tui_updater.tui.screens.confirm import ConfirmScreen
from tui_updater.tui.screens.form import TaskForm


async def _form(pilot, app: TavernApp, key: str, *, counted: bool = True) -> TaskForm:  # type: ignore[no-untyped-def]
    await pilot.press(key)
    await wait_for(
        pilot,
        lambda: (
            isinstance(app.screen, TaskForm)
            and bool(app.screen.specs)
            and (app.screen.preview_count is not None or not counted)
        ),
        what="form",
    )
    assert isinstance(app.screen, TaskForm)
    return app.screen


def _submits(service: FakeService) -> list[tuple[str, object]]:
    return [c for c in service.calls if c[0] == "submit"]


async def test_every_candidate_asks_first_with_the_count() -> None:
    service = FakeService()
    app = TavernApp(service, clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        form = await _form(pilot, app, "m")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="question")
        assert "all 12 characters" in text_of(app.screen.query_one("#confirm-question"))
        await pilot.press("n")
        await wait_for(pilot, lambda: app.screen is form, what="back in the form")
        assert not _submits(service)
        assert "not confirmed" in text_of(form.query_one("#form-status"))
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="question")
        await pilot.press("y")
        await wait_for(pilot, lambda: bool(_submits(service)), what="submitted")
        assert not isinstance(app.screen, TaskForm | ConfirmScreen)


async def test_named_ids_start_without_a_question() -> None:
    service = FakeService()
    app = TavernApp(service, clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        form = await _form(pilot, app, "m")
        form.query_one("#field-characterIds", Input).value = "7"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: bool(_submits(service)), what="submitted")
        assert not isinstance(app.screen, ConfirmScreen)


async def test_live_migration_asks_and_a_dry_run_does_not() -> None:
    service = FakeService()
    app = TavernApp(service, clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        form = await _form(pilot, app, "u", counted=False)
        form.query_one("#field-migrationScript", TextArea).load_text("SELECT 1;")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="question")
        assert "live" in text_of(app.screen.query_one("#confirm-question"))
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is form, what="back in the form")
        form.query_one("#field-dryRun", Switch).value = True
        await wait_for(
            pilot, lambda: "on" in text_of(form.query_one("#state-dryRun", Static)), what="state"
        )
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: bool(_submits(service)), what="dry run submitted")
        assert _submits(service)[0][1][1]["dryRun"] is True


async def test_switch_says_its_state_in_words() -> None:
    app = TavernApp(FakeService(), clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        form = await _form(pilot, app, "u", counted=False)
        state = form.query_one("#state-dryRun", Static)
        assert "off" in text_of(state)
        form.query_one("#field-dryRun", Switch).toggle()
        await wait_for(pilot, lambda: "on" in text_of(state), what="on in words")


async def test_escape_in_an_open_dropdown_keeps_the_form_and_typed_ids() -> None:
    app = TavernApp(FakeService(), clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        form = await _form(pilot, app, "m")
        form.query_one("#field-characterIds", Input).value = "abc, def"
        priority = form.query_one("#priority", Select)
        priority.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: priority.expanded, what="dropdown open")
        await pilot.press("escape")
        await wait_for(pilot, lambda: not priority.expanded, what="dropdown closed")
        assert app.screen is form
        assert form.query_one("#field-characterIds", Input).value == "abc, def"
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, TaskForm), what="form left")


def _pending() -> TaskRecord:
    return TaskRecord(
        "task_1767229300000_0000000004",
        "MBTI_ASSIGNMENT",
        Priority.NORMAL,
        TaskStatus.PENDING,
        {},
        1_767_226_000_000,
    )


async def test_pending_task_offers_no_revert_and_delete_says_it_will_not_run() -> None:
    service = FakeService([_pending(), *sample_tasks()])
    app = TavernApp(service, clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.table.row_count == 4, what="rows")
        app.table.move_cursor(row=app.table.get_row_index(_pending().task_id))
        await pilot.press("v")
        await pilot.pause(0.2)
        assert not isinstance(app.screen, ConfirmScreen)
        assert not [c for c in service.calls if c[0] == "revert"]
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="question")
        question = text_of(app.screen.query_one("#confirm-question"))
        assert "has not started" in question and "still running" not in question


async def test_empty_queue_says_what_to_press() -> None:
    app = TavernApp(FakeService([]), clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        paging = app.query_one("#paging", Static)
        await wait_for(pilot, lambda: paging.display, what="hint")
        assert "No tasks yet" in text_of(paging) and "new task" in text_of(paging)
        assert "No tasks yet" in EMPTY_QUEUE_HINT
