"""A revert killed after its undo committed, before its journal marks were stored: the next
revert reports the truth (undone), not a conflict for every entry."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from tui_updater.characters.demo import create_demo_db
from tui_updater.config import Settings
from tui_updater.core.journal import JournalState
from tui_updater.runtime import Runtime

ROOT = Path(__file__).resolve().parents[2]


def mbti_column(db: Path) -> list[tuple[str, Any]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute('SELECT id, "mbtiType" FROM "Character" ORDER BY id').fetchall()
    finally:
        conn.close()


def test_second_revert_after_a_kill_reports_what_was_undone(tmp_path: Path) -> None:
    db = create_demo_db(tmp_path / "dev.db")
    before = mbti_column(db)
    proc = subprocess.run(
        [sys.executable, "-m", "tests.characters.revert_kill_worker", str(tmp_path), str(db)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == -9, proc.stderr[-2000:]
    task_id = proc.stdout.split()[0]
    assert mbti_column(db) == before  # the undo committed

    async def revert_again() -> tuple[dict[str, Any], list[JournalState], list[JournalState]]:
        runtime = await Runtime.open(Settings.for_tests(tmp_path, db_path=db))
        try:
            left = [e.state for e in await runtime.engine.store.entries(task_id)]
            report = await runtime.engine.revert(task_id)
            after = [e.state for e in await runtime.engine.store.entries(task_id)]
            return report, left, after
        finally:
            await runtime.close()

    report, left_by_kill, states = asyncio.run(revert_again())
    assert JournalState.APPLIED in left_by_kill  # the kill did lose the marks
    assert report["skipped"] == []
    assert report["reverted"] == len(states) > 0
    assert set(states) == {JournalState.REVERTED}
    assert mbti_column(db) == before
