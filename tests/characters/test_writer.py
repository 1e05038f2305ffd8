from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.characters.conftest import FakeClock
from tests.characters.dbfiles import execute, integer_db, iso_db, master, row, typeof
from tests.characters.memjournal import InMemoryJournal
from tui_updater.characters.db import CharacterDb
from tui_updater.characters.writer import CharacterChange
from tui_updater.config import CharacterSettings
from tui_updater.core.journal import JournalEntry, JournalState

TASK = "task_w"


async def first_without_mbti(db: CharacterDb) -> dict:
    key = (await db.select_candidates("mbti"))[0][0]
    return (await db.fetch([key]))[key]


async def test_writes_columns_and_integer_ms_updated_at(
    demo_path: Path, demo: CharacterDb, journal: InMemoryJournal, clock: FakeClock
) -> None:
    before = master(demo_path)
    char = await first_without_mbti(demo)
    change = CharacterChange(
        "item-1",
        char["id"],
        {"mbtiType": (None, "INTJ"), "scenario": (char["scenario"], "A new scene")},
    )
    (result,) = await demo.write_changes(TASK, [change])
    assert result.applied and set(result.columns) == {"mbtiType", "scenario"}
    stored = row(demo_path, "Character", "id", char["id"])
    assert stored["mbtiType"] == "INTJ" and stored["scenario"] == "A new scene"
    assert stored["updated_at"] == clock.now_ms
    assert typeof(demo_path, "Character", "updated_at", "id", char["id"]) == "integer"
    assert [s for _, _, s in journal.states(TASK)] == [JournalState.APPLIED] * 2
    assert journal.plan_calls == 1
    assert master(demo_path) == before  # no table, index or trigger created


async def test_iso_text_database_stays_iso_text(tmp_path: Path, journal: InMemoryJournal) -> None:
    path = iso_db(tmp_path / "iso.db")
    db = await CharacterDb.open(
        path, CharacterSettings(), journal, clock=FakeClock(1_750_000_000_123)
    )
    try:
        (result,) = await db.write_changes(
            TASK, [CharacterChange("a1", "a1", {"mbtiType": (None, "INTP")})]
        )
    finally:
        await db.close()
    assert result.applied
    assert row(path, "Character", "id", "a1")["updated_at"] == "2025-06-15T15:06:40.123Z"
    assert typeof(path, "Character", "updated_at", "id", "a1") == "text"


async def test_integer_id_database(tmp_path: Path, journal: InMemoryJournal) -> None:
    path = integer_db(tmp_path / "int.db")
    db = await CharacterDb.open(
        path, CharacterSettings(), journal, clock=FakeClock(1_750_000_000_123)
    )
    try:
        results = await db.write_changes(
            TASK,
            [
                CharacterChange(
                    "1",
                    "1",
                    {"mbtiType": (None, "ISFP"), "backstory": (None, "Grew up by the sea.")},
                ),
                CharacterChange("404", "404", {"mbtiType": (None, "ISFP")}),
            ],
        )
    finally:
        await db.close()
    assert results[0].applied and not results[1].applied
    assert results[1].reason == "character no longer exists"
    stored = row(path, "characters", "id", 1)
    assert stored["mbti_type"] == "ISFP" and stored["background"] == "Grew up by the sea."
    assert stored["updatedAt"] == 1_750_000_000  # epoch seconds stay seconds


async def test_row_edited_between_read_and_write_is_a_conflict(
    demo_path: Path, demo: CharacterDb, journal: InMemoryJournal
) -> None:
    chars = await demo.fetch([k for k, _ in (await demo.select_candidates("mbti"))[:2]])
    edited, untouched = list(chars.values())
    # the site assigns a type after we read the row
    execute(demo_path, 'UPDATE "Character" SET "mbtiType" = ? WHERE id = ?', ("ENFP", edited["id"]))
    results = await demo.write_changes(
        TASK,
        [
            CharacterChange("e", edited["id"], {"mbtiType": (None, "ISTJ")}),
            CharacterChange("u", untouched["id"], {"mbtiType": (None, "ISTJ")}),
        ],
    )
    assert [r.applied for r in results] == [False, True]
    assert results[0].reason == "changed meanwhile: mbtiType"
    assert row(demo_path, "Character", "id", edited["id"])["mbtiType"] == "ENFP"
    assert row(demo_path, "Character", "id", edited["id"])["updated_at"] == edited["updatedAt"]
    assert row(demo_path, "Character", "id", untouched["id"])["mbtiType"] == "ISTJ"
    states = {cid: s for cid, _, s in journal.states(TASK)}
    assert states == {edited["id"]: JournalState.CONFLICT, untouched["id"]: JournalState.APPLIED}


async def test_revert_restores_and_skips_fields_edited_since(
    demo_path: Path, demo: CharacterDb, journal: InMemoryJournal
) -> None:
    a, b = (await demo.fetch([k for k, _ in (await demo.select_candidates("mbti"))[:2]])).values()
    await demo.write_changes(
        TASK,
        [
            CharacterChange(
                "a", a["id"], {"mbtiType": (None, "INFJ"), "scenario": (a["scenario"], "S1")}
            ),
            CharacterChange("b", b["id"], {"mbtiType": (None, "INFJ")}),
        ],
    )
    execute(demo_path, 'UPDATE "Character" SET "scenario" = ? WHERE id = ?', ("site edit", a["id"]))
    report = await demo.revert(TASK)
    assert report["reverted"] == 2
    assert report["skipped"] == [
        {
            "characterId": a["id"],
            "column": "scenario",
            "reason": "changed since the task wrote it: scenario",
        }
    ]
    stored_a = row(demo_path, "Character", "id", a["id"])
    assert stored_a["mbtiType"] is None and stored_a["scenario"] == "site edit"
    assert row(demo_path, "Character", "id", b["id"])["mbtiType"] is None
    states = sorted(s.value for _, _, s in journal.states(TASK))
    assert states == ["revert_conflict", "reverted", "reverted"]
    assert (await demo.revert(TASK)) == {"reverted": 0, "skipped": []}


