"""Claims and first-seen values through the whole engine against the loopback fake gateway:
two avatar tasks over the same characters, and a site upload during a retry."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.characters.dbfiles import execute, row
from tests.fakes.openai_server import FakeOpenAIServer, Fault
from tui_updater.characters.demo import create_demo_db
from tui_updater.config import EngineSettings, ProviderSettings, Settings
from tui_updater.core.models import ItemStatus, TaskStatus
from tui_updater.engine.clock import FakeClock
from tui_updater.runtime import Runtime


def online_settings(tmp_path: Path, base_url: str) -> Settings:
    db = create_demo_db(tmp_path / "dev.db")
    return Settings.for_tests(
        tmp_path,
        db_path=db,
        offline=False,
        engine=EngineSettings(retry_base_delay_s=0.01, retry_max_delay_s=0.05, max_running_tasks=2),
        provider=ProviderSettings(
            base_url=base_url,
            api_key="sk-test-key",
            read_timeout_s=5,
            connect_timeout_s=5,
            requests_per_minute=0,
            max_in_flight=8,
        ),
    )


def needing_avatar(db: Path, count: int) -> list[tuple[str, str]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(
            """SELECT id, name FROM "Character" WHERE avatar IS NULL AND "isDeleted" = 0
            ORDER BY id LIMIT ?""",
            (count,),
        ).fetchall()
    finally:
        conn.close()


class HeldBackoff(FakeClock):
    """The first retry delay waits until the test lets it go: the site acts in that window."""

    def __init__(self) -> None:
        super().__init__()
        self.waiting = asyncio.Event()
        self.go = asyncio.Event()

    async def sleep(self, delay_s: float) -> None:
        if not self.waiting.is_set():
            self.waiting.set()
            await self.go.wait()
        await super().sleep(delay_s)


@pytest.fixture
async def gateway() -> AsyncIterator[FakeOpenAIServer]:
    async with FakeOpenAIServer() as srv:
        yield srv


async def test_two_avatar_tasks_draw_each_character_once(
    tmp_path: Path, gateway: FakeOpenAIServer
) -> None:
    settings = online_settings(tmp_path, gateway.base_url)
    chars = needing_avatar(settings.db_path, 6)
    ids = [cid for cid, _ in chars]
    runtime = await Runtime.open(settings, synchronous="NORMAL")
    try:
        data = {"characterIds": ids, "concurrency": 3, "batchSize": 2}
        first = await runtime.engine.submit("CHARACTER_AVATAR", data)
        second = await runtime.engine.submit("CHARACTER_AVATAR", data)
        done = await asyncio.gather(
            runtime.engine.wait(first.task_id), runtime.engine.wait(second.task_id)
        )
        items = [
            item
            for task in (first, second)
            for item in await runtime.engine.store.list_items(task.task_id)
        ]
    finally:
        await runtime.close()
    assert [t.status for t in done] == [TaskStatus.COMPLETED, TaskStatus.COMPLETED]
    by_status: dict[ItemStatus, list[str]] = {}
    for item in items:
        by_status.setdefault(item.status, []).append(item.key)
    assert ItemStatus.FAILED not in by_status and ItemStatus.CONFLICT not in by_status, items
    assert sorted(by_status[ItemStatus.DONE]) == sorted(ids)  # each character done by one task
    claimed = [i for i in items if i.status is ItemStatus.SKIPPED]
    assert len(claimed) == len(ids)
    assert all(i.error and i.error.startswith("claimed by task_") for i in claimed)
    for cid, name in chars:
        assert gateway.count(name=name) == 1, name  # one image per character, paid once
        stored = row(settings.db_path, "Character", "id", cid)
        assert stored["avatarStatus"] == "COMPLETED"
        assert (settings.avatar_dir / Path(stored["avatar"]).name).is_file()


async def test_a_site_upload_during_a_retry_is_kept_and_reported(
    tmp_path: Path, gateway: FakeOpenAIServer
) -> None:
    settings = online_settings(tmp_path, gateway.base_url)
    ((cid, name),) = needing_avatar(settings.db_path, 1)
    status_before = row(settings.db_path, "Character", "id", cid)["avatarStatus"]
    gateway.script("images/generations", [Fault.SERVER_ERROR], name=name)
    clock = HeldBackoff()
    runtime = await Runtime.open(settings, clock=clock, synchronous="NORMAL")
    try:
        task = await runtime.engine.submit("CHARACTER_AVATAR", {"characterIds": [cid]})
        await clock.waiting.wait()  # the first image request failed; the retry waits
        assert row(settings.db_path, "Character", "id", cid)["avatarStatus"] == "FAILED"
        # The site's user uploads an avatar, through another connection (as Prisma would).
        execute(
            settings.db_path,
            'UPDATE "Character" SET avatar = ?, "avatarStatus" = ? WHERE id = ?',
            ("/uploads/mine.png", "FAILED", cid),
        )
        clock.go.set()
        done = await runtime.engine.wait(task.task_id)
        (item,) = await runtime.engine.store.list_items(task.task_id)
    finally:
        await runtime.close()
    stored = row(settings.db_path, "Character", "id", cid)
    assert stored["avatar"] == "/uploads/mine.png"  # the site's avatar is kept
    assert item.status is ItemStatus.CONFLICT and item.error and "avatar" in item.error
    assert done.result is not None
    assert (done.result["done"], done.result["conflicts"]) == (0, 1)
    assert stored["avatarStatus"] == status_before  # the tool's own FAILED is taken back
    assert gateway.count("images/generations", name=name) == 1  # the retry paid for nothing
    assert not list(settings.avatar_dir.glob("*.png"))


async def test_a_named_character_with_an_avatar_and_a_failed_status_is_skipped(
    tmp_path: Path,
) -> None:
    db = create_demo_db(tmp_path / "dev.db")
    ((cid, _),) = needing_avatar(db, 1)
    execute(
        db,
        """UPDATE "Character" SET avatar = '/site.png', "avatarStatus" = 'FAILED' WHERE id = ?""",
        (cid,),
    )
    runtime = await Runtime.open(Settings.for_tests(tmp_path, db_path=db), synchronous="NORMAL")
    try:
        everything = await runtime.engine.submit("CHARACTER_AVATAR", {})
        await runtime.engine.wait(everything.task_id)
        keys = {i.key for i in await runtime.engine.store.list_items(everything.task_id)}
        named = await runtime.engine.submit("CHARACTER_AVATAR", {"characterIds": [cid]})
        await runtime.engine.wait(named.task_id)
        (item,) = await runtime.engine.store.list_items(named.task_id)
    finally:
        await runtime.close()
    assert cid not in keys  # not a candidate without overwrite
    assert item.status is ItemStatus.SKIPPED and "overwrite is off" in (item.error or "")
    assert row(db, "Character", "id", cid)["avatar"] == "/site.png"
