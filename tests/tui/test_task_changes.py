"""The task detail's change list (filters, search, paging, enter → character), REVERTED in the
queue and the detail, "apply this dry run for real", and the avatar preview following the cursor."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PIL import Image
from textual.widgets import DataTable, Input, Switch, TextArea

from tests.tui.conftest import SIZE, text_of, wait_for
from tests.tui.fake_service import T0_MS, FakeService, fixed_clock, sample_tasks
from tui_updater.core.changes import ChangeQuery, TaskChange, TaskChangePage
from tui_updater.core.models import (
    ItemCounts,
    ItemRecord,
    ItemStatus,
    Priority,
    TaskRecord,
    TaskStatus,
)
from tui_updater.tui.app import TavernApp
from tui_updater.tui.screens.character import CharacterScreen
from tui_updater.tui.screens.confirm import ConfirmScreen
from tui_updater.tui.screens.detail import DetailScreen
from tui_updater.tui.screens.form import TaskForm
from tui_updater.tui.widgets.change_list import ChangeList

MBTI_TASK = "task_1767229000000_0000000001"
AVATAR_TASK = "task_1767229100000_0000000002"
UPGRADE_TASK = "task_1767229300000_0000000004"
SCRIPT = "ALTER TABLE Character ADD COLUMN note TEXT;"


async def open_detail(pilot: Any, app: TavernApp, task_id: str, rows: int = 3) -> DetailScreen:
    await wait_for(pilot, lambda: app.table.row_count == rows, what="rows")
    app.table.move_cursor(row=app.table.get_row_index(task_id))
    await pilot.press("enter")
    await wait_for(pilot, lambda: detail_ready(app), what="detail")
    assert isinstance(app.screen, DetailScreen)
    return app.screen


def detail_ready(app: TavernApp) -> bool:
    """The detail screen is composed and its first page of changes arrived."""
    screen = app.screen
    return isinstance(screen, DetailScreen) and any(
        changes.page is not None for changes in screen.query(ChangeList)
    )


def names_shown(screen: DetailScreen) -> list[str]:
    table = screen.changes.table
    return [str(table.get_row_at(row)[0]) for row in range(table.row_count)]


async def test_change_list_filters_searches_and_opens_the_character() -> None:
    app = TavernApp(FakeService(), clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(pilot, app, MBTI_TASK)
        note = screen.query_one("#detail-revert-note")
        assert note.display and "partly reverted: 1 of 3" in text_of(note)
        await pilot.press("w")
        await wait_for(pilot, lambda: screen.changes.table.row_count == 4, what="changes")
        assert not screen.query_one("#detail-items").display
        assert names_shown(screen) == ["Aria", "Wren", "Yuri", "Abel"]
        await pilot.press("f")  # applied
        await wait_for(pilot, lambda: names_shown(screen) == ["Aria", "Wren"], what="applied")
        await pilot.press("f")  # reverted
        await wait_for(pilot, lambda: names_shown(screen) == ["Yuri"], what="reverted")
        await pilot.press("f", "f")  # conflict, then every state again
        await wait_for(pilot, lambda: screen.changes.table.row_count == 4, what="every state")
        await pilot.press("e")  # the one field the task changed
        await wait_for(pilot, lambda: screen.changes.query_state.field == "mbtiType", what="field")
        await pilot.press("slash")
        search = screen.query_one("#changes-search", Input)
        assert search.has_focus
        await pilot.press("x", "escape")  # esc closes the box, not the screen
        assert isinstance(app.screen, DetailScreen) and screen.changes.table.has_focus
        assert not search.display and search.value == ""
        await pilot.press("slash", *"wren", "enter")
        await wait_for(pilot, lambda: names_shown(screen) == ["Wren"], what="search")
        assert "“wren”" in text_of(screen.query_one("#changes-title"))
        assert screen.changes.table.has_focus
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, CharacterScreen) and app.screen.detail is not None,
            what="character view",
        )
        assert isinstance(app.screen, CharacterScreen) and app.screen.character_id == "c023"
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, what="back in the detail")
        assert screen.changes.table.has_focus
        await pilot.press("escape")  # from the change table esc leaves the detail
        await wait_for(pilot, lambda: app.screen is app.screen_stack[0], what="main screen")


async def test_reverted_task_reads_reverted_in_the_queue_and_the_detail() -> None:
    app = TavernApp(FakeService(), clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.table.row_count == 3, what="rows")
        assert str(app.table.get_cell(MBTI_TASK, "status")) == "COMPLETED"
        app.table.move_cursor(row=app.table.get_row_index(MBTI_TASK))
        await pilot.press("v")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="question")
        await pilot.press("y")
        await wait_for(
            pilot,
            lambda: str(app.table.get_cell(MBTI_TASK, "status")) == "REVERTED",
            what="REVERTED in the queue",
        )
        assert app.task_records[MBTI_TASK].status is TaskStatus.COMPLETED  # the run's status
        screen = await open_detail(pilot, app, MBTI_TASK)
        title = text_of(screen.summary.query_one("#summary-title"))
        assert "REVERTED (ran COMPLETED)" in title
        # a wholly reverted task needs no "partly" note
        assert not screen.query_one("#detail-revert-note").display


def upgrade_dry_run() -> TaskRecord:
    return TaskRecord(
        UPGRADE_TASK, "DATABASE_UPGRADE", Priority.HIGH, TaskStatus.COMPLETED,
        {"migrationScript": SCRIPT, "dryRun": True, "backupBeforeUpgrade": True}, T0_MS + 900_000,
        progress=100.0, message="dry run: 1 statement would run", result={"statementCount": 1},
        started_at_ms=T0_MS + 901_000, finished_at_ms=T0_MS + 902_000, counts=ItemCounts(1, 1, 0, 0),
    )  # fmt: skip


async def test_a_dry_run_offers_apply_for_real_with_the_live_confirmation() -> None:
    service = FakeService([upgrade_dry_run(), *sample_tasks()])
    app = TavernApp(service, clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        mbti = await open_detail(pilot, app, MBTI_TASK, rows=4)
        assert mbti.check_action("apply_dry_run", ()) is False  # not a dry run: not offered
        await pilot.press("A")
        await pilot.pause(0.2)
        assert isinstance(app.screen, DetailScreen)
        await pilot.press("escape")
        screen = await open_detail(pilot, app, UPGRADE_TASK, rows=4)
        assert screen.check_action("apply_dry_run", ()) is True
        await pilot.press("A")
        await wait_for(pilot, lambda: isinstance(app.screen, TaskForm), what="form")
        form = app.screen
        assert isinstance(form, TaskForm) and form.type_name == "DATABASE_UPGRADE"
        await wait_for(pilot, lambda: bool(form.specs), what="fields")
        assert form.query_one("#field-migrationScript", TextArea).text == SCRIPT
        assert form.query_one("#field-dryRun", Switch).value is False
        assert form.priority == "HIGH"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="live question")
        assert "live" in text_of(app.screen.query_one("#confirm-question"))
        await pilot.press("y")
        await wait_for(
            pilot, lambda: any(call[0] == "submit" for call in service.calls), what="submitted"
        )
    (type_name, data, priority), *_ = [c[1] for c in service.calls if c[0] == "submit"]
    assert type_name == "DATABASE_UPGRADE" and priority == "HIGH"
    assert data["migrationScript"] == SCRIPT and data["dryRun"] is False


class AvatarFiles(FakeService):
    """The avatar task's items and changes carry the PNG each one wrote."""

    def __init__(self, files: list[Path]) -> None:
        super().__init__()
        self.files = files

    async def list_items(self, task_id: str, **kwargs: Any) -> list[ItemRecord]:
        items = await super().list_items(task_id, **kwargs)
        if task_id != AVATAR_TASK:
            return items
        return [
            item.evolve(result={"file": str(self.files[item.seq % len(self.files)])})
            if item.status is ItemStatus.DONE
            else item
            for item in items
        ]

    async def task_changes(self, task_id: str, query: ChangeQuery) -> TaskChangePage:
        if task_id != AVATAR_TASK:
            return await super().task_changes(task_id, query)
        rows = tuple(
            TaskChange(10 + n, f"c{n}", f"Hero {n}", "avatar", None, f"/a/{file.name}", "applied",
                       T0_MS, str(file))
            for n, file in enumerate(self.files)
        )  # fmt: skip
        return TaskChangePage(rows, len(rows), 0, {"applied": len(rows)}, ("avatar",))


async def test_the_avatar_preview_follows_the_cursor(tmp_path: Path) -> None:
    files = []
    for n, colour in enumerate(("red", "blue", "green")):
        path = tmp_path / f"c{n}-avatar.png"
        Image.new("RGB", (8, 8), colour).save(path)
        files.append(path)
    app = TavernApp(AvatarFiles(files), clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(pilot, app, AVATAR_TASK)
        await wait_for(pilot, lambda: screen.summary.avatar_path == str(files[0]), what="first")
        items = screen.query_one("#detail-items", DataTable)
        items.focus()
        await pilot.press("down")
        await wait_for(pilot, lambda: screen.summary.avatar_path == str(files[1]), what="second")
        await pilot.press("w")
        await wait_for(pilot, lambda: screen.changes.table.row_count == 3, what="changes")
        await pilot.press("down", "down")
        await wait_for(pilot, lambda: screen.summary.avatar_path == str(files[2]), what="third")
