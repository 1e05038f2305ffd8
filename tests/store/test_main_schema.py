"""A tasks.db written the way main wrote it (its schema, its positional INSERTs) opens and reads
back through the store, which maps rows by column name."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tui_updater.core.journal import JournalEntry, JournalState
from tui_updater.core.models import (
    ItemCounts,
    ItemRecord,
    ItemStatus,
    LogRecord,
    Priority,
    TaskRecord,
    TaskStatus,
    TokenUsage,
)
from tui_updater.store.schema import SCHEMA_VERSION, migrate
from tui_updater.store.sqlite import ITEMS, JOURNAL, LOGS, TASKS, SqliteTaskStore

# Main's column lists and row layouts, exactly as its store wrote them.
MAIN_TASK_COLUMNS = (
    "task_id, type, priority, status, data, progress, message, result, error, attempt, "
    "created_at_ms, started_at_ms, finished_at_ms, updated_at_ms, total, done, failed, skipped, "
    "prompt_tokens, completion_tokens, requests"
)
MAIN_ITEM_COLUMNS = (
    "task_id, seq, key, label, status, attempts, error, result, updated_at_ms, retryable"
)


def write_like_main(path: Path) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    assert migrate(conn) == SCHEMA_VERSION
    conn.execute(
        f"INSERT INTO tasks ({MAIN_TASK_COLUMNS}) VALUES ({', '.join('?' * 21)})",
        (
            "task_1",
            "MBTI",
            3,
            "RUNNING",
            json.dumps({"ids": [1, 2]}),
            50.0,
            "half",
            None,
            None,
            2,
            1700,
            1701,
            None,
            1703,
            2,
            1,
            0,
            0,
            5,
            6,
            1,
        ),
    )
    conn.execute(
        f"INSERT INTO tasks ({MAIN_TASK_COLUMNS}) VALUES ({', '.join('?' * 21)})",
        (
            "task_0",
            "AVATAR",
            2,
            "COMPLETED",
            "{}",
            100.0,
            "",
            json.dumps({"n": 1}),
            "late",
            1,
            1600,
            1601,
            1602,
            1602,
            1,
            1,
            0,
            0,
            0,
            0,
            0,
        ),
    )
    conn.executemany(
        f"INSERT INTO items ({MAIN_ITEM_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)",
        [
            ("task_1", 0, "c1", "Alice", "DONE", 1, None, json.dumps({"mbti": "INTJ"}), 1702, 0),
            ("task_1", 1, "c2", "Bob", "FAILED", 3, "timeout", None, 1703, 1),
        ],
    )
    conn.execute(
        "INSERT INTO logs (task_id, timestamp_ms, level, message) VALUES (?,?,?,?)",
        ("task_1", 1701, "INFO", "task started: task_1"),
    )
    conn.execute(
        "INSERT INTO journal (entry_id, task_id, item_key, character_id, column_name, old_value, "
        "new_value, state, created_at_ms) VALUES (?,?,?,?,?,?,?,?,?)",
        (1, "task_1", "c1", "c1", "mbtiType", None, "INTJ", "applied", 1702),
    )
    conn.execute("INSERT INTO engine_state (name, value) VALUES ('paused', '1')")
    conn.close()


async def test_a_tasks_db_written_by_main_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "tasks.db"
    write_like_main(path)
    store = SqliteTaskStore(path)
    await store.open()
    try:
        assert await store.get_task("task_1") == TaskRecord(
            "task_1",
            "MBTI",
            Priority.HIGH,
            TaskStatus.RUNNING,
            {"ids": [1, 2]},
            1700,
            progress=50.0,
            message="half",
            attempt=2,
            started_at_ms=1701,
            updated_at_ms=1703,
            counts=ItemCounts(2, 1, 0, 0),
            usage=TokenUsage(5, 6, 1),
        )
        assert [t.task_id for t in await store.list_tasks()] == ["task_1", "task_0"]
        done = await store.get_task("task_0")
        assert done is not None
        assert (done.result, done.error, done.finished_at_ms) == ({"n": 1}, "late", 1602)
        assert await store.list_items("task_1") == [
            ItemRecord(
                "task_1", 0, "c1", "Alice", ItemStatus.DONE, 1, None, {"mbti": "INTJ"}, 1702
            ),
            ItemRecord("task_1", 1, "c2", "Bob", ItemStatus.FAILED, 3, "timeout", None, 1703, True),
        ]
        assert await store.task_logs("task_1") == [
            LogRecord(1701, "INFO", "task started: task_1", "task_1")
        ]
        assert await store.entries("task_1") == [
            JournalEntry(
                "task_1", "c1", "c1", "mbtiType", None, "INTJ", JournalState.APPLIED, 1, 1702
            )
        ]
        assert await store.count_by_status() == {"RUNNING": 1, "COMPLETED": 1}
        assert await store.get_state("paused") == "1"
    finally:
        await store.close()


def test_the_rows_derived_from_the_records_are_the_tables_columns(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "tasks.db", isolation_level=None)
    migrate(conn)

    def columns(table: str) -> set[str]:
        return {name for (_, name, *_) in conn.execute(f"PRAGMA table_info({table})")}

    assert set(TASKS.columns) == columns("tasks")
    assert set(ITEMS.columns) == columns("items")
    assert set(LOGS.columns) == columns("logs") - {"id"}  # the log line's rowid
    assert set(JOURNAL.columns) == columns("journal")
    conn.close()


def test_a_row_converts_back_to_the_same_record() -> None:
    conn = sqlite3.connect(":memory:")
    conn.row_factory = sqlite3.Row
    task = TaskRecord(
        "t",
        "MBTI",
        Priority.LOW,
        TaskStatus.FAILED,
        {"ids": [1, "二"]},
        1,
        result={"n": 2},
        error="boom",
        counts=ItemCounts(3, 1, 1, 1),
        usage=TokenUsage(1, 2, 3),
    )
    row = TASKS.row(task)
    assert (row["priority"], row["status"], row["data"], row["total"], row["requests"]) == (
        1,
        "FAILED",
        '{"ids":[1,"二"]}',
        3,
        3,
    )
    names = ", ".join(f":{c} AS {c}" for c in TASKS.columns)
    assert TASKS.record(conn.execute(f"SELECT {names}", row).fetchone()) == task
    null_message = {**row, "message": None, "progress": None}
    assert TASKS.record(conn.execute(f"SELECT {names}", null_message).fetchone()) == task
    conn.close()
