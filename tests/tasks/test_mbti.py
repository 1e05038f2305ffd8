from __future__ import annotations

from pathlib import Path

import pytest

from tests.characters.dbfiles import execute, integer_db, no_mbti_db, row
from tests.characters.taskkit import StubProvider, harness, run_items, statuses
from tui_updater.characters.demo import DEMO_CAST, create_demo_db
from tui_updater.config import Settings
from tui_updater.core.models import ItemRecord, ItemStatus, TaskStatus
from tui_updater.errors import InvalidOutput, InvalidParameters, MissingColumn
from tui_updater.providers.base import MBTI_TYPES
from tui_updater.providers.offline import OfflineProvider
from tui_updater.runtime import Runtime
from tui_updater.tasks.mbti import MbtiAssignmentTask

TASK = MbtiAssignmentTask()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"forceUpdat": True}, "forceUpdat"),
        ({"batchSize": 0}, "batchSize"),
        ({"batchSize": 501}, "batchSize"),
        ({"concurrency": "many"}, "concurrency"),
        ({"characterIds": "abc"}, "characterIds"),
        ({"characterIds": [True]}, "characterIds.0"),
        ({"forceUpdate": "perhaps"}, "forceUpdate"),
    ],
)
def test_bad_params_name_the_field(data: dict, field: str) -> None:
    with pytest.raises(InvalidParameters) as caught:
        TASK.parse_params(data)
    assert caught.value.field.startswith(field)


def test_params_defaults_and_id_normalisation() -> None:
    params = TASK.parse_params({"characterIds": [3, "c1", " 3 "]})
    assert params.ids == ["3", "c1"]
    assert (params.forceUpdate, params.batchSize, params.concurrency) == (False, 25, 4)
    assert TASK.parse_params({}).ids is None
    assert "characterIds" in TASK.params_schema()["properties"]


async def test_check_refuses_unknown_ids_and_missing_column(tmp_path: Path) -> None:
    h = await harness(tmp_path, create_demo_db(tmp_path / "dev.db"), StubProvider())
    try:
        known = (await h.db.select_candidates("mbti"))[0][0]
        await TASK.check(h.ctx, TASK.parse_params({"characterIds": [known]}))
        with pytest.raises(InvalidParameters, match="unknown ids: nope, 7") as caught:
            await TASK.check(h.ctx, TASK.parse_params({"characterIds": [known, "nope", 7]}))
        assert caught.value.field == "characterIds"
    finally:
        await h.db.close()
    h = await harness(tmp_path / "b", no_mbti_db(tmp_path / "n.db"), StubProvider())
    try:
        with pytest.raises(MissingColumn, match="mbtiType"):
            await TASK.check(h.ctx, TASK.parse_params({}))
    finally:
        await h.db.close()


async def test_assigns_types_and_reports_statistics(tmp_path: Path) -> None:
    db_path = create_demo_db(tmp_path / "dev.db")
    provider = StubProvider(mbti="enfp")
    h = await harness(tmp_path, db_path, provider)
    try:
        params = TASK.parse_params({})
        items = await run_items(TASK, h, params)
        assert items and statuses(items) == {"DONE": len(items)}
        assert all(row(db_path, "Character", "id", i.key)["mbtiType"] == "ENFP" for i in items)
        assert h.ctx.usage.requests == len(items)
        summary = TASK.summarize(params, items)
        stats = summary["statistics"]
        assert summary["assigned"] == len(items) and summary["success"] is True
        assert stats["byType"] == {"ENFP": len(items)}
        assert stats["byCategory"]["Diplomats"] == {"count": len(items), "types": ["ENFP"]}
        assert stats["distribution"] == [{"type": "ENFP", "count": len(items), "percentage": 100.0}]
        assert summary["offline"] is False
    finally:
        await h.db.close()


async def test_named_character_with_a_type_is_skipped_without_a_call(tmp_path: Path) -> None:
    h = await harness(tmp_path, create_demo_db(tmp_path / "dev.db"), StubProvider())
    try:
        missing = {k for k, _ in await h.db.select_candidates("mbti")}
        has_type = next(
            k for k, _ in await h.db.select_candidates("mbti", overwrite=True) if k not in missing
        )
        items = await run_items(TASK, h, TASK.parse_params({"characterIds": [has_type]}))
        assert statuses(items) == {"SKIPPED": 1} and "forceUpdate" in (items[0].error or "")
        assert h.ctx.resources.provider.calls == []
        items = await run_items(
            TASK, h, TASK.parse_params({"characterIds": [has_type], "forceUpdate": True})
        )
        assert statuses(items) == {"DONE": 1}
    finally:
        await h.db.close()


async def test_edit_between_obtain_and_apply_is_a_conflict(tmp_path: Path) -> None:
    db_path = create_demo_db(tmp_path / "dev.db")
    h = await harness(tmp_path, db_path, StubProvider())
    try:
        params = TASK.parse_params({})
        key, label = (await h.db.select_candidates("mbti"))[0]
        item = ItemRecord(h.ctx.task_id, 0, key, label)
        result = await TASK.obtain(h.ctx, params, item)
        execute(db_path, 'UPDATE "Character" SET "mbtiType" = ? WHERE id = ?', ("ISFP", key))
        (outcome,) = await TASK.apply(h.ctx, params, [(item, result)])
        assert outcome.status is ItemStatus.CONFLICT and "mbtiType" in (outcome.error or "")
        assert row(db_path, "Character", "id", key)["mbtiType"] == "ISFP"
    finally:
        await h.db.close()


