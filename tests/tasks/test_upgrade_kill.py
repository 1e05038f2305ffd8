"""A DATABASE_UPGRADE killed (SIGKILL) around its live COMMIT never runs the script twice and
never claims what it cannot prove: a data-only migration, which no schema fingerprint can see."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.characters.dbfiles import execute
from tui_updater.characters.demo import create_demo_db
from tui_updater.config import Settings
from tui_updater.core.models import TaskStatus
from tui_updater.runtime import Runtime

ROOT = Path(__file__).resolve().parents[2]
DATA_ONLY = """UPDATE "Character" SET name = name || '!'"""


def names(db: Path) -> list[str]:
    conn = sqlite3.connect(db)
    try:
        return [r[0] for r in conn.execute('SELECT name FROM "Character" ORDER BY id')]
    finally:
        conn.close()


def killed_at(tmp_path: Path, point: str) -> Path:
    db = create_demo_db(tmp_path / "dev.db")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.tasks.upgrade_kill_worker",
            str(tmp_path),
            str(db),
            DATA_ONLY,
            point,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == -9, proc.stderr[-2000:]
    return db


def resume(tmp_path: Path, db: Path) -> tuple[TaskStatus, dict[str, Any], str | None]:
    async def run() -> tuple[TaskStatus, dict[str, Any], str | None]:
        runtime = await Runtime.open(Settings.for_tests(tmp_path, db_path=db))
        try:
            (task,) = await runtime.service.list_tasks()
            done = await runtime.engine.wait(task.task_id)
            return done.status, done.result or {}, done.message
        finally:
            await runtime.close()

    return asyncio.run(run())


@pytest.fixture
def original_names(tmp_path: Path) -> list[str]:
    return names(create_demo_db(tmp_path / "pristine.db"))


def test_killed_after_commit_is_reported_applied_not_run_again(
    tmp_path: Path, original_names: list[str]
) -> None:
    db = killed_at(tmp_path, "after-commit")
    assert names(db) == [n + "!" for n in original_names]
    status, result, _ = resume(tmp_path, db)
    assert status is TaskStatus.COMPLETED, result
    assert result["alreadyApplied"] is True
    assert names(db) == [n + "!" for n in original_names]  # once, not twice


def test_killed_before_commit_runs_once(tmp_path: Path, original_names: list[str]) -> None:
    db = killed_at(tmp_path, "before-commit")
    assert names(db) == original_names  # the COMMIT never happened
    status, result, _ = resume(tmp_path, db)
    assert status is TaskStatus.COMPLETED, result
    assert result["alreadyApplied"] is False
    assert names(db) == [n + "!" for n in original_names]


def test_site_write_after_the_kill_is_unproven_and_names_the_backup(
    tmp_path: Path, original_names: list[str]
) -> None:
    db = killed_at(tmp_path, "after-commit")
    conn = sqlite3.connect(db)
    (first,) = conn.execute('SELECT id FROM "Character" ORDER BY id').fetchone()
    conn.close()
    execute(
        db, """UPDATE "Character" SET description = 'edited by the site' WHERE id = ?""", (first,)
    )
    status, result, _message = resume(tmp_path, db)
    assert status is TaskStatus.FAILED
    assert "cannot prove whether the migration was applied" in result["message"]
    backups = list((tmp_path / "backups").glob("dev-backup-*.db"))
    assert len(backups) == 1 and backups[0].name in result["message"]
    assert names(db) == [n + "!" for n in original_names]  # nothing run again
