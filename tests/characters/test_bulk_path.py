"""The bulk path: which results are stored before they are applied, compact finished rows,
characters read ahead, and several batches written with one journal commit."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.characters.dbfiles import execute
from tests.characters.memjournal import InMemoryJournal
from tests.characters.taskkit import StubProvider, harness
from tui_updater.characters.db import CharacterDb
from tui_updater.characters.demo import create_demo_db
from tui_updater.characters.writer import CharacterChange
from tui_updater.config import Settings
from tui_updater.core.models import ItemRecord, TaskStatus
from tui_updater.providers.offline import OfflineProvider
from tui_updater.runtime import Runtime
from tui_updater.tasks.mbti import MbtiAssignmentTask

TASK = MbtiAssignmentTask()


async def test_an_offline_answer_is_cheap_however_long_it_waited(tmp_path: Path) -> None:
    h = await harness(tmp_path, create_demo_db(tmp_path / "dev.db"), OfflineProvider())
    try:
        key, label = (await h.db.select_candidates("mbti"))[0]
        params = TASK.parse_params({})
        result = await TASK.obtain(h.ctx, params, ItemRecord("task_t", 0, key, label))
    finally:
        await h.db.close()
    assert result["offline"] is True
    assert not TASK.stored_before_apply(result, 5.0)  # a busy loop's wall time is no cost
    assert not TASK.stored_before_apply({"skipped": "already has type"}, 5.0)


async def test_a_gateway_answer_is_stored_before_it_is_applied(tmp_path: Path) -> None:
    h = await harness(tmp_path, create_demo_db(tmp_path / "dev.db"), StubProvider())
    try:
        key, label = (await h.db.select_candidates("mbti"))[0]
        params = TASK.parse_params({})
        result = await TASK.obtain(h.ctx, params, ItemRecord("task_t", 0, key, label))
    finally:
        await h.db.close()
    assert result["offline"] is False
    assert TASK.stored_before_apply(result, 0.0)  # paid: never asked twice, however fast
    assert TASK.stored_before_apply({"files": {"avatar": "/a.png"}, "offline": True}, 0.0)


async def test_finished_items_keep_no_first_seen_values(tmp_path: Path) -> None:
    data = tmp_path / "data"
    settings = Settings.for_tests(
        tmp_path, demo=True, data_dir=data, db_path=data / "demo" / "dev.db"
    )
    runtime = await Runtime.open(settings, synchronous="NORMAL")
    try:
        task = await runtime.engine.submit("MBTI_ASSIGNMENT", {"concurrency": 8, "batchSize": 3})
        done = await runtime.engine.wait(task.task_id)
    finally:
        await runtime.close()
    assert done.status is TaskStatus.COMPLETED and done.counts.done > 3
    conn = sqlite3.connect(settings.state_dir / "tasks.db")
    try:
        kept = conn.execute(
            "SELECT COUNT(*) FROM items WHERE status='DONE' AND first_seen IS NOT NULL"
        ).fetchone()[0]
        done_rows = conn.execute("SELECT COUNT(*) FROM items WHERE status='DONE'").fetchone()[0]
    finally:
        conn.close()
    assert done_rows == done.counts.done and kept == 0


async def test_a_row_read_ahead_is_used_once_by_its_reader(
    demo_path: Path, demo: CharacterDb
) -> None:
    key = (await demo.select_candidates("mbti"))[0][0]
    await demo.read_ahead([key], reader="task_a")
    execute(demo_path, 'UPDATE "Character" SET "mbtiType" = ? WHERE id = ?', ("ENTP", key))
    other = await demo.fetch_one(key, reader="task_b")
    ahead = await demo.fetch_one(key, reader="task_a")
    again = await demo.fetch_one(key, reader="task_a")
    assert other is not None and other["mbtiType"] == "ENTP"
    assert ahead is not None and ahead["mbtiType"] is None  # as read ahead
    assert again is not None and again["mbtiType"] == "ENTP"  # read afresh


async def test_batches_written_together_share_one_journal_commit(
    demo_path: Path, demo: CharacterDb, journal: InMemoryJournal
) -> None:
    keys = [k for k, _ in (await demo.select_candidates("mbti"))[:5]]
    execute(demo_path, 'UPDATE "Character" SET "mbtiType" = ? WHERE id = ?', ("ISFP", keys[2]))
    changes = [CharacterChange(k, k, {"mbtiType": (None, "INTJ")}) for k in keys]
    results = await demo.write_changes("task_g", changes, per_transaction=2)
    assert [r.item_key for r in results] == keys
    assert [r.applied for r in results] == [True, True, False, True, True]
    assert journal.plan_calls == 1
