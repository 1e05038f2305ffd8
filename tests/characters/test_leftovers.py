"""kill -9 during a backup or a rehearsal leaves a partial backup or a scratch copy of the whole
database; the next start removes it, and never what a live process is still writing."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tui_updater.characters.demo import create_demo_db
from tui_updater.characters.leftovers import SCRATCH_PREFIX, partial_name
from tui_updater.config import Settings
from tui_updater.runtime import Runtime

ROOT = Path(__file__).resolve().parents[2]


def kill_during(tmp_path: Path, stage: str, temp_dir: Path) -> None:
    db = create_demo_db(tmp_path / "dev.db")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.characters.leftover_kill_worker",
            str(tmp_path),
            str(db),
            stage,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "TMPDIR": str(temp_dir)},
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "copying"
    finally:
        proc.kill()
        proc.wait()


def leftovers(tmp_path: Path, temp_dir: Path) -> list[str]:
    found = [p.name for p in temp_dir.iterdir() if p.name.startswith(SCRATCH_PREFIX)]
    return sorted(found + [p.name for p in (tmp_path / "backups").glob("*.partial")])


@pytest.mark.parametrize("stage", ["backup", "rehearsal"])
def test_next_start_removes_what_a_killed_run_left(
    tmp_path: Path, stage: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    temp_dir = tmp_path / "tmp"
    temp_dir.mkdir()
    kill_during(tmp_path, stage, temp_dir)
    left = leftovers(tmp_path, temp_dir)
    assert len(left) == 1 and (".partial" in left[0]) is (stage == "backup")
    # A live process's files (this one's) are never touched.
    live_scratch = temp_dir / f"{SCRATCH_PREFIX}{os.getpid()}-busy"
    live_scratch.mkdir()
    live_partial = tmp_path / "backups" / partial_name("dev-backup-20260101T000000000Z.db")
    live_partial.write_bytes(b"in progress")
    monkeypatch.setattr(tempfile, "tempdir", str(temp_dir))

    async def start() -> None:
        runtime = await Runtime.open(Settings.for_tests(tmp_path, db_path=tmp_path / "dev.db"))
        await runtime.close()

    asyncio.run(start())
    assert leftovers(tmp_path, temp_dir) == sorted([live_scratch.name, live_partial.name])
