"""SIGKILL during an online CHARACTER_SETTINGS task: resume never re-requests a journaled result."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fakes.openai_server import FakeOpenAIServer
from tui_updater.characters.demo import generate_synthetic_db
from tui_updater.config import ProviderSettings, Settings
from tui_updater.core.models import TaskStatus
from tui_updater.runtime import Runtime

ROOT = Path(__file__).resolve().parents[2]
COUNT = 60


def requests_for(gateway: FakeOpenAIServer, name: str) -> int:
    """Chat requests about exactly this character (its ``Name:`` line, not a prefix of another)."""
    needle = f"Name: {name}\\n"
    return sum(
        1
        for r in list(gateway.requests)
        if r.path.endswith("chat/completions") and needle in json.dumps(r.body, ensure_ascii=False)
    )


def settled_labels(tasks_db: Path) -> set[str]:
    if not tasks_db.exists():
        return set()
    conn = sqlite3.connect(tasks_db)
    try:
        return {
            label
            for (label,) in conn.execute(
                "SELECT label FROM items WHERE status IN ('OBTAINED', 'DONE')"
            )
        }
    except sqlite3.OperationalError:
        return set()
    finally:
        conn.close()


@pytest.mark.slow
def test_sigkill_online_settings_then_resume(tmp_path: Path):
    db = generate_synthetic_db(tmp_path / "dev.db", COUNT, seed=3)
    with FakeOpenAIServer(latency_s=0.05) as gateway:
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("NEWAPI", "OPENAI", "TAVERN"))
        }
        env |= {
            "NEWAPI_BASE_URL": gateway.base_url,
            "NEWAPI_KEY": "sk-test-key",
            "NEWAPI_RPM": "100000",
        }
        dirs = [
            "--state-dir",
            str(tmp_path / "state"),
            "--data-dir",
            str(tmp_path / "data"),
            "--log-dir",
            str(tmp_path / "log"),
            "--backup-dir",
            str(tmp_path / "backups"),
        ]
        data = json.dumps(
            {"updateFields": ["speakingStyle", "scenario"], "concurrency": 3, "batchSize": 4}
        )
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tui_updater",
                "run",
                "CHARACTER_SETTINGS",
                "--db",
                str(db),
                "--data",
                data,
                *dirs,
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        tasks_db = tmp_path / "state" / "tasks.db"
        deadline = time.monotonic() + 60
        while len(settled_labels(tasks_db)) < COUNT // 3:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        settled = settled_labels(tasks_db)
        assert 0 < len(settled) < COUNT
        before = {name: requests_for(gateway, name) for name in settled}
        assert set(before.values()) == {1}

        async def resume() -> TaskStatus:
            settings = Settings.for_tests(
                tmp_path,
                db_path=db,
                offline=False,
                provider=ProviderSettings(
                    base_url=gateway.base_url, api_key="sk-test-key", requests_per_minute=0
                ),
            )
            runtime = await Runtime.open(settings)
            try:
                (task,) = await runtime.service.list_tasks()
                return (await runtime.engine.wait(task.task_id)).status
            finally:
                await runtime.close()

        assert asyncio.run(resume()) is TaskStatus.COMPLETED
        for name in settled:  # results journaled before the kill were applied, not requested again
            assert requests_for(gateway, name) == 1, name
    conn = sqlite3.connect(db)
    empty = conn.execute(
        """SELECT COUNT(*) FROM "Character" WHERE "speakingStyle" IS NULL OR "speakingStyle" = '' OR scenario IS NULL OR scenario = ''"""
    ).fetchone()[0]
    conn.close()
    assert empty == 0
