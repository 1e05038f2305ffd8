"""Dashboard behaviour with an in-memory service: resync, paging, form errors, remote header."""

from __future__ import annotations

from textual.widgets import Input, Select, SelectionList

from tests.tui.conftest import SIZE, text_of, wait_for
from tests.tui.fake_service import NOW_MS, FakeService, fixed_clock
from tui_updater.core.events import Event, EventType
from tui_updater.core.models import Priority, TaskRecord, TaskStatus
from tui_updater.tui.app import TavernApp
from tui_updater.tui.screens.form import TaskForm
from tui_updater.tui.widgets.detail_pane import DetailPane
from tui_updater.tui.widgets.header import HeaderBar
from tui_updater.tui.widgets.queue_table import MAX_ROWS


async def test_overflow_resyncs_from_the_task_list() -> None:
    service = FakeService(overflow_first=True)
    app = TavernApp(service, clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.resyncs == 1 and app.table.row_count == 3, what="resync")
        assert service.subscriptions == 2


async def test_events_update_rows_in_place() -> None:
    running = TaskRecord(
        "task_1767229400000_0000000009",
        "MBTI_ASSIGNMENT",
        Priority.NORMAL,
        TaskStatus.COMPLETED,
        {},
        NOW_MS,
        progress=100.0,
    )
    events = [
        Event(EventType.TASK_COMPLETED, task_id=running.task_id, task=running.to_json()),
        Event(EventType.QUEUE_PAUSED),
    ]
    service = FakeService(events=events)
    app = TavernApp(service, clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.table.row_count == 4, what="event row")
        assert "COMPLETED" in str(app.table.get_cell(running.task_id, "status"))
        assert app.table.selected_task_id == running.task_id or app.table.row_count == 4
        assert app.paused


async def test_thousands_of_tasks_are_paged() -> None:
    tasks = [
        TaskRecord(
            f"task_{1767220000000 + i}_{i:010x}",
            "MBTI_ASSIGNMENT",
            Priority.LOW,
            TaskStatus.COMPLETED,
            {},
            1767220000000 + i,  # ids are time-ordered: the newest id is the newest task
        )
        for i in range(MAX_ROWS + 200)
    ]
    app = TavernApp(FakeService(tasks), clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(
            pilot, lambda: app.table.row_count == MAX_ROWS and app.queue is not None, what="rows"
        )
        await pilot.pause(0.3)
        assert f"{MAX_ROWS} newest of {MAX_ROWS + 200}" in text_of(app.query_one("#paging"))
        await pilot.press("down", "down")
        assert app.table.cursor_row == 2


async def test_form_submits_typed_values_and_priority() -> None:
    service = FakeService()
    app = TavernApp(service, clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("s")
        await wait_for(
            pilot, lambda: isinstance(app.screen, TaskForm) and bool(app.screen.specs), what="form"
        )
        form = app.screen
        form.query_one("#priority", Select).value = "URGENT"
        form.query_one("#field-characterIds", Input).value = "7, abc"
        form.query_one("#field-updateFields", SelectionList).deselect("scenario")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, TaskForm), what="submitted")
        (call,) = [c for c in service.calls if c[0] == "submit"]
        type_name, data, priority = call[1]
        assert type_name == "CHARACTER_SETTINGS" and priority == "URGENT"
        assert data["characterIds"] == ["7", "abc"]  # text: the id column decides numbers
        assert "scenario" not in data["updateFields"] and "fullDescription" in data["updateFields"]


async def test_preview_errors_appear_next_to_the_field() -> None:
    service = FakeService()
    app = TavernApp(service, clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("m")
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, TaskForm) and app.screen.preview_count == 12,
            what="preview",
        )
        form = app.screen
        assert "would touch 12 characters" in text_of(form.query_one("#preview"))
        form.query_one("#field-characterIds", Input).value = "nobody"
        await wait_for(
            pilot,
            lambda: "unknown ids" in text_of(form.query_one("#error-characterIds")),
            what="field error",
        )
        await pilot.press("escape")
        assert not isinstance(app.screen, TaskForm)
        assert not [c for c in service.calls if c[0] == "submit"]


