"""SIGKILL mid-task, restart: the task completes with every side effect applied exactly once."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COUNT = 60


def start(root: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.engine.crash_worker", str(root), str(COUNT)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def effect_count(root: Path) -> int:
    try:
        conn = sqlite3.connect(root / "effects.db")
        try:
            return conn.execute("SELECT COUNT(*) FROM effects").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.OperationalError:
        return 0


@pytest.mark.slow
def test_sigkill_mid_task_then_resume_applies_each_item_once(tmp_path: Path):
    first = start(tmp_path)
    deadline = time.monotonic() + 30
    while effect_count(tmp_path) < COUNT // 3:
        assert first.poll() is None, first.stderr.read() if first.stderr else ""
        assert time.monotonic() < deadline, "worker made no progress"
        time.sleep(0.01)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    assert effect_count(tmp_path) < COUNT, "killed too late to test anything"

    tasks = sqlite3.connect(tmp_path / "tasks.db")
    settled = {
        key
        for key, status in tasks.execute("SELECT key, status FROM items")
        if status in ("OBTAINED", "DONE")
    }
    tasks.close()
    assert settled, "no item had been stored before the kill"
    obtains_before = Counter((tmp_path / "obtains.log").read_text().split())

    second = start(tmp_path)
    out, err = second.communicate(timeout=60)
    assert second.returncode == 0, err
    assert "finished COMPLETED" in out

    conn = sqlite3.connect(tmp_path / "effects.db")
    per_key = Counter(key for (key,) in conn.execute("SELECT key FROM effects"))
    conn.close()
    assert len(per_key) == COUNT and set(per_key.values()) == {1}
    obtains_after = Counter((tmp_path / "obtains.log").read_text().split())
    for key in settled:  # a result stored before the kill is never requested again
        assert obtains_after[key] == obtains_before[key] == 1