async def test_revert_undoes_successive_writes_newest_first(
    demo_path: Path, demo: CharacterDb
) -> None:
    key = (await demo.select_candidates("avatar"))[0][0]
    status = (await demo.fetch([key]))[key]["avatarStatus"]
    await demo.write_changes(
        TASK, [CharacterChange(key, key, {"avatarStatus": (status, "GENERATING")})]
    )
    await demo.write_changes(
        TASK,
        [
            CharacterChange(
                key, key, {"avatarStatus": ("GENERATING", "COMPLETED"), "avatar": (None, "/a.png")}
            )
        ],
    )
    report = await demo.revert(TASK)
    assert report == {"reverted": 3, "skipped": []}
    stored = row(demo_path, "Character", "id", key)
    assert stored["avatarStatus"] == status and stored["avatar"] is None


async def test_resolve_planned_after_a_crash(
    demo_path: Path, demo: CharacterDb, journal: InMemoryJournal
) -> None:
    ids = [k for k, _ in (await demo.select_candidates("mbti"))[:3]]
    written, unwritten, edited = ids
    await journal.plan([JournalEntry(TASK, key, key, "mbtiType", None, "ESTJ") for key in ids])
    # the crash happened after the commit for `written`; the site then edited `edited`
    execute(demo_path, 'UPDATE "Character" SET "mbtiType" = ? WHERE id = ?', ("ESTJ", written))
    execute(demo_path, 'UPDATE "Character" SET "mbtiType" = ? WHERE id = ?', ("INFP", edited))
    states = await demo.resolve_planned(TASK)
    assert states == {
        written: JournalState.APPLIED,
        unwritten: JournalState.APPLIED,  # equal to old: re-applied with compare-and-set
        edited: JournalState.CONFLICT,
    }
    assert row(demo_path, "Character", "id", unwritten)["mbtiType"] == "ESTJ"
    assert row(demo_path, "Character", "id", edited)["mbtiType"] == "INFP"
    assert not await journal.entries(TASK, states={JournalState.PLANNED})


async def test_rewriting_an_item_planned_before_a_crash_is_not_a_conflict(
    demo_path: Path, demo: CharacterDb, journal: InMemoryJournal
) -> None:
    key = (await demo.select_candidates("mbti"))[0][0]
    await journal.plan([JournalEntry(TASK, key, key, "mbtiType", None, "ENTP")])
    execute(demo_path, 'UPDATE "Character" SET "mbtiType" = ? WHERE id = ?', ("ENTP", key))
    (result,) = await demo.write_changes(
        TASK, [CharacterChange(key, key, {"mbtiType": (None, "ENTP")})]
    )
    assert result.applied
    assert [s for _, _, s in journal.states(TASK)] == [JournalState.APPLIED]


async def test_unchanged_values_write_nothing(demo: CharacterDb, journal: InMemoryJournal) -> None:
    key = (await demo.select_candidates("mbti"))[0][0]
    (result,) = await demo.write_changes(
        TASK, [CharacterChange(key, key, {"mbtiType": (None, None)})]
    )
    assert result.applied and journal.rows == []


async def test_a_tasks_later_writes_do_not_read_the_journal_again(
    demo: CharacterDb, journal: InMemoryJournal
) -> None:
    keys = [k for k, _ in (await demo.select_candidates("mbti"))[:3]]
    for key in keys:
        (result,) = await demo.write_changes(
            TASK, [CharacterChange(key, key, {"mbtiType": (None, "INTP")})]
        )
        assert result.applied
    # At the task's first write here only: one look for an earlier attempt's outstanding plans,
    # one for the entries of the batch's items (writes made before a crash).
    assert journal.entries_calls == 2
    await demo.write_changes(
        "task_other", [CharacterChange("x", keys[0], {"scenario": (None, "s")})]
    )
    assert journal.entries_calls == 4  # another task is looked for on its own


async def test_a_write_that_failed_after_planning_is_settled_by_the_next(
    demo_path: Path, demo: CharacterDb, journal: InMemoryJournal, monkeypatch: Any
) -> None:
    first, second = [k for k, _ in (await demo.select_candidates("mbti"))[:2]]
    await demo.write_changes(TASK, [CharacterChange(first, first, {"mbtiType": (None, "ESFP")})])
    real_write = demo.write

    async def failing_write(fn: Any) -> Any:
        raise RuntimeError("the disk went away")

    monkeypatch.setattr(demo, "write", failing_write)
    change = CharacterChange(second, second, {"mbtiType": (None, "ISFJ")})
    with pytest.raises(RuntimeError):
        await demo.write_changes(TASK, [change])
    assert [e.item_key for e in await journal.entries(TASK, states={JournalState.PLANNED})] == [
        second
    ]
    monkeypatch.setattr(demo, "write", real_write)
    reads = journal.entries_calls
    (result,) = await demo.write_changes(TASK, [change])
    assert journal.entries_calls > reads  # the plan left behind was looked for, and settled
    assert result.applied and row(demo_path, "Character", "id", second)["mbtiType"] == "ISFJ"
    assert not await journal.entries(TASK, states={JournalState.PLANNED})
