"""SIGKILL during a DATABASE_UPGRADE's apply step, then restart: all-or-nothing, and reported."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tui_updater.characters.demo import create_demo_db
from tui_updater.config import Settings
from tui_updater.core.models import TaskStatus
from tui_updater.runtime import Runtime

ROOT = Path(__file__).resolve().parents[2]
SLOW_SCRIPT = (
    'ALTER TABLE "Character" ADD COLUMN "upgradeMarker" TEXT;\n'
    "CREATE TABLE upgrade_big AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 1500000) SELECT x FROM c;\n"
    'UPDATE "Character" SET "upgradeMarker" = \'yes\';\n'
)


def state_of(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        columns = {row[1] for row in conn.execute('PRAGMA table_info("Character")')}
        tables = {
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        if "upgradeMarker" not in columns and "upgrade_big" not in tables:
            return "before"
        rows = conn.execute("SELECT COUNT(*) FROM upgrade_big").fetchone()[0]
        markers = conn.execute(
            """SELECT COUNT(*) FROM "Character" WHERE "upgradeMarker" IS NOT 'yes'"""
        ).fetchone()[0]
        return "after" if rows == 1_500_000 and markers == 0 else "torn"
    finally:
        conn.close()


@pytest.mark.slow
@pytest.mark.parametrize("extra_delay_s", [0.0, 0.15, 0.35, 0.6])
def test_sigkill_during_apply_is_all_or_nothing(tmp_path: Path, extra_delay_s: float):
    db = create_demo_db(tmp_path / "dev.db")
    dirs = {name: tmp_path / name for name in ("state", "data", "log", "backups")}
    args = [
        sys.executable,
        "-m",
        "tui_updater",
        "run",
        "DATABASE_UPGRADE",
        "--db",
        str(db),
        "--data",
        json.dumps({"migrationScript": SLOW_SCRIPT}),
    ]
    for name, path in dirs.items():
        args += [f"--{name}-dir" if name != "backups" else "--backup-dir", str(path)]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWAPI", "OPENAI", "TAVERN"))}
    proc = subprocess.Popen(
        args, cwd=ROOT, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env
    )
    assert proc.stderr is not None
    deadline = time.monotonic() + 60
    for line in proc.stderr:
        if "in one transaction" in line:
            break
        assert time.monotonic() < deadline
    else:
        pytest.fail(f"never reached the apply step (exit {proc.wait()})")
    time.sleep(extra_delay_s * random.uniform(0.8, 1.2))
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    killed_state = state_of(db)
    assert killed_state in ("before", "after")
    tasks_db = sqlite3.connect(dirs["state"] / "tasks.db")
    (status_at_kill,) = tasks_db.execute("SELECT status FROM tasks").fetchone()
    tasks_db.close()

    async def resume() -> tuple[TaskStatus, dict]:
        settings = Settings.for_tests(tmp_path, db_path=db)
        runtime = await Runtime.open(settings)
        try:
            (task,) = await runtime.service.list_tasks()
            done = await runtime.engine.wait(task.task_id)
            return done.status, done.result or {}
        finally:
            await runtime.close()

    status, result = asyncio.run(resume())
    assert status is TaskStatus.COMPLETED, result
    assert state_of(db) == "after"
    if status_at_kill != "COMPLETED":  # the task says which state it found on restart
        assert result["alreadyApplied"] is (killed_state == "after")
    print(f"killed {extra_delay_s}s into apply: database was {killed_state}, task {status_at_kill}")
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
