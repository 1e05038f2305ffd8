"""avatarStatus=GENERATING is the tool's own transient mark: cancel, a lost write and a crash
all put back what the row held before."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.characters.dbfiles import execute, row
from tests.characters.taskkit import StubProvider, harness
from tui_updater.characters.demo import create_demo_db
from tui_updater.characters.writer import CharacterChange
from tui_updater.config import Settings
from tui_updater.core.models import ItemRecord, ItemStatus, TaskRecord, TaskStatus
from tui_updater.providers.base import Character, Generated
from tui_updater.runtime import Runtime
from tui_updater.tasks.avatar import CharacterAvatarTask

ROOT = Path(__file__).resolve().parents[2]


class BlockingProvider(StubProvider):
    """Draws nothing until released: the item is caught mid-generation."""

    def __init__(self) -> None:
        super().__init__()
        self.drawing = asyncio.Event()
        self.release = asyncio.Event()

    async def draw_avatar(self, character: Character, *, size_px: int) -> Generated[bytes]:
        self.drawing.set()
        await self.release.wait()
        return await super().draw_avatar(character, size_px=size_px)


def _status_candidate(db_path: Path) -> tuple[str, str, object]:
    """A live character that needs an avatar, its name and its avatarStatus (not GENERATING)."""
    conn = sqlite3.connect(db_path)
    try:
        key, label, status = conn.execute(
            """SELECT id, name, "avatarStatus" FROM "Character" WHERE avatar IS NULL
            AND "isDeleted" = 0 AND "avatarStatus" = 'PENDING' ORDER BY id LIMIT 1"""
        ).fetchone()
    finally:
        conn.close()
    return str(key), str(label), status


async def test_cancel_puts_the_status_back(tmp_path: Path) -> None:
    db_path = create_demo_db(tmp_path / "dev.db")
    key, label, before = _status_candidate(db_path)
    provider = BlockingProvider()
    h = await harness(tmp_path, db_path, provider)
    task = CharacterAvatarTask()
    try:
        params = task.parse_params({})
        running = asyncio.ensure_future(
            task.obtain(h.ctx, params, ItemRecord("task_t", 0, key, label))
        )
        await provider.drawing.wait()
        assert row(db_path, "Character", "id", key)["avatarStatus"] == "GENERATING"
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running
        assert row(db_path, "Character", "id", key)["avatarStatus"] == before
    finally:
        await h.db.close()


async def test_status_left_generating_by_a_crash_is_put_back(tmp_path: Path) -> None:
    db_path = create_demo_db(tmp_path / "dev.db")
    key, label, before = _status_candidate(db_path)
    provider = BlockingProvider()
    h = await harness(tmp_path, db_path, provider)
    try:
        # What a run killed mid-draw leaves: its journaled mark, applied, and nothing after it.
        change = CharacterChange(key, key, {"avatarStatus": (before, "GENERATING")})
        (written,) = await h.db.write_changes(h.ctx.task_id, [change])
        assert written.applied
        task = CharacterAvatarTask()  # the restarted process
        params = task.parse_params({})
        running = asyncio.ensure_future(
            task.obtain(h.ctx, params, ItemRecord("task_t", 0, key, label))
        )
        await provider.drawing.wait()
        running.cancel()  # the operator cancels the resumed task
        with pytest.raises(asyncio.CancelledError):
            await running
        assert row(db_path, "Character", "id", key)["avatarStatus"] == before
    finally:
        await h.db.close()


async def test_a_crashed_redo_of_a_failed_avatar_is_adopted(tmp_path: Path) -> None:
    db_path = create_demo_db(tmp_path / "dev.db")
    key, label, _ = _status_candidate(db_path)
    execute(
        db_path,
        """UPDATE "Character" SET avatar = NULL, "avatarStatus" = 'FAILED' WHERE id = ?""",
        (key,),
    )
    h = await harness(tmp_path, db_path, StubProvider())
    try:
        # The run that died had marked the FAILED row GENERATING before drawing.
        change = CharacterChange(key, key, {"avatarStatus": ("FAILED", "GENERATING")})
        (written,) = await h.db.write_changes(h.ctx.task_id, [change])
        assert written.applied
        task = CharacterAvatarTask()  # the restarted process
        params = task.parse_params({})
        item = ItemRecord("task_t", 0, key, label)
        result = await task.obtain(h.ctx, params, item)
        assert "skipped" not in result and "conflict" not in result  # our GENERATING is adopted
        (outcome,) = await task.apply(h.ctx, params, [(item, result)])
        assert outcome.status is ItemStatus.DONE
        assert row(db_path, "Character", "id", key)["avatarStatus"] == "COMPLETED"
    finally:
        await h.db.close()


async def test_lost_write_puts_the_status_back(tmp_path: Path) -> None:
    db_path = create_demo_db(tmp_path / "dev.db")
    key, label, before = _status_candidate(db_path)
    h = await harness(tmp_path, db_path, StubProvider())
    try:
        task = CharacterAvatarTask()
        params = task.parse_params({})
        item = ItemRecord("task_t", 0, key, label)
        result = await task.obtain(h.ctx, params, item)
        execute(db_path, 'UPDATE "Character" SET avatar = ? WHERE id = ?', ("/mine.png", key))
        (outcome,) = await task.apply(h.ctx, params, [(item, result)])
        assert outcome.status is ItemStatus.CONFLICT
        stored = row(db_path, "Character", "id", key)
        assert (stored["avatar"], stored["avatarStatus"]) == ("/mine.png", before)
    finally:
        await h.db.close()


def test_killed_mid_avatar_then_restart_leaves_nothing_generating(tmp_path: Path) -> None:
    db_path = create_demo_db(tmp_path / "dev.db")
    key = _status_candidate(db_path)[0]
    execute(
        db_path,
        """UPDATE "Character" SET avatar = NULL, "avatarStatus" = 'FAILED' WHERE id = ?""",
        (key,),
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.tasks.avatar_kill_worker",
            str(tmp_path),
            str(db_path),
            json.dumps([key]),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == -9, proc.stderr[-2000:]
    assert row(db_path, "Character", "id", key)["avatarStatus"] == "GENERATING"

    async def restart() -> TaskRecord:
        runtime = await Runtime.open(Settings.for_tests(tmp_path, db_path=db_path))
        try:
            (task,) = await runtime.service.list_tasks()
            return await runtime.engine.wait(task.task_id)
        finally:
            await runtime.close()

    done = asyncio.run(restart())
    assert done.status is TaskStatus.COMPLETED and done.counts.done == 1, done.message
    assert row(db_path, "Character", "id", key)["avatarStatus"] == "COMPLETED"
    conn = sqlite3.connect(db_path)
    try:
        stuck = conn.execute(
            """SELECT COUNT(*) FROM "Character" WHERE "avatarStatus" = 'GENERATING'"""
        )
        assert stuck.fetchone()[0] == 0
    finally:
        conn.close()
