"""The dashboard on the real demo runtime: every task type through the form, and each screen."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Input, Static, TextArea

from tests.tui.conftest import SIZE, text_of, wait_for
from tui_updater.core.models import TaskStatus
from tui_updater.runtime import Runtime
from tui_updater.tui.app import TavernApp
from tui_updater.tui.keys import KEYS
from tui_updater.tui.screens.backups import BackupsScreen
from tui_updater.tui.screens.characters import CharactersScreen
from tui_updater.tui.screens.confirm import ConfirmScreen
from tui_updater.tui.screens.detail import DetailScreen
from tui_updater.tui.screens.form import TaskForm
from tui_updater.tui.screens.help import HelpScreen
from tui_updater.tui.widgets.avatar import AvatarPreview
from tui_updater.tui.widgets.header import HeaderBar

MIGRATION = "ALTER TABLE Character ADD COLUMN nickname TEXT;"


def statuses(app: TavernApp) -> list[TaskStatus]:
    return [t.status for t in app.task_records.values()]


async def submit_through_form(pilot, app: TavernApp, key: str) -> str:
    """Open the form with ``key``, submit it, and return the new task's id."""
    await pilot.press(key)
    await wait_for(
        pilot, lambda: isinstance(app.screen, TaskForm) and bool(app.screen.specs), what="form"
    )
    form = app.screen
    assert isinstance(form, TaskForm)
    if form.type_name == "DATABASE_UPGRADE":
        form.query_one("#field-migrationScript", TextArea).load_text(MIGRATION)
    await wait_for(pilot, lambda: form.preview_count is not None, what="preview count")
    before = set(app.task_records)
    await pilot.press("ctrl+s")
    await wait_for(pilot, lambda: not isinstance(app.screen, TaskForm), what="form closed")
    if isinstance(app.screen, ConfirmScreen):  # every character, or a live migration: say yes
        await pilot.press("y")
        await wait_for(
            pilot, lambda: not isinstance(app.screen, ConfirmScreen | TaskForm), what="started"
        )
    await wait_for(pilot, lambda: bool(set(app.task_records) - before), what="task row")
    (task_id,) = set(app.task_records) - before
    return task_id


async def test_header_names_demo_database_and_offline_provider(runtime: Runtime) -> None:
    app = TavernApp(runtime.service)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.queue is not None, what="status")
        text = text_of(app.query_one(HeaderBar))
        assert "DEMO" in text and "dev.db" in text
        assert "offline" in text


@pytest.mark.parametrize(
    ("key", "type_name"),
    [
        ("m", "MBTI_ASSIGNMENT"),
        ("a", "CHARACTER_AVATAR"),
        ("s", "CHARACTER_SETTINGS"),
        ("u", "DATABASE_UPGRADE"),
    ],
)
async def test_each_type_created_through_form_completes(
    runtime: Runtime, key: str, type_name: str
) -> None:
    app = TavernApp(runtime.service)
    async with app.run_test(size=SIZE) as pilot:
        task_id = await submit_through_form(pilot, app, key)
        assert app.task_records[task_id].type == type_name
        await wait_for(
            pilot,
            lambda: app.task_records[task_id].status is TaskStatus.COMPLETED,
            timeout_s=20,
            what="completed",
        )
        table = app.query_one("#queue", DataTable)
        assert "COMPLETED" in str(table.get_cell(task_id, "status"))
        assert "100%" in str(table.get_cell(task_id, "progress"))


async def test_detail_shows_mbti_chart_and_avatar_preview(runtime: Runtime) -> None:
    app = TavernApp(runtime.service)
    async with app.run_test(size=SIZE) as pilot:
        mbti = await submit_through_form(pilot, app, "m")
        await wait_for(
            pilot,
            lambda: app.task_records[mbti].status is TaskStatus.COMPLETED,
            timeout_s=20,
            what="mbti done",
        )
        pane_result = app.query_one("#detail-pane #summary-result", Static)
        await wait_for(
            pilot, lambda: "MBTI distribution" in text_of(pane_result), what="chart in the pane"
        )
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen), what="detail")
        assert "MBTI distribution" in text_of(app.screen.query_one("#summary-result", Static))
        await pilot.press("escape")
        avatar = await submit_through_form(pilot, app, "a")
        await wait_for(
            pilot,
            lambda: app.task_records[avatar].status is TaskStatus.COMPLETED,
            timeout_s=20,
            what="avatar done",
        )
        pane_avatar = app.query_one("#detail-pane #summary-avatar", AvatarPreview)
        await wait_for(pilot, lambda: "▀" in text_of(pane_avatar), what="avatar in the pane")
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, DetailScreen) and bool(app.screen.items),
            what="items",
        )
        preview = app.screen.query_one(AvatarPreview)
        assert preview.display
        assert "▀" in text_of(preview)


