"""A write that committed while its journal mark was lost, after which the site put the old
value back, is not applied again on resume: the planned updated-at tells the two apart."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.characters.dbfiles import execute, row
from tests.fakes.openai_server import FakeOpenAIServer
from tui_updater.characters.demo import create_demo_db
from tui_updater.config import ProviderSettings, Settings
from tui_updater.core.journal import JournalEntry, JournalState
from tui_updater.core.models import ItemRecord, ItemStatus, TaskRecord
from tui_updater.runtime import Runtime
from tui_updater.store.sqlite import SqliteTaskStore

ROOT = Path(__file__).resolve().parents[2]


def first_without_type(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        (cid,) = conn.execute(
            """SELECT id FROM "Character" WHERE "mbtiType" IS NULL AND "isDeleted" = 0
            ORDER BY id LIMIT 1"""
        ).fetchone()
    finally:
        conn.close()
    return str(cid)


def test_a_value_the_site_put_back_after_a_lost_mark_is_not_written_again(
    tmp_path: Path,
) -> None:
    db = create_demo_db(tmp_path / "dev.db")
    cid = first_without_type(db)
    proc = subprocess.run(
        [sys.executable, "-m", "tests.characters.journal_kill_worker", str(tmp_path), str(db), cid],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == -9, proc.stderr[-2000:]
    task_id = proc.stdout.split()[0]
    written = row(db, "Character", "id", cid)
    assert written["mbtiType"]  # the write committed before the kill
    # The site's user clears the generated type; Prisma moves updatedAt on, as on every update.
    execute(
        db,
        'UPDATE "Character" SET "mbtiType" = NULL, updated_at = ? WHERE id = ?',
        (int(written["updated_at"]) + 5_000, cid),
    )

    async def resume() -> tuple[
        TaskRecord, list[JournalEntry], list[JournalEntry], ItemRecord, int
    ]:
        with FakeOpenAIServer() as gateway:
            settings = Settings.for_tests(
                tmp_path,
                db_path=db,
                offline=False,
                provider=ProviderSettings(
                    base_url=gateway.base_url, api_key="sk-test", requests_per_minute=0
                ),
            )
            # What the kill left, read before an engine starts settling it.
            store = SqliteTaskStore(settings.tasks_db_path)
            await store.open()
            try:
                left = await store.entries(task_id)
            finally:
                await store.close()
            runtime = await Runtime.open(settings)
            try:
                done = await runtime.engine.wait(task_id)
                after = await runtime.engine.store.entries(task_id)
                (item,) = await runtime.engine.store.list_items(task_id)
            finally:
                await runtime.close()
            return done, left, after, item, gateway.count("chat/completions")

    done, left, after, item, requests = asyncio.run(resume())
    (planned,) = left
    assert planned.state is JournalState.PLANNED  # the kill lost the mark
    assert planned.updated_to == written["updated_at"]  # the exact value the write set
    assert planned.updated_before != planned.updated_to
    assert row(db, "Character", "id", cid)["mbtiType"] is None  # the site's edit stands
    assert item.status is ItemStatus.CONFLICT, item
    assert [e.state for e in after] == [JournalState.CONFLICT]
    assert requests == 0  # the stored result was used, never requested again
    assert done.result is not None and done.result["conflicts"] == 1
