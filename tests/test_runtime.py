"""The whole stack in-process: Runtime (store, engine, character db, offline provider) on the demo."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from PIL import Image

from tui_updater.config import Settings
from tui_updater.core.models import TaskStatus
from tui_updater.errors import InvalidParameters, MissingColumn, TaskStateError
from tui_updater.providers.base import MBTI_TYPES
from tui_updater.runtime import Runtime


def demo_settings(tmp_path: Path) -> Settings:
    data = tmp_path / "data"
    return Settings.for_tests(tmp_path, demo=True, data_dir=data, db_path=data / "demo" / "dev.db")


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    rt = await Runtime.open(demo_settings(tmp_path), synchronous="NORMAL")
    yield rt
    await rt.close()


def rows(db: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


async def test_mbti_fills_missing_types_once_and_reverts(runtime: Runtime):
    db = runtime.settings.db_path
    missing_before = rows(
        db,
        """SELECT id FROM "Character" WHERE ("mbtiType" IS NULL OR "mbtiType" = '') AND "isDeleted" = 0""",
    )
    assert missing_before
    task = await runtime.engine.submit("MBTI_ASSIGNMENT", {})
    done = await runtime.engine.wait(task.task_id)
    assert done.status is TaskStatus.COMPLETED and done.counts.done == len(missing_before)
    types = dict(rows(db, 'SELECT id, "mbtiType" FROM "Character" WHERE "isDeleted" = 0'))
    assert all(types[cid] in MBTI_TYPES for (cid,) in missing_before)
    stats = done.result["statistics"]  # type: ignore[index]
    assert sum(entry["count"] for entry in stats["distribution"]) == stats["total"]
    assert set(stats["byCategory"]) == {"Analysts", "Diplomats", "Sentinels", "Explorers"}

    again = await runtime.engine.wait((await runtime.engine.submit("MBTI_ASSIGNMENT", {})).task_id)
    assert (
        again.counts.total == 0
        and dict(rows(db, 'SELECT id, "mbtiType" FROM "Character" WHERE "isDeleted" = 0')) == types
    )

    report = await runtime.service.revert(task.task_id)
    assert report["reverted"] >= len(missing_before)
    after = dict(rows(db, 'SELECT id, "mbtiType" FROM "Character"'))
    assert all(after[cid] is None for (cid,) in missing_before)


async def test_settings_and_avatars_write_real_columns_in_their_formats(runtime: Runtime):
    db = runtime.settings.db_path
    settings_task = await runtime.engine.submit(
        "CHARACTER_SETTINGS", {"updateFields": ["speakingStyle", "exampleDialogs"]}
    )
    avatar_task = await runtime.engine.submit(
        "CHARACTER_AVATAR", {"batchSize": 4, "concurrency": 2}
    )
    assert (await runtime.engine.wait(settings_task.task_id)).status is TaskStatus.COMPLETED
    avatars = await runtime.engine.wait(avatar_task.task_id)
    assert avatars.status is TaskStatus.COMPLETED and avatars.counts.done > 0
    assert (
        rows(
            db,
            """SELECT COUNT(*) FROM "Character" WHERE "speakingStyle" IS NULL OR "speakingStyle" = ''""",
        )[0][0]
        == rows(
            db,
            'SELECT COUNT(*) FROM "Character" WHERE "isDeleted" = 1 AND ("speakingStyle" IS NULL OR "speakingStyle" = \'\')',
        )[0][0]
    )
    assert {t for (t,) in rows(db, 'SELECT DISTINCT typeof("updated_at") FROM "Character"')} == {
        "integer"
    }
    done_ids = [
        i.key
        for i in await runtime.engine.store.list_items(avatar_task.task_id)
        if i.status.value == "DONE"
    ]
    assert len(done_ids) == avatars.counts.done
    stored = {
        cid: (public, status)
        for cid, public, status in rows(db, 'SELECT id, avatar, "avatarStatus" FROM "Character"')
    }
    for cid in done_ids:
        public, status = stored[cid]
        name = f"{cid}-avatar-{avatar_task.task_id}-"
        assert status == "COMPLETED" and public.startswith(f"/uploads/characters/avatars/{name}")
        with Image.open(runtime.settings.avatar_dir / Path(public).name) as image:
            assert image.format == "PNG" and image.size == (512, 512)


async def test_unknown_ids_and_missing_column_are_named(tmp_path: Path):
    rt = await Runtime.open(demo_settings(tmp_path), synchronous="NORMAL")
    try:
        with pytest.raises(InvalidParameters) as bad:
            await rt.engine.submit("MBTI_ASSIGNMENT", {"characterIds": ["nope-1", 7]})
        assert bad.value.field == "characterIds" and "nope-1" in bad.value.message
    finally:
        await rt.close()
    db = tmp_path / "data" / "demo" / "dev.db"
    conn = sqlite3.connect(db)
    conn.execute('ALTER TABLE "Character" DROP COLUMN "mbtiType"')
    conn.commit()
    conn.close()
    rt = await Runtime.open(demo_settings(tmp_path), synchronous="NORMAL")
    try:
        with pytest.raises(MissingColumn, match="mbtiType"):
            await rt.engine.submit("MBTI_ASSIGNMENT", {})
    finally:
        await rt.close()


def columns_of(db: Path) -> set[str]:
    return {row[1] for row in rows(db, 'PRAGMA table_info("Character")')}


async def test_reverting_an_upgrade_restores_its_backup(runtime: Runtime):
    db = runtime.settings.db_path
    script = 'ALTER TABLE "Character" ADD COLUMN "mood" TEXT;'
    task = await runtime.engine.submit("DATABASE_UPGRADE", {"migrationScript": script})
    assert (await runtime.engine.wait(task.task_id)).status is TaskStatus.COMPLETED
    assert "mood" in columns_of(db)
    report = await runtime.service.revert(task.task_id)
    assert report["restoredBackup"] and report["safetyBackup"]
    assert "mood" not in columns_of(db)
    dry = await runtime.engine.submit(
        "DATABASE_UPGRADE", {"migrationScript": script, "dryRun": True}
    )
    await runtime.engine.wait(dry.task_id)
    with pytest.raises(TaskStateError, match="dry-run"):
        await runtime.service.revert(dry.task_id)
