"""Queue actions from the keyboard against the real engine with the test-only SAMPLE type."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from textual.widgets import DataTable, Input, Log

from tests.engine.sample_types import Recorder, SampleTask, sample_registry
from tests.tui.conftest import SIZE, FakeBackups, FakeSummary, text_of, wait_for
from tui_updater.config import EngineSettings
from tui_updater.core.models import TaskStatus
from tui_updater.core.service import ServiceInfo
from tui_updater.engine.engine import Engine
from tui_updater.engine.service import LocalService
from tui_updater.store.sqlite import SqliteTaskStore
from tui_updater.tasks.registry import TaskTypeRegistry
from tui_updater.tui.app import TavernApp
from tui_updater.tui.screens.confirm import ConfirmScreen
from tui_updater.tui.widgets.header import HeaderBar

Service = tuple[LocalService, Recorder]


def status_cell(app: TavernApp, task_id: str) -> str:
    return str(app.query_one("#queue", DataTable).get_cell(task_id, "status"))


async def select(pilot: Any, app: TavernApp, task_id: str) -> None:
    await wait_for(pilot, lambda: app.table.is_shown(task_id), what="row")
    app.table.move_cursor(row=app.table.get_row_index(task_id))
    await pilot.pause()
    await wait_for(pilot, lambda: app.table.selected_task_id == task_id, what="selection")


async def test_cancel_stops_a_running_task(sample_service: Service) -> None:
    service, _ = sample_service
    app = TavernApp(service)
    async with app.run_test(size=SIZE) as pilot:
        task = await service.submit("SAMPLE", {"count": 2, "sleep_s": 30})
        await select(pilot, app, task.task_id)
        await wait_for(
            pilot,
            lambda: app.task_records[task.task_id].status is TaskStatus.RUNNING,
            what="running",
        )
        await pilot.press("x")
        await wait_for(
            pilot, lambda: "CANCELLED" in status_cell(app, task.task_id), what="cancelled cell"
        )
        assert (await service.get_task(task.task_id)).status is TaskStatus.CANCELLED


async def test_retry_reruns_failed_items(sample_service: Service) -> None:
    service, recorder = sample_service
    app = TavernApp(service)
    async with app.run_test(size=SIZE) as pilot:
        task = await service.submit("SAMPLE", {"count": 3, "transient_failures": {"k1": 1}})
        await select(pilot, app, task.task_id)
        await wait_for(
            pilot, lambda: app.task_records[task.task_id].status is TaskStatus.FAILED, what="failed"
        )
        assert str(app.table.get_cell(task.task_id, "failed")) == "1"
        await pilot.press("r")
        await wait_for(
            pilot,
            lambda: app.task_records[task.task_id].status is TaskStatus.COMPLETED,
            what="completed",
        )
        assert app.task_records[task.task_id].attempt == 2
        assert recorder.attempts[(task.task_id, "k1")] == 2
        assert recorder.attempts[(task.task_id, "k0")] == 1  # finished items are not redone


async def test_delete_asks_first(sample_service: Service) -> None:
    service, _ = sample_service
    app = TavernApp(service)
    async with app.run_test(size=SIZE) as pilot:
        task = await service.submit("SAMPLE", {"count": 1})
        await select(pilot, app, task.task_id)
        await wait_for(
            pilot,
            lambda: app.task_records[task.task_id].status is TaskStatus.COMPLETED,
            what="done",
        )
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        await pilot.press("n")
        await pilot.pause(0.3)
        assert app.table.is_shown(task.task_id)
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm again")
        await pilot.press("y")
        await wait_for(pilot, lambda: not app.table.is_shown(task.task_id), what="row removed")
        assert await service.list_tasks() == []


async def test_pause_and_resume_the_queue(sample_service: Service) -> None:
    service, _ = sample_service
    app = TavernApp(service)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.queue is not None, what="status")
        await pilot.press("p")
        await wait_for(
            pilot, lambda: "PAUSED" in text_of(app.query_one(HeaderBar)), what="paused badge"
        )
        assert service.engine.paused
        task = await service.submit("SAMPLE", {"count": 1})
        await pilot.pause(0.5)
        assert app.task_records[task.task_id].status is TaskStatus.PENDING
        await pilot.press("p")
        await wait_for(
            pilot,
            lambda: app.task_records[task.task_id].status is TaskStatus.COMPLETED,
            what="ran after resume",
        )
        assert "PAUSED" not in text_of(app.query_one(HeaderBar))


async def test_filter_shows_matching_tasks_only(sample_service: Service) -> None:
    service, _ = sample_service
    app = TavernApp(service)
    async with app.run_test(size=SIZE) as pilot:
        ok = await service.submit("SAMPLE", {"count": 1})
        bad = await service.submit("SAMPLE", {"count": 1, "permanent": ["k0"]})
        await wait_for(
            pilot,
            lambda: (
                app.task_records.get(bad.task_id) is not None
                and app.task_records[bad.task_id].status is TaskStatus.FAILED
                and app.task_records[ok.task_id].status is TaskStatus.COMPLETED
            ),
            what="both finished",
        )
        await pilot.press("slash")
        await pilot.press(*"failed")
        await wait_for(pilot, lambda: app.table.row_count == 1, what="filtered")
        assert app.table.is_shown(bad.task_id) and not app.table.is_shown(ok.task_id)
        assert "filter" in text_of(app.query_one("#paging"))
        await pilot.press("escape", "escape")
        await wait_for(pilot, lambda: app.table.row_count == 2, what="filter cleared")
        assert app.query_one("#filter", Input).value == ""


async def test_log_pane_filters_to_the_selected_task(sample_service: Service) -> None:
    service, _ = sample_service
    app = TavernApp(service)
    async with app.run_test(size=SIZE) as pilot:
        first = await service.submit("SAMPLE", {"count": 1})
        second = await service.submit("SAMPLE", {"count": 1})
        await wait_for(
            pilot,
            lambda: all(
                app.task_records.get(t.task_id)
                and app.task_records[t.task_id].status is TaskStatus.COMPLETED
                for t in (first, second)
            ),
            what="done",
        )
        await pilot.pause(0.5)
        await select(pilot, app, first.task_id)
        await pilot.press("l")
        lines = app.query_one("#log", Log).lines
        assert lines and all(second.task_id not in line for line in lines)
        assert any(first.task_id in line for line in lines)
        await pilot.press("l")
        assert any(second.task_id in line for line in app.query_one("#log", Log).lines)


class StuckSample(SampleTask):
    """SAMPLE whose items hang: the task is surely running when the user quits."""

    async def obtain(self, ctx: Any, params: Any, item: Any) -> dict[str, Any]:
        await asyncio.sleep(60)
        return await super().obtain(ctx, params, item)


async def test_quit_while_running_asks_and_the_task_resumes(tmp_path: Path) -> None:
    recorder = Recorder()
    stuck = TaskTypeRegistry()
    stuck.register(StuckSample(recorder))
    store = SqliteTaskStore(tmp_path / "tasks.db", synchronous="NORMAL")
    await store.open()
    info = ServiceInfo("/data/dev.db", False, "offline", False, "offline", "offline", "0")
    engine = Engine(store, stuck, None, EngineSettings())
    service = LocalService(
        engine, info, backups=FakeBackups(), characters=FakeSummary(), db_path=tmp_path / "dev.db"
    )
    await engine.start()
    app = TavernApp(service)
    async with app.run_test(size=SIZE) as pilot:
        task = await service.submit("SAMPLE", {"count": 4, "concurrency": 1})
        await wait_for(
            pilot,
            lambda: (
                task.task_id in app.task_records
                and app.task_records[task.task_id].status is TaskStatus.RUNNING
            ),
            what="running",
        )
        await pilot.press("q")
        await wait_for(
            pilot, lambda: isinstance(app.screen, ConfirmScreen), what="quit confirmation"
        )
        await pilot.press("y")
        await wait_for(pilot, lambda: not app.is_running, what="exit")
    await engine.stop()  # what Runtime.close() does: running tasks are interrupted
    assert (await store.get_task(task.task_id)).status is TaskStatus.PENDING  # type: ignore[union-attr]
    again = Engine(store, sample_registry(recorder), None, EngineSettings())
    await again.start()
    done = await again.wait(task.task_id)
    await again.stop()
    await store.close()
    assert done.status is TaskStatus.COMPLETED
    assert done.counts.done == 4