async def test_invalid_input_is_refused_with_the_reason(runtime: Runtime) -> None:
    app = TavernApp(runtime.service)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("m")
        await wait_for(
            pilot, lambda: isinstance(app.screen, TaskForm) and bool(app.screen.specs), what="form"
        )
        form = app.screen
        form.query_one("#field-batchSize", Input).value = "0"
        await pilot.press("ctrl+s")
        await wait_for(
            pilot,
            lambda: "Not submitted" in text_of(form.query_one("#form-status", Static)),
            what="refusal",
        )
        assert "batchSize" in text_of(form.query_one("#form-status", Static))
        assert form.query_one("#error-batchSize", Static).display
        # a value only the engine can refuse: unknown character ids, shown next to the field
        form.query_one("#field-batchSize", Input).value = "5"
        form.query_one("#field-characterIds", Input).value = "no-such-id"
        await pilot.press("ctrl+s")
        await wait_for(
            pilot,
            lambda: "unknown ids" in text_of(form.query_one("#error-characterIds", Static)),
            what="field error",
        )
        assert isinstance(app.screen, TaskForm)
        assert not app.task_records


async def test_revert_asks_then_restores_the_characters(runtime: Runtime) -> None:
    app = TavernApp(runtime.service)
    async with app.run_test(size=SIZE) as pilot:
        task_id = await submit_through_form(pilot, app, "m")
        await wait_for(
            pilot,
            lambda: app.task_records[task_id].status is TaskStatus.COMPLETED,
            timeout_s=20,
            what="done",
        )
        assert (await runtime.service.characters_summary())["missing"]["mbtiType"] == 0
        await pilot.press("v")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        await pilot.press("y")
        await wait_for(
            pilot,
            lambda: any("reverted" in n.message for n in app._notifications),
            what="revert notice",
        )
        assert (await runtime.service.characters_summary())["missing"]["mbtiType"] == 20


async def test_characters_screen_shows_counts(runtime: Runtime) -> None:
    app = TavernApp(runtime.service)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("c")
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, CharactersScreen) and app.screen.summary is not None,
            what="summary",
        )
        title = text_of(app.screen.query_one("#characters-title", Static))
        assert "41 characters" in title
        await pilot.press("escape")
        assert not isinstance(app.screen, CharactersScreen)


async def test_backups_screen_restores_after_confirmation(runtime: Runtime) -> None:
    app = TavernApp(runtime.service)
    async with app.run_test(size=SIZE) as pilot:
        task_id = await submit_through_form(pilot, app, "u")
        await wait_for(
            pilot,
            lambda: app.task_records[task_id].status is TaskStatus.COMPLETED,
            timeout_s=20,
            what="upgrade",
        )
        await pilot.press("b")
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, BackupsScreen) and len(app.screen.backups) == 1,
            what="backups",
        )
        screen = app.screen
        name = screen.backups[0].name
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        await pilot.press("y")
        await wait_for(
            pilot,
            lambda: "restored from" in text_of(screen.query_one("#backups-status", Static)),
            what="restored",
        )
        assert name in text_of(screen.query_one("#backups-status", Static))
        # the restore first saved the current state: one more backup is listed
        await wait_for(pilot, lambda: len(screen.backups) == 2, what="safety backup listed")


async def test_help_lists_every_key(runtime: Runtime) -> None:
    app = TavernApp(runtime.service)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        shown = text_of(app.screen.query_one("#help-keys", Static))
        for spec in KEYS:
            assert spec.help in shown
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_palette_runs_actions(runtime: Runtime) -> None:
    app = TavernApp(runtime.service)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: bool(app.task_types), what="types")
        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        await pilot.press(*"Characters: browse")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: isinstance(app.screen, CharactersScreen), what="characters via palette"
        )
        await pilot.press("escape")
        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        await pilot.press(*"New task: MBTI")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TaskForm), what="form via palette")
        assert app.screen.type_name == "MBTI_ASSIGNMENT"
