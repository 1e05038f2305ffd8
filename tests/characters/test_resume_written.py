"""A crash after a batch's rows were written but before its items' outcomes were stored: the
resumed task finds its own writes in the journal and counts those items DONE, not CONFLICT,
without writing them again."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from tui_updater.characters.demo import create_demo_db
from tui_updater.config import Settings
from tui_updater.core.models import TaskStatus
from tui_updater.runtime import Runtime

FIELDS = {
    "MBTI_ASSIGNMENT": ("mbtiType",),
    "CHARACTER_SETTINGS": ("fullDescription", "speakingStyle", "scenario", "exampleDialogs"),
}


def crash_after_writes(
    state: Path,
    db: Path,
    task_id: str,
    fields: tuple[str, ...],
    *,
    planned: bool,
    obtained: bool = False,
) -> int:
    """Put tasks.db back as a kill -9 leaves it between a batch's row writes and the storing of
    its outcomes: the task RUNNING, the later half of its items PENDING with the values they
    first saw, their journal entries APPLIED (or, ``planned``, not yet marked)."""
    tasks = sqlite3.connect(state / "tasks.db")
    rows = sqlite3.connect(db)
    try:
        keys = [
            key
            for (key,) in tasks.execute(
                "SELECT key FROM items WHERE task_id=? AND status='DONE' ORDER BY seq", (task_id,)
            )
        ]
        lost = keys[len(keys) // 2 :]
        for key in lost:
            old = dict(
                tasks.execute(
                    "SELECT column_name, old_value FROM journal WHERE task_id=? AND item_key=?",
                    (task_id, key),
                ).fetchall()
            )
            names = ", ".join(f'"{f}"' for f in fields)
            current = rows.execute(f'SELECT {names} FROM "Character" WHERE id=?', (key,)).fetchone()
            seen = {f: old.get(f, value) for f, value in zip(fields, current, strict=True)}
            new = dict(
                tasks.execute(
                    "SELECT column_name, new_value FROM journal WHERE task_id=? AND item_key=?",
                    (task_id, key),
                ).fetchall()
            )
            # A gateway's answer is stored OBTAINED before it is applied: resumed, it is
            # applied again from that stored result.
            result = (
                json.dumps(
                    {
                        "characterId": key,
                        "offline": False,
                        "changes": {f: [seen[f], new[f]] for f in fields if f in new},
                    }
                )
                if obtained
                else None
            )
            tasks.execute(
                "UPDATE items SET status=?, result=?, first_seen=? WHERE task_id=? AND key=?",
                ("OBTAINED" if obtained else "PENDING", result, json.dumps(seen), task_id, key),
            )
            if planned:
                tasks.execute(
                    "UPDATE journal SET state='planned' WHERE task_id=? AND item_key=?",
                    (task_id, key),
                )
        tasks.execute(
            "UPDATE tasks SET status='RUNNING', finished_at_ms=NULL WHERE task_id=?", (task_id,)
        )
        tasks.commit()
        return len(lost)
    finally:
        tasks.close()
        rows.close()


@pytest.mark.parametrize("obtained", [False, True], ids=["pending", "obtained"])
@pytest.mark.parametrize("planned", [False, True], ids=["marked", "unmarked"])
@pytest.mark.parametrize("type_name", sorted(FIELDS))
async def test_items_written_before_a_crash_resume_as_done(
    tmp_path: Path, type_name: str, planned: bool, obtained: bool
) -> None:
    db = create_demo_db(tmp_path / "dev.db")
    settings = Settings.for_tests(tmp_path, db_path=db, offline=True)
    runtime = await Runtime.open(settings, synchronous="NORMAL")
    try:
        task = await runtime.engine.submit(type_name, {"concurrency": 4, "batchSize": 5})
        first = await runtime.engine.wait(task.task_id)
    finally:
        await runtime.close()
    assert first.status is TaskStatus.COMPLETED and first.counts.done >= 10
    with sqlite3.connect(db) as conn:
        rows_before = conn.execute('SELECT * FROM "Character" ORDER BY id').fetchall()
    lost = crash_after_writes(
        settings.state_dir, db, task.task_id, FIELDS[type_name], planned=planned, obtained=obtained
    )
    assert lost >= 5

    runtime = await Runtime.open(settings, synchronous="NORMAL")  # resumes the RUNNING task
    try:
        again = await runtime.engine.wait(task.task_id)
        items = await runtime.store.list_items(task.task_id)
        entries = await runtime.store.entries(task.task_id)
    finally:
        await runtime.close()
    statuses = Counter(item.status.value for item in items)
    assert again.status is TaskStatus.COMPLETED, again.error
    assert statuses == {"DONE": first.counts.done}, [i.error for i in items if i.error]
    assert Counter(e.state.value for e in entries) == {"applied": len(entries)}  # unmarked too
    with sqlite3.connect(db) as conn:  # nothing written twice, nothing undone
        assert conn.execute('SELECT * FROM "Character" ORDER BY id').fetchall() == rows_before
    if not obtained:
        resumed = [i for i in items if i.result and i.result.get("writtenBefore")]
        assert len(resumed) == lost
