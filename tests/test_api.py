"""The programming interface: the README's example run as written, and the API over a local
engine and a real server on loopback."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

import tui_updater
from tests.server.conftest import app_for
from tui_updater.characters.demo import create_demo_db
from tui_updater.config import Settings
from tui_updater.core.events import Event, EventType
from tui_updater.core.models import Priority, TaskStatus
from tui_updater.errors import InvalidParameters, TaskNotFound, TaskStateError, UnknownTaskType
from tui_updater.server.embedded import start_server

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_example() -> str:
    section = README.read_text(encoding="utf-8").split("## Use it from Python", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, "README: no python block under 'Use it from Python'"
    return match.group(1)


def test_readme_example_runs_as_written(tmp_path: Path) -> None:
    create_demo_db(tmp_path / "dev.db")
    (tmp_path / "example.py").write_text(readme_example(), encoding="utf-8")
    home = tmp_path / "home"
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_STATE_HOME": str(home / "state"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "NEWAPI_KEY": "never-read",  # the example's settings are explicit: still offline
    }
    done = subprocess.run(
        [sys.executable, "example.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    progress = [line for line in lines if line.startswith("progress ")]
    assert progress, done.stdout
    assert lines.index(progress[0]) < next(
        i for i, line in enumerate(lines) if line.startswith("completed:")
    )
    assert re.search(r"^(\d+) of \1 characters have an MBTI type$", lines[-1]), done.stdout
    assert (tmp_path / "updater-state" / "tasks.db").is_file()


@pytest.fixture
def demo_db(tmp_path: Path) -> Path:
    return create_demo_db(tmp_path / "site" / "dev.db")


def local(tmp_path: Path, demo_db: Path) -> Any:
    return tui_updater.open(
        demo_db,
        offline=True,
        state_dir=tmp_path / "state",
        data_dir=tmp_path / "data",
        log_dir=tmp_path / "log",
    )


async def test_held_task_runs_only_when_started(tmp_path: Path, demo_db: Path) -> None:
    async with local(tmp_path, demo_db) as manager:
        with pytest.raises(InvalidParameters) as bad:
            await manager.create_task("MBTI_ASSIGNMENT", {"batchSize": 0}, hold=True)
        assert bad.value.field == "batchSize"
        with pytest.raises(UnknownTaskType):
            await manager.create_task("NOPE", hold=True)
        task = await manager.create_task(
            "mbti-assignment", {"forceUpdate": True, "batchSize": 4}, Priority.HIGH, hold=True
        )
        assert task.held and task.task_id is None
        assert await manager.service.list_tasks() == []
        seen: list[Event] = []
        task.on("progress", seen.append).on("completed", seen.append)
        await manager.start_task(task)
        assert task.task_id is not None and not task.held
        with pytest.raises(TaskStateError):
            await task.start()
        with pytest.raises(TaskStateError):
            await manager.start_task(task.task_id)
        result = await task.result()
        assert result["done"] == result["total"] > 4
        kinds = [event.type for event in seen]
        assert EventType.TASK_PROGRESS in kinds and kinds[-1] is EventType.TASK_COMPLETED
        assert task.record is not None and task.record.priority is Priority.HIGH


async def test_events_iterator_ends_with_the_task(tmp_path: Path, demo_db: Path) -> None:
    async with local(tmp_path, demo_db) as manager:
        await manager.service.pause()
        task = await manager.create_task("MBTI_ASSIGNMENT", {"forceUpdate": True})
        assert (await task.set_priority("URGENT")).priority is Priority.URGENT
        events = task.events()
        await manager.service.resume()
        kinds = [event.type async for event in events]
        assert kinds[0] is EventType.TASK_STARTED and kinds[-1] is EventType.TASK_COMPLETED
        assert [e async for e in task.events()] == []  # a finished task has nothing more to say
        report = await task.revert()
        assert report["reverted"] > 0


async def test_failure_cancel_and_retry(tmp_path: Path, demo_db: Path) -> None:
    async with local(tmp_path, demo_db) as manager:
        failing = await manager.create_task(
            "DATABASE_UPGRADE", {"migrationScript": "ALTER TABLE NoSuchTable ADD COLUMN x TEXT;"}
        )
        with pytest.raises(tui_updater.TaskFailed) as failed:
            await failing.result()
        assert failed.value.record.status is TaskStatus.FAILED
        assert failing.task_id in str(failed.value)
        (item,) = await manager.service.list_items(failing.task_id or "", status="FAILED")
        assert "no such table: NoSuchTable" in (item.error or "")
        await manager.service.pause()
        queued = await manager.create_task("MBTI_ASSIGNMENT", {})
        cancelled = await queued.cancel()
        assert cancelled.status is TaskStatus.CANCELLED
        assert (await queued.wait()).status is TaskStatus.CANCELLED
        assert (await queued.retry()).status is TaskStatus.PENDING
        await manager.service.resume()
        assert (
            await (await manager.task(queued.task_id or "")).wait()
        ).status is TaskStatus.COMPLETED
        with pytest.raises(TaskNotFound):
            await manager.task("task_0_missing")


async def test_open_reads_no_config_unless_asked(tmp_path: Path, demo_db: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[engine]\nmax_running_tasks = 7\n", encoding="utf-8")
    os.environ["TAVERN_UPDATER_CONFIG"] = str(config)
    try:
        async with local(tmp_path, demo_db) as manager:
            assert (await manager.service.queue_status()).max_running == 2
        async with tui_updater.open(
            demo_db, offline=True, state_dir=tmp_path / "state2", from_config=True
        ) as manager:
            assert (await manager.service.queue_status()).max_running == 7
    finally:
        del os.environ["TAVERN_UPDATER_CONFIG"]


@pytest.fixture
async def served(tmp_path: Path, demo_db: Path) -> AsyncIterator[str]:
    from tui_updater.runtime import Runtime

    settings = Settings.for_tests(tmp_path / "server").evolve(db_path=demo_db)
    runtime = await Runtime.open(settings, synchronous="NORMAL")
    server = await start_server(app_for(runtime.service, tmp_path), "127.0.0.1", 0)
    yield f"http://127.0.0.1:{server.port}"
    await server.stop()
    await runtime.close()


async def test_the_same_interface_over_a_server(served: str) -> None:
    async with tui_updater.connect(served) as manager:
        task = await manager.create_task("MBTI_ASSIGNMENT", {"forceUpdate": True}, hold=True)
        done: list[Event] = []
        task.on("completed", done.append)
        await task.start()
        result = await task.result()
        assert result["done"] == result["total"] > 0
        assert (await task.wait()).status is TaskStatus.COMPLETED
        with pytest.raises(InvalidParameters) as bad:
            await manager.create_task("MBTI_ASSIGNMENT", {"forceUpdate": "maybe"})
        assert bad.value.field == "forceUpdate"
    manager = await tui_updater.connect(served)
    try:
        again = await manager.task(task.task_id or "")
        assert again.task_id == task.task_id and again.type == "MBTI_ASSIGNMENT"
        assert again.record is not None and again.record.status is TaskStatus.COMPLETED
    finally:
        await manager.close()
