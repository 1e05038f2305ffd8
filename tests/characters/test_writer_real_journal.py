"""The character writer against the real journal in tasks.db (SqliteTaskStore), not a fake."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.characters.dbfiles import execute, row
from tui_updater.characters.db import CharacterDb
from tui_updater.characters.demo import create_demo_db
from tui_updater.characters.writer import CharacterChange
from tui_updater.config import CharacterSettings
from tui_updater.core.journal import JournalEntry, JournalState
from tui_updater.store.sqlite import SqliteTaskStore

TASK = "task_real"


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[tuple[Path, CharacterDb, SqliteTaskStore]]:
    path = create_demo_db(tmp_path / "dev.db")
    store = SqliteTaskStore(tmp_path / "tasks.db")
    await store.open()
    db = await CharacterDb.open(path, CharacterSettings(), store)
    yield path, db, store
    await db.close()
    await store.close()


async def states(store: SqliteTaskStore) -> dict[tuple[str, str], JournalState]:
    return {(e.character_id, e.column): e.state for e in await store.entries(TASK)}


async def test_conflict_and_apply_recorded_in_tasks_db(setup):
    path, db, store = setup
    edited, untouched = [k for k, _ in (await db.select_candidates("mbti"))[:2]]
    execute(path, 'UPDATE "Character" SET "mbtiType" = ? WHERE id = ?', ("ENFP", edited))
    results = await db.write_changes(
        TASK,
        [
            CharacterChange("e", edited, {"mbtiType": (None, "ISTJ")}),
            CharacterChange("u", untouched, {"mbtiType": (None, "ISTJ")}),
        ],
    )
    assert [r.applied for r in results] == [False, True]
    assert row(path, "Character", "id", edited)["mbtiType"] == "ENFP"
    recorded = await states(store)
    assert recorded[(edited, "mbtiType")] is JournalState.CONFLICT
    assert recorded[(untouched, "mbtiType")] is JournalState.APPLIED


async def test_revert_through_real_journal(setup):
    path, db, store = setup
    a, b = [k for k, _ in (await db.select_candidates("mbti"))[:2]]
    before_a = row(path, "Character", "id", a)
    await db.write_changes(
        TASK,
        [
            CharacterChange(a, a, {"mbtiType": (None, "INFJ")}),
            CharacterChange(b, b, {"mbtiType": (None, "INFJ")}),
        ],
    )
    execute(path, 'UPDATE "Character" SET "mbtiType" = ? WHERE id = ?', ("ESTP", b))
    report = await db.revert(TASK)
    assert report["reverted"] == 1
    assert [s["characterId"] for s in report["skipped"]] == [b]
    assert row(path, "Character", "id", a)["mbtiType"] == before_a["mbtiType"] is None
    assert row(path, "Character", "id", b)["mbtiType"] == "ESTP"


async def test_planned_entries_resolved_after_crash(setup):
    path, db, store = setup
    written, unwritten = [k for k, _ in (await db.select_candidates("mbti"))[:2]]
    await store.plan(
        [JournalEntry(TASK, k, k, "mbtiType", None, "ESTJ") for k in (written, unwritten)]
    )
    execute(path, 'UPDATE "Character" SET "mbtiType" = ? WHERE id = ?', ("ESTJ", written))
    resolved = await db.resolve_planned(TASK)
    assert resolved == {written: JournalState.APPLIED, unwritten: JournalState.APPLIED}
    assert row(path, "Character", "id", unwritten)["mbtiType"] == "ESTJ"
    assert not await store.entries(TASK, states=[JournalState.PLANNED])


async def test_second_write_of_an_item_is_not_mistaken_for_a_replay(setup):
    """An avatar item writes twice (GENERATING, then the result). If the first write's journal
    mark was lost in a crash, the second write must still happen."""
    path, db, store = setup
    key = (await db.select_candidates("avatar"))[0][0]
    status = row(path, "Character", "id", key)["avatarStatus"]
    await store.plan([JournalEntry(TASK, key, key, "avatarStatus", status, "GENERATING")])
    execute(
        path, 'UPDATE "Character" SET "avatarStatus" = ? WHERE id = ?', ("GENERATING", key)
    )  # committed, mark lost
    (result,) = await db.write_changes(
        TASK,
        [
            CharacterChange(
                key,
                key,
                {"avatarStatus": ("GENERATING", "COMPLETED"), "avatar": (None, f"/a/{key}.png")},
            )
        ],
    )
    assert result.applied
    stored = row(path, "Character", "id", key)
    assert stored["avatarStatus"] == "COMPLETED" and stored["avatar"] == f"/a/{key}.png"
    assert not await store.entries(TASK, states=[JournalState.PLANNED])


async def test_journal_marks_are_visible_to_the_next_read(setup):
    path, db, store = setup
    key = (await db.select_candidates("mbti"))[0][0]
    await db.write_changes(TASK, [CharacterChange(key, key, {"mbtiType": (None, "ENTJ")})])
    assert [e.state for e in await store.entries(TASK)] == [JournalState.APPLIED]