async def test_a_site_edit_over_our_own_earlier_write_is_still_a_conflict(tmp_path: Path) -> None:
    """Only a field holding this task's own write ends an item DONE on resume (see
    tests/characters/test_resume_written.py); the site's edit after it is the site's."""
    db_path = create_demo_db(tmp_path / "dev.db")
    h = await harness(tmp_path, db_path, StubProvider())
    try:
        params = TASK.parse_params({})
        key, label = (await h.db.select_candidates("mbti"))[0]
        item = ItemRecord(h.ctx.task_id, 0, key, label, first_seen={"mbtiType": None})
        (outcome,) = await TASK.apply(
            h.ctx, params, [(item, await TASK.obtain(h.ctx, params, item))]
        )
        assert outcome.status is ItemStatus.DONE  # our write, journaled
        ours = row(db_path, "Character", "id", key)["mbtiType"]
        assert (await TASK.obtain(h.ctx, params, item)).get("writtenBefore")
        site = "ISFP" if ours != "ISFP" else "ENTJ"
        execute(db_path, 'UPDATE "Character" SET "mbtiType" = ? WHERE id = ?', (site, key))
        again = await TASK.obtain(h.ctx, params, item)
        assert "changed meanwhile: mbtiType" in again.get("conflict", ""), again
    finally:
        await h.db.close()


async def test_invalid_type_from_provider_is_invalid_output(tmp_path: Path) -> None:
    h = await harness(tmp_path, create_demo_db(tmp_path / "dev.db"), StubProvider(mbti="XXXX"))
    try:
        key, label = (await h.db.select_candidates("mbti"))[0]
        with pytest.raises(InvalidOutput, match="XXXX"):
            await TASK.obtain(h.ctx, TASK.parse_params({}), ItemRecord("task_t", 0, key, label))
    finally:
        await h.db.close()


async def test_integer_id_database(tmp_path: Path) -> None:
    db_path = integer_db(tmp_path / "int.db")
    h = await harness(tmp_path, db_path, StubProvider(mbti="ISFJ"))
    try:
        params = TASK.parse_params({"characterIds": [1]})
        await TASK.check(h.ctx, params)
        items = await run_items(TASK, h, params)
        assert statuses(items) == {"DONE": 1}
        assert row(db_path, "characters", "id", 1)["mbti_type"] == "ISFJ"
    finally:
        await h.db.close()


async def test_offline_provider_on_the_demo(tmp_path: Path) -> None:
    db_path = create_demo_db(tmp_path / "dev.db")
    h = await harness(tmp_path, db_path, OfflineProvider())
    try:
        params = TASK.parse_params({})
        items = await run_items(TASK, h, params)
        assert statuses(items) == {"DONE": len(items)}
        summary = TASK.summarize(params, items)
        assert summary["offline"] is True
        assert set(summary["statistics"]["byType"]) <= set(MBTI_TYPES)
        assert (await h.db.summary())["missing"]["mbtiType"] == 0
        assert len(items) < len(DEMO_CAST)
        report = await h.db.revert(h.ctx.task_id)
        assert report["reverted"] == len(items) and report["skipped"] == []
    finally:
        await h.db.close()


async def test_confidence_and_reason_are_kept_in_items_and_the_task_result(tmp_path: Path) -> None:
    data = tmp_path / "data"
    settings = Settings.for_tests(
        tmp_path, demo=True, data_dir=data, db_path=data / "demo" / "dev.db"
    )
    runtime = await Runtime.open(settings, synchronous="NORMAL")
    try:
        task = await runtime.engine.submit("MBTI_ASSIGNMENT", {})
        done = await runtime.engine.wait(task.task_id)
        assert done.status is TaskStatus.COMPLETED and done.counts.done > 0
        items = await runtime.store.list_items(task.task_id)
        stored = {item.key: item.result for item in items}
        assert all(r and 0 < r["confidence"] <= 0.95 and r["offline"] for r in stored.values())
        for result in stored.values():
            assert result is not None
            parts = result["reason"].split("; ")
            assert [p.split(":")[0] for p in parts] == ["E/I", "S/N", "T/F", "J/P"]
        listed = done.result["results"]  # type: ignore[index]
        assert listed and all(
            entry["confidence"] == stored[entry["characterId"]]["confidence"]  # type: ignore[index]
            and entry["reason"] == stored[entry["characterId"]]["reason"]  # type: ignore[index]
            for entry in listed
        )
    finally:
        await runtime.close()


async def test_a_review_task_counts_its_proposals_and_writes_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    settings = Settings.for_tests(
        tmp_path, demo=True, data_dir=data, db_path=data / "demo" / "dev.db"
    )
    runtime = await Runtime.open(settings, synchronous="NORMAL")
    try:
        task = await runtime.engine.submit("MBTI_ASSIGNMENT", {"review": True})
        done = await runtime.engine.wait(task.task_id)
        assert done.status is TaskStatus.COMPLETED and done.counts.done > 0
        items = await runtime.store.list_items(task.task_id)
        # Each proposed item keeps the mark that it waits for review, and the task counts them.
        assert all(i.result and i.result.get("proposed") for i in items if i.result)
        assert done.review_pending == done.counts.done
        assert await runtime.store.entries(task.task_id) == []
    finally:
        await runtime.close()
