"""Online tasks through the whole engine against the loopback fake gateway, fault by fault."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fakes.openai_server import FakeOpenAIServer, Fault
from tui_updater.characters.demo import create_demo_db
from tui_updater.config import ProviderSettings, Settings
from tui_updater.core.models import ItemStatus, TaskStatus
from tui_updater.engine.clock import FakeClock
from tui_updater.runtime import Runtime


def online_settings(tmp_path: Path, base_url: str) -> Settings:
    db = create_demo_db(tmp_path / "dev.db")
    return Settings.for_tests(
        tmp_path,
        db_path=db,
        offline=False,
        provider=ProviderSettings(
            base_url=base_url,
            api_key="sk-test-key",
            read_timeout_s=0.5,
            connect_timeout_s=0.5,
            requests_per_minute=0,
            max_in_flight=8,
            mbti_batch_size=1,  # faults are scripted per character: one request each
        ),
    )


def names_needing_mbti(db: Path, count: int) -> list[tuple[str, str]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(
            """SELECT id, name FROM "Character" WHERE ("mbtiType" IS NULL OR "mbtiType" = '') AND "isDeleted" = 0 ORDER BY id LIMIT ?""",
            (count,),
        ).fetchall()
    finally:
        conn.close()


@pytest.fixture
async def gateway() -> AsyncIterator[FakeOpenAIServer]:
    async with FakeOpenAIServer() as srv:
        yield srv


async def test_every_fault_class_ends_as_designed(tmp_path: Path, gateway: FakeOpenAIServer):
    settings = online_settings(tmp_path, gateway.base_url)
    chars = names_needing_mbti(settings.db_path, 9)
    scripts = {
        "retry_after": [Fault.RATE_LIMIT_RETRY_AFTER(1), Fault.OK],
        "rate_limit": [Fault.RATE_LIMIT, Fault.OK],
        "server_error": [Fault.SERVER_ERROR, Fault.UNAVAILABLE, Fault.OK],
        "hang": [Fault.HANG, Fault.OK],
        "disconnect": [Fault.DISCONNECT, Fault.OK],
        "malformed": [Fault.MALFORMED_JSON, Fault.OK],
        "invalid_mbti": [
            Fault.INVALID_MBTI,
            Fault.INVALID_MBTI,
            Fault.INVALID_MBTI,
            Fault.INVALID_MBTI,
        ],
        "quota": [Fault.QUOTA],
        "unauthorized": [Fault.UNAUTHORIZED],
    }
    by_name = {}
    for (cid, name), (label, faults) in zip(chars, scripts.items(), strict=True):
        gateway.script("chat/completions", faults, name=name)
        by_name[label] = (cid, name)
    clock = FakeClock()
    runtime = await Runtime.open(settings, clock=clock, synchronous="NORMAL")
    try:
        ids = [cid for cid, _ in chars]
        task = await runtime.engine.submit(
            "MBTI_ASSIGNMENT", {"characterIds": ids, "concurrency": 4}
        )
        done = await runtime.engine.wait(task.task_id)
        items = {i.key: i for i in await runtime.engine.store.list_items(task.task_id)}
    finally:
        await runtime.close()
    assert len(items) == len(ids)  # no item lost
    assert done.counts.total == done.counts.done + done.counts.failed + done.counts.skipped
    for label in ("retry_after", "rate_limit", "server_error", "hang", "disconnect", "malformed"):
        assert items[by_name[label][0]].status is ItemStatus.DONE, (
            label,
            items[by_name[label][0]].error,
        )
    for label, words in (("invalid_mbti", "mbti"), ("quota", "quota"), ("unauthorized", "401")):
        item = items[by_name[label][0]]
        assert item.status is ItemStatus.FAILED and item.error and words in item.error.lower(), (
            label,
            item.error,
        )
        assert not item.retryable
    assert (
        done.status is TaskStatus.FAILED and done.attempt == 1
    )  # permanent failures: no auto-retry
    assert 1.0 in clock.sleeps  # Retry-After: 1 was waited exactly
    assert (
        gateway.count("chat/completions", name=by_name["quota"][1]) == 1
    )  # permanent: not retried


async def test_online_settings_complete_and_record_usage(tmp_path: Path, gateway: FakeOpenAIServer):
    settings = online_settings(tmp_path, gateway.base_url)
    runtime = await Runtime.open(settings, synchronous="NORMAL")
    try:
        task = await runtime.engine.submit(
            "CHARACTER_SETTINGS", {"updateFields": ["speakingStyle", "scenario"], "concurrency": 8}
        )
        done = await runtime.engine.wait(task.task_id)
    finally:
        await runtime.close()
    assert done.status is TaskStatus.COMPLETED and done.counts.done > 0
    assert done.usage.requests >= done.counts.done and done.usage.total_tokens > 0
