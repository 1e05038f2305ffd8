"""DATABASE_UPGRADE runs alone on its database: a write of the tool's under way finishes first
(and is in the backup), a write asked for meanwhile waits and lands after the upgrade."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.characters.memjournal import InMemoryJournal
from tests.tasks.test_upgrade import SCHEMA, Harness
from tui_updater.characters import db as character_db
from tui_updater.characters.db import CharacterDb
from tui_updater.characters.writer import CharacterChange
from tui_updater.config import Settings

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = 'ALTER TABLE "Character" ADD COLUMN "mood" TEXT'


def mbti(path: Path) -> dict[str, object]:
    conn = sqlite3.connect(path)
    try:
        return dict(conn.execute('SELECT id, "mbtiType" FROM "Character"').fetchall())
    finally:
        conn.close()


async def until(condition: Callable[[], bool], what: str) -> None:
    for _ in range(5000):
        if condition():
            return
        await asyncio.sleep(0.01)
    pytest.fail(f"never happened: {what}")


async def test_upgrade_waits_for_writes_under_way_and_holds_new_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(character_db, "BUSY_TIMEOUT_MS", 100)
    monkeypatch.setattr(character_db, "_LOCK_RETRY_FIRST_S", 0.05)
    settings = Settings.for_tests(tmp_path)
    conn = sqlite3.connect(settings.db_path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.executescript(SCHEMA)
    conn.close()
    db = await CharacterDb.open(settings.db_path, settings.characters, InMemoryJournal())
    harness = Harness(settings, characters=db)  # type: ignore[arg-type]
    # The site holds its write lock, so the tool's first write is under way (waiting) for a while.
    holder = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "tests.characters.lock_holder", str(settings.db_path)],
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert holder.stdin is not None and holder.stdout is not None
        assert (await holder.stdout.readline()).strip() == b"locked"
        params, item, result = await harness.obtain({"migrationScript": SCRIPT})
        under_way = asyncio.ensure_future(
            db.write_changes(
                "task_a", [CharacterChange("c1", "c1", {"mbtiType": ("INTP", "INTJ")})]
            )
        )
        await until(lambda: db.access.shared_holders == 1, "the first write under way")
        upgrade = asyncio.ensure_future(harness.apply(params, item, result))
        await until(
            lambda: any("waiting for the writes under way" in m for _, m in harness.logs),
            "the upgrade waiting for it",
        )
        later = asyncio.ensure_future(
            db.write_changes("task_b", [CharacterChange("c2", "c2", {"mbtiType": (None, "ENFP")})])
        )
        holder.stdin.write(b"go\n")
        await holder.stdin.drain()
        (first,) = await under_way
        finished = await upgrade
        (second,) = await later
    finally:
        if holder.returncode is None:
            holder.kill()
        await holder.wait()
        await db.close()
    assert first.applied and second.applied
    assert finished.status.value == "DONE", finished.error
    (backup,) = harness.backups()
    assert mbti(backup) == {"c1": "INTJ", "c2": None}  # the write under way, not the later one
    assert mbti(settings.db_path) == {"c1": "INTJ", "c2": "ENFP"}


async def test_an_avatar_mark_in_flight_is_settled_before_the_upgrade_backs_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CHARACTER_AVATAR item between its GENERATING mark and its final write holds the database:
    the upgrade waits for it, its backup holds no GENERATING, and items not yet started wait
    until the upgrade is done (then the avatar task finishes)."""
    from tests.tasks.test_avatar_status import BlockingProvider
    from tui_updater import runtime as runtime_module
    from tui_updater.characters.demo import create_demo_db
    from tui_updater.core.models import TaskStatus
    from tui_updater.runtime import Runtime

    db_path = create_demo_db(tmp_path / "dev.db")
    conn = sqlite3.connect(db_path)
    try:
        wanted = [
            str(key)
            for (key,) in conn.execute(
                """SELECT id FROM "Character" WHERE avatar IS NULL AND "isDeleted" = 0
                AND "avatarStatus" = 'PENDING' ORDER BY id LIMIT 3"""
            )
        ]
    finally:
        conn.close()
    assert len(wanted) == 3
    provider = BlockingProvider()
    monkeypatch.setattr(runtime_module, "build_provider", lambda settings: provider)
    runtime = await Runtime.open(Settings.for_tests(tmp_path, db_path=db_path))
    try:
        access = runtime.resources.characters.access
        avatars = await runtime.service.submit(
            "CHARACTER_AVATAR", {"characterIds": wanted, "concurrency": 1, "batchSize": 25}
        )
        await provider.drawing.wait()  # the first item's row is marked GENERATING
        upgrade = await runtime.service.submit(
            "DATABASE_UPGRADE", {"migrationScript": SCRIPT, "dryRun": False}
        )
        await until(lambda: access.draining and access.leases == 1, "the upgrade waiting")
        assert (await runtime.service.get_task(upgrade.task_id)).status is TaskStatus.RUNNING
        provider.release.set()  # the item finishes and writes what it has; the rest wait
        upgraded = await runtime.engine.wait(upgrade.task_id)
        painted = await runtime.engine.wait(avatars.task_id)
        (backup,) = await runtime.service.list_backups()
    finally:
        await runtime.close()
    assert upgraded.status is TaskStatus.COMPLETED, upgraded.message
    assert painted.status is TaskStatus.COMPLETED and painted.counts.done == 3, painted.message

    def statuses(path: str | Path) -> dict[str, object]:
        conn = sqlite3.connect(path)
        try:
            marks = 'SELECT id, "avatarStatus" FROM "Character" WHERE id IN (?, ?, ?)'
            return dict(conn.execute(marks, wanted).fetchall())
        finally:
            conn.close()

    # The first item settled before the backup; the other two had not started.
    assert statuses(backup.path) == {
        wanted[0]: "COMPLETED",
        wanted[1]: "PENDING",
        wanted[2]: "PENDING",
    }
    assert set(statuses(db_path).values()) == {"COMPLETED"}
