from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.characters.conftest import FakeClock
from tests.characters.dbfiles import execute, integer_db, iso_db, master
from tests.characters.memjournal import InMemoryJournal
from tui_updater.characters.db import CharacterDb
from tui_updater.characters.demo import DEMO_CAST
from tui_updater.config import CharacterSettings
from tui_updater.errors import CharacterDbError, MissingColumn


async def open_db(path: Path, journal: InMemoryJournal | None = None) -> CharacterDb:
    return await CharacterDb.open(
        path, CharacterSettings(), journal or InMemoryJournal(), clock=FakeClock()
    )


async def test_missing_file_is_an_error_and_not_created(tmp_path: Path) -> None:
    with pytest.raises(CharacterDbError, match="does not exist"):
        await open_db(tmp_path / "absent.db")
    assert not (tmp_path / "absent.db").exists()


async def test_journal_mode_is_kept(tmp_path: Path, demo: CharacterDb) -> None:
    assert demo.journal_mode == "wal"
    path = iso_db(tmp_path / "iso.db")
    db = await open_db(path)
    try:
        assert db.journal_mode == "delete"
    finally:
        await db.close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    conn.close()


async def test_existing_ids_and_fetch_use_logical_names(demo: CharacterDb) -> None:
    (first_id, first_name), *_ = await demo.labels(
        [r[0] for r in await demo.select_candidates("mbti", overwrite=True)]
    )
    assert await demo.existing_ids([first_id, "nope", 42]) == {first_id}
    record = (await demo.fetch([first_id]))[first_id]
    assert record["name"] == first_name
    assert {"backstory", "updatedAt", "mbtiType", "avatarStatus", "fullDescription"} <= set(record)
    assert isinstance(record["updatedAt"], int)


async def test_integer_ids_accept_numbers_and_strings(tmp_path: Path) -> None:
    db = await open_db(integer_db(tmp_path / "int.db"))
    try:
        assert await db.existing_ids([1, "2", "x", 99]) == {"1", "2"}
        fetched = await db.fetch(["1", 2])
        assert set(fetched) == {"1", "2"}
        assert fetched["1"]["backstory"] is None and fetched["2"]["mbtiType"] == "ESTP"
        # the deleted row (3) is never a candidate
        assert [k for k, _ in await db.select_candidates("mbti")] == ["1"]
        assert [k for k, _ in await db.select_candidates("mbti", overwrite=True)] == ["1", "2"]
    finally:
        await db.close()


async def test_selection_rules(demo_path: Path, demo: CharacterDb) -> None:
    live = len(DEMO_CAST) - 1  # one demo character is soft-deleted
    avatars = await demo.select_candidates("avatar")
    fetched = await demo.fetch([k for k, _ in avatars])
    assert all(not c["avatar"] or c["avatarStatus"] == "FAILED" for c in fetched.values())
    assert any(c["avatarStatus"] == "FAILED" for c in fetched.values())
    assert len(await demo.select_candidates("avatar", overwrite=True)) == live
    mbti = await demo.select_candidates("mbti")
    assert mbti and all(
        not c["mbtiType"] for c in (await demo.fetch([k for k, _ in mbti])).values()
    )
    settings = await demo.select_candidates("settings", fields=["speakingStyle"])
    assert all(
        not c["speakingStyle"] for c in (await demo.fetch([k for k, _ in settings])).values()
    )
    assert await demo.count_candidates("mbti") == len(mbti)
    assert await demo.count_candidates("settings", fields=["speakingStyle"]) == len(settings)
    # explicit ids are filtered by the same rule
    some = [k for k, _ in mbti[:2]]
    has_type = [
        k for k, _ in await demo.select_candidates("mbti", overwrite=True) if k not in dict(mbti)
    ]
    assert [k for k, _ in await demo.select_candidates("mbti", some + has_type[:1])] == some


async def test_empty_dialog_json_counts_as_missing(demo_path: Path, demo: CharacterDb) -> None:
    before = await demo.count_candidates("settings", fields=["exampleDialogs"])
    missing = dict(await demo.select_candidates("settings", fields=["exampleDialogs"]))
    every = await demo.select_candidates("settings", overwrite=True, fields=["exampleDialogs"])
    target = next(k for k, _ in every if k not in missing)
    execute(demo_path, 'UPDATE "Character" SET "exampleDialogs" = \'[]\' WHERE id = ?', (target,))
    assert await demo.count_candidates("settings", fields=["exampleDialogs"]) == before + 1


async def test_summary_counts(demo: CharacterDb) -> None:
    summary = await demo.summary()
    assert summary["total"] == len(DEMO_CAST) - 1
    assert summary["missing"]["mbtiType"] == await demo.count_candidates("mbti")
    assert 0 < summary["missing"]["avatar"] < summary["total"]
    assert (
        sum(summary["mbtiDistribution"].values())
        == summary["total"] - summary["missing"]["mbtiType"]
    )
    assert summary["avatarStatus"]["FAILED"] == 2


async def test_missing_column_is_raised_by_selection(tmp_path: Path) -> None:
    from tests.characters.dbfiles import no_mbti_db

    db = await open_db(no_mbti_db(tmp_path / "n.db"))
    try:
        with pytest.raises(MissingColumn, match="mbtiType"):
            await db.select_candidates("mbti")
        summary = await db.summary()
        assert "mbtiType" in summary["columnsAbsent"]
    finally:
        await db.close()


async def test_reads_create_nothing(demo_path: Path) -> None:
    before = master(demo_path)
    db = await open_db(demo_path)
    await db.summary()
    await db.select_candidates("avatar")
    await db.close()
    assert master(demo_path) == before


async def test_concurrent_fetch_one_calls_share_a_query(demo: CharacterDb) -> None:
    import asyncio

    keys = [k for k, _ in await demo.select_candidates("avatar", overwrite=True)][:5]
    queries: list[str] = []
    await demo.run(lambda conn: conn.set_trace_callback(queries.append))
    found = await asyncio.gather(*(demo.fetch_one(k) for k in [*keys, "missing"]))
    await demo.run(lambda conn: conn.set_trace_callback(None))
    assert [f["id"] if f else None for f in found] == [*keys, None]
    assert len([q for q in queries if q.startswith("SELECT")]) == 1


@pytest.mark.parametrize("how", ["deleted", "replaced"])
async def test_no_write_reaches_a_file_deleted_or_replaced_since_opening(
    tmp_path: Path, how: str
) -> None:
    # Through the old connection a write would land in the new file's "-wal" by name.
    path = iso_db(tmp_path / "dev.db")
    db = await open_db(path)
    try:
        await db.write(lambda conn: conn.execute("SELECT 1").fetchone())  # the file it opened
        if how == "deleted":
            path.unlink()
        else:
            other = iso_db(tmp_path / "other.db")
            other.replace(path)

        def rows() -> int | None:
            if not path.exists():
                return None
            with sqlite3.connect(path) as conn:
                return int(conn.execute('SELECT count(*) FROM "Character"').fetchone()[0])

        before = rows()
        with pytest.raises(CharacterDbError, match=f"{path}.*{how}"):
            await db.write(lambda conn: conn.execute('DELETE FROM "Character"'))
        assert rows() == before and (how == "deleted" or before)
    finally:
        await db.close()