async def test_empty_field_selection_is_refused() -> None:
    service = FakeService()
    app = TavernApp(service, clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("s")
        await wait_for(
            pilot,
            lambda: (
                isinstance(app.screen, TaskForm)
                and bool(app.screen.specs)
                and bool(app.screen.query("#field-updateFields"))
            ),
            what="form with its fields",
        )
        form = app.screen
        form.query_one("#field-updateFields", SelectionList).deselect_all()
        await pilot.press("ctrl+s")
        await wait_for(
            pilot,
            lambda: "Not submitted" in text_of(form.query_one("#form-status")),
            what="refusal",
        )
        assert "updateFields" in text_of(form.query_one("#form-status"))
        assert isinstance(app.screen, TaskForm)


class RemoteFake(FakeService):
    connection_state = "reconnecting"

    async def info(self):  # type: ignore[no-untyped-def]
        return (await super().info()).evolve(remote="http://10.0.0.5:3002")


async def test_header_shows_remote_connection_state() -> None:
    app = TavernApp(RemoteFake(), remote=True, clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(
            pilot,
            lambda: "reconnecting" in text_of(app.query_one(HeaderBar)),
            what="connection state",
        )
        assert "http://10.0.0.5:3002" in text_of(app.query_one(HeaderBar))


async def test_narrow_terminal_keeps_status_and_progress_visible() -> None:
    from tui_updater.tui.widgets.header import KeyFooter

    app = TavernApp(FakeService(), clock=fixed_clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.table.row_count == 3, what="rows")
        table = app.table
        assert table.compact
        keys = [str(column.key.value) for column in table.columns.values()]
        assert "id" not in keys and "status" in keys and "failed" in keys
        widths = sum(column.get_render_width(table) for column in table.columns.values())
        assert widths <= 78
        newest_first = [str(row.key.value) for row in table.ordered_rows]
        assert newest_first == sorted(newest_first, reverse=True)
        assert not app.query_one(KeyFooter).show_command_palette
        assert not app.query_one(DetailPane).display  # no room: enter opens the detail screen
        table.move_cursor(row=1)
        selected = table.selected_task_id
        await pilot.resize_terminal(140, 40)
        # The pane takes 40 %: once the layout settles the queue keeps its compact columns (it
        # may be full width for a frame, between the resize and the pane's appearance).
        await wait_for(
            pilot,
            lambda: app.query_one(DetailPane).display and table.compact,
            what="detail pane beside a compact queue",
        )
        await pilot.resize_terminal(220, 40)
        await wait_for(pilot, lambda: not table.compact, what="full columns")
        assert "id" in [str(column.key.value) for column in table.columns.values()]
        assert table.selected_task_id == selected


async def test_remote_connection_line_survives_a_narrow_terminal() -> None:
    app = TavernApp(RemoteFake(), remote=True, clock=fixed_clock)
    async with app.run_test(size=(80, 24)) as pilot:
        header = app.query_one(HeaderBar)
        await wait_for(pilot, lambda: "reconnecting" in text_of(header), what="connection state")
        await pilot.pause()
        assert header.size.height == 3  # the first line wraps; the connection line still shows


async def test_detail_pane_follows_the_highlighted_task() -> None:
    from tui_updater.tui.widgets.detail_pane import DetailPane

    service = FakeService()
    app = TavernApp(service, clock=fixed_clock)
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_for(pilot, lambda: app.table.row_count == 3, what="rows")
        pane = app.query_one(DetailPane)
        running, failed, mbti = (str(row.key.value) for row in app.table.ordered_rows)
        await wait_for(pilot, lambda: pane.task_id == running, what="first row in the pane")
        assert "CHARACTER_SETTINGS" in text_of(pane.query_one("#summary-title"))
        assert "updateFields" in text_of(pane.query_one("#summary-params"))
        assert "40%" in text_of(pane.query_one("#summary-progress"))
        assert not pane.query_one("#summary-failed").display
        await pilot.press("down")
        await wait_for(pilot, lambda: pane.task_id == failed, what="failed task in the pane")
        failures = pane.query_one("#summary-failed")
        await wait_for(
            pilot, lambda: "bad prompt" in text_of(failures), what="the failed item's error"
        )
        assert failures.display and "老周" in text_of(failures)
        await pilot.press("down")
        await wait_for(pilot, lambda: pane.task_id == mbti, what="mbti task in the pane")
        result = text_of(pane.query_one("#summary-result"))
        assert "MBTI distribution (6 assigned)" in result
        assert "INTJ" in result and "50.0%" in result and "█" in result
        assert app.screen is app.screen_stack[0]  # the pane, not the detail screen
        fetches = pane.fetches
        await pilot.pause(0.5)  # flushes with nothing new: no redraw, no fetch
        assert pane.fetches == fetches
