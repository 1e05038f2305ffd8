"""The JSON of records is pinned to what main sent before records became pydantic models.

Each ``MAIN_*`` string was captured from main's hand-written ``to_json`` for the record built
beside it; the API, the WebSocket and ``--connect`` clients of older releases depend on it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tui_updater.core.events import Event, EventType
from tui_updater.core.models import (
    BackupInfo,
    ItemCounts,
    ItemRecord,
    ItemStatus,
    LogRecord,
    Priority,
    TaskRecord,
    TaskStatus,
    TokenUsage,
)
from tui_updater.core.record import Record
from tui_updater.core.service import QueueStatus, ServiceInfo, TaskTypeInfo

TASK = TaskRecord(
    "task_1",
    "MBTI",
    Priority.HIGH,
    TaskStatus.RUNNING,
    {"ids": [1]},
    1700,
    progress=40.0,
    message="m",
    result={"a": 1},
    error="e",
    attempt=2,
    started_at_ms=1701,
    finished_at_ms=1702,
    updated_at_ms=1703,
    counts=ItemCounts(10, 4, 1, 2),
    usage=TokenUsage(5, 6, 7),
)
FRESH_TASK = TaskRecord("task_0", "MBTI", Priority.NORMAL, TaskStatus.PENDING, {}, 1700)
ITEM = ItemRecord("task_1", 3, "c3", "Alice", ItemStatus.FAILED, 2, "boom", {"x": 1}, 1704, True)
FRESH_ITEM = ItemRecord("task_1", 0, "c0", "Bob")
EVENT = Event(
    EventType.TASK_PROGRESS,
    task_id="task_1",
    status="RUNNING",
    progress=40.0,
    message="m",
    result={"r": 1},
    error="x",
    timestamp_ms=1705,
    record=TASK,
)

MAIN_TASK = '{"taskId":"task_1","type":"MBTI","priority":"HIGH","priorityValue":3,"status":"RUNNING","progress":40.0,"message":"m","data":{"ids":[1]},"result":{"a":1},"error":"e","attempt":2,"createdAt":1700,"startedAt":1701,"completedAt":1702,"updatedAt":1703,"items":{"total":10,"done":4,"failed":1,"skipped":2},"usage":{"promptTokens":5,"completionTokens":6,"totalTokens":11,"requests":7},"database":null,"databaseIdentity":null,"revertedAt":null,"reviewPending":0}'
MAIN_FRESH_TASK = '{"taskId":"task_0","type":"MBTI","priority":"NORMAL","priorityValue":2,"status":"PENDING","progress":0.0,"message":"","data":{},"result":null,"error":null,"attempt":1,"createdAt":1700,"startedAt":null,"completedAt":null,"updatedAt":0,"items":{"total":0,"done":0,"failed":0,"skipped":0},"usage":{"promptTokens":0,"completionTokens":0,"totalTokens":0,"requests":0},"database":null,"databaseIdentity":null,"revertedAt":null,"reviewPending":0}'
MAIN_ITEM = '{"taskId":"task_1","seq":3,"key":"c3","label":"Alice","status":"FAILED","attempts":2,"error":"boom","result":{"x":1},"updatedAt":1704,"retryable":true}'
MAIN_FRESH_ITEM = '{"taskId":"task_1","seq":0,"key":"c0","label":"Bob","status":"PENDING","attempts":0,"error":null,"result":null,"updatedAt":0,"retryable":false}'
MAIN_EVENT = '{"type":"task_progress","taskId":"task_1","status":"RUNNING","progress":40.0,"message":"m","result":{"r":1},"error":"x","timestamp":1705,"task":{"taskId":"task_1","type":"MBTI","priority":"HIGH","priorityValue":3,"status":"RUNNING","progress":40.0,"message":"m","data":{"ids":[1]},"result":{"a":1},"error":"e","attempt":2,"createdAt":1700,"startedAt":1701,"completedAt":1702,"updatedAt":1703,"items":{"total":10,"done":4,"failed":1,"skipped":2},"usage":{"promptTokens":5,"completionTokens":6,"totalTokens":11,"requests":7},"database":null,"databaseIdentity":null,"revertedAt":null,"reviewPending":0}}'
MAIN_QUEUE_EVENT = '{"type":"queue_paused","taskId":null,"status":null,"progress":null,"message":null,"result":null,"error":null,"timestamp":1}'
MAIN_LOG_EVENT = '{"type":"log","taskId":"task_1","status":null,"progress":null,"message":"hi","result":null,"error":null,"timestamp":2,"level":"INFO"}'
MAIN_LOG = '{"timestamp":1,"level":"INFO","message":"m","taskId":"t"}'
MAIN_BACKUP = '{"name":"n","path":"p","createdAt":1,"size":2,"sourceDb":"s"}'
# Keys added since the pin on purpose: a type's "aliases" (quick routes), the queue's "gateway",
# a task's "database" and "databaseIdentity" (the character database it belongs to), and its
# "revertedAt" (when everything it wrote was undone).
MAIN_TASK_TYPE = (
    '{"type":"N","name":"T","description":"d","options":{"type":"object"},"aliases":[]}'
)
MAIN_SERVICE = '{"database":"db","demo":true,"provider":"offline","online":false,"chatModel":"c","imageModel":"i","version":"v","remote":null,"x":1}'
MAIN_QUEUE = '{"paused":false,"pending":1,"running":2,"maxConcurrent":3,"totalTasks":4,"byStatus":{"PENDING":1},"gateway":null}'

PINNED: list[tuple[str, Record, str]] = [
    ("task", TASK, MAIN_TASK),
    ("fresh task", FRESH_TASK, MAIN_FRESH_TASK),
    ("item", ITEM, MAIN_ITEM),
    ("fresh item", FRESH_ITEM, MAIN_FRESH_ITEM),
    ("event with task", EVENT, MAIN_EVENT),
    ("queue event", Event(EventType.QUEUE_PAUSED, timestamp_ms=1), MAIN_QUEUE_EVENT),
    (
        "log event",
        Event(EventType.LOG, task_id="task_1", message="hi", level="INFO", timestamp_ms=2),
        MAIN_LOG_EVENT,
    ),
    ("log", LogRecord(1, "INFO", "m", "t"), MAIN_LOG),
    ("backup", BackupInfo("n", "p", 1, 2, "s"), MAIN_BACKUP),
    ("task type", TaskTypeInfo("N", "T", "d", {"type": "object"}), MAIN_TASK_TYPE),
    ("service", ServiceInfo("db", True, "offline", False, "c", "i", "v", None, x=1), MAIN_SERVICE),
    ("queue", QueueStatus(False, 1, 2, 3, 4, {"PENDING": 1}), MAIN_QUEUE),
]


def shape(value: Any) -> Any:
    """Keys and value types, recursively: what a client of the JSON depends on."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(item) for item in value]
    return type(value).__name__


