"""Character-database review bugs: revert retried after a conflict, with the real journal."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.characters.dbfiles import make_db, row
from tui_updater.characters.db import CharacterDb
from tui_updater.characters.writer import CharacterChange
from tui_updater.config import CharacterSettings
from tui_updater.store.sqlite import SqliteTaskStore

TABLE = """CREATE TABLE "Character" ("id" TEXT PRIMARY KEY, "name" TEXT, "mbtiType" TEXT,
    "updated_at" INTEGER)"""


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[tuple[Path, CharacterDb]]:
    path = make_db(
        tmp_path / "dev.db",
        TABLE,
        [{"id": "c1", "name": "A", "mbtiType": None, "updated_at": 1_700_000_000_000}],
    )
    store = SqliteTaskStore(tmp_path / "tasks.db", synchronous="NORMAL")
    await store.open()
    db = await CharacterDb.open(path, CharacterSettings(), store)
    yield path, db
    await db.close()
    await store.close()


async def test_revert_in_the_wrong_order_can_be_completed_by_reverting_again(setup):
    path, db = setup
    await db.write_changes("t1", [CharacterChange("c1", "c1", {"mbtiType": (None, "INTJ")})])
    await db.write_changes("t2", [CharacterChange("c1", "c1", {"mbtiType": ("INTJ", "ENFP")})])
    first = await db.revert("t1")  # t2 changed the field since: reported, not reverted
    assert first["reverted"] == 0 and len(first["skipped"]) == 1
    assert (await db.revert("t2"))["reverted"] == 1
    assert row(path, "Character", "id", "c1")["mbtiType"] == "INTJ"
    again = await db.revert("t1")  # nothing blocks it any more
    assert again["reverted"] == 1, again
    assert row(path, "Character", "id", "c1")["mbtiType"] is None


async def test_reverting_twice_reverts_nothing_the_second_time(setup):
    path, db = setup
    await db.write_changes("t1", [CharacterChange("c1", "c1", {"mbtiType": (None, "INTJ")})])
    assert (await db.revert("t1"))["reverted"] == 1
    assert await db.revert("t1") == {"reverted": 0, "skipped": []}
    assert row(path, "Character", "id", "c1")["mbtiType"] is None
