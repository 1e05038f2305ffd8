"""A task belongs to its character database: held by an engine on another, failed when its file
was replaced, run only where it was created (in-process; tests/test_ownership.py kills)."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

from tui_updater.characters.demo import generate_synthetic_db
from tui_updater.config import Settings
from tui_updater.core.models import TaskStatus
from tui_updater.runtime import Runtime


def _settings(tmp_path: Path, db: Path) -> Settings:
    return Settings.for_tests(tmp_path, db_path=db, offline=True)


def _dump(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


async def _queued_on(settings: Settings) -> str:
    runtime = await Runtime.open(settings, synchronous="NORMAL", control=False)
    try:
        await runtime.engine.pause()  # queued, never started: it waits for the next engine
        task = await runtime.engine.submit("MBTI_ASSIGNMENT", {}, "NORMAL")
        assert task.database == str(settings.db_path.resolve()) and task.database_identity
    finally:
        await runtime.close()
    return task.task_id


async def test_another_databases_task_is_held_then_runs_on_its_own(tmp_path: Path) -> None:
    site_a = generate_synthetic_db(tmp_path / "a" / "dev.db", 12)
    site_b = generate_synthetic_db(tmp_path / "b" / "dev.db", 12, seed=1)
    task_id = await _queued_on(_settings(tmp_path, site_a))
    before = _dump(site_b)

    on_b = await Runtime.open(_settings(tmp_path, site_b), synchronous="NORMAL", control=False)
    try:
        await on_b.engine.resume()
        await on_b.engine.wait_idle()
        assert on_b.engine.live_task(task_id) is None
        held = await on_b.engine.get_task(task_id)
        assert held.status is TaskStatus.PENDING
        listed = await on_b.service.list_tasks(database=str(site_a.resolve()))
        assert [t.task_id for t in listed] == [task_id]
    finally:
        await on_b.close()
    assert _dump(site_b) == before

    on_a = await Runtime.open(_settings(tmp_path, site_a), synchronous="NORMAL", control=False)
    try:
        done = await on_a.engine.wait(task_id)
        assert done.status is TaskStatus.COMPLETED and done.counts.done > 0
    finally:
        await on_a.close()


async def test_a_replaced_file_fails_its_task_naming_it(tmp_path: Path) -> None:
    site_a = generate_synthetic_db(tmp_path / "a" / "dev.db", 12)
    copy = tmp_path / "copy.db"
    shutil.copyfile(site_a, copy)
    task_id = await _queued_on(_settings(tmp_path, site_a))
    os.replace(copy, site_a)  # another file at the same path

    runtime = await Runtime.open(_settings(tmp_path, site_a), synchronous="NORMAL", control=False)
    try:
        failed = await runtime.engine.get_task(task_id)
        assert failed.status is TaskStatus.FAILED
        assert failed.error is not None and str(site_a.resolve()) in failed.error
        assert "replaced" in failed.error
    finally:
        await runtime.close()


async def test_a_held_task_can_be_cancelled(tmp_path: Path) -> None:
    site_a = generate_synthetic_db(tmp_path / "a" / "dev.db", 5)
    site_b = generate_synthetic_db(tmp_path / "b" / "dev.db", 5, seed=1)
    task_id = await _queued_on(_settings(tmp_path, site_a))
    on_b = await Runtime.open(_settings(tmp_path, site_b), synchronous="NORMAL", control=False)
    try:
        cancelled = await on_b.engine.cancel(task_id)
        assert cancelled.status is TaskStatus.CANCELLED
        assert (await on_b.engine.get_task(task_id)).status is TaskStatus.CANCELLED
    finally:
        await on_b.close()