@pytest.mark.parametrize(("name", "record", "main"), PINNED, ids=[p[0] for p in PINNED])
def test_json_has_mains_keys_and_value_types(name: str, record: Record, main: str) -> None:
    assert shape(record.to_json()) == shape(json.loads(main))


@pytest.mark.parametrize(("name", "record", "main"), PINNED, ids=[p[0] for p in PINNED])
def test_json_is_byte_for_byte_mains_once_keys_are_sorted(
    name: str, record: Record, main: str
) -> None:
    # Key order is not part of the contract (computed keys such as priorityValue come last).
    def wire(data: object) -> str:
        return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))

    assert wire(record.to_json()) == wire(json.loads(main))


@pytest.mark.parametrize(("name", "record", "main"), PINNED, ids=[p[0] for p in PINNED])
def test_mains_json_reads_back_as_the_same_record(name: str, record: Record, main: str) -> None:
    read = type(record).from_json(json.loads(main))
    assert read.to_json() == record.to_json()
    if not isinstance(record, Event):  # an in-process event carries its record, a read one JSON
        assert read == record


def test_a_read_event_carries_its_task_as_a_record() -> None:
    read = Event.from_json(json.loads(MAIN_EVENT))
    assert read.record is None
    assert read.task_record() == TASK


def test_task_priority_json_number_wins_and_a_name_is_enough() -> None:
    data = json.loads(MAIN_TASK)
    assert TaskRecord.from_json({**data, "priority": "LOW"}).priority is Priority.HIGH
    del data["priorityValue"]
    assert TaskRecord.from_json({**data, "priority": "urgent"}).priority is Priority.URGENT
