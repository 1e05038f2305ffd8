from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.characters.dbfiles import execute, integer_db, iso_db, master, row, typeof
from tests.characters.taskkit import StubProvider, harness, run_items, statuses
from tui_updater.characters.demo import create_demo_db
from tui_updater.core.models import ItemRecord, ItemStatus
from tui_updater.errors import InvalidOutput, InvalidParameters, MissingColumn
from tui_updater.providers.offline import OfflineProvider
from tui_updater.tasks.settings import CharacterSettingsTask, normalize_dialogs, validate_settings

TASK = CharacterSettingsTask()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"updateFields": ["background"]}, "updateFields.0"),
        ({"updateFields": []}, "updateFields"),
        ({"updateFields": "scenario"}, "updateFields"),
        ({"overwrite": "sometimes"}, "overwrite"),
        ({"batchSize": -1}, "batchSize"),
        ({"concurrency": 257}, "concurrency"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_bad_params_name_the_field(data: dict, field: str) -> None:
    with pytest.raises(InvalidParameters) as caught:
        TASK.parse_params(data)
    assert caught.value.field == field


def test_defaults() -> None:
    params = TASK.parse_params({"updateFields": ["scenario", "scenario"]})
    assert params.updateFields == ["scenario"]
    assert TASK.parse_params({}).updateFields == [
        "fullDescription", "speakingStyle", "scenario", "exampleDialogs"
    ]  # fmt: skip


def test_output_validation() -> None:
    with pytest.raises(InvalidOutput, match="lacks scenario"):
        validate_settings({"speakingStyle": "x"}, ["speakingStyle", "scenario"])
    with pytest.raises(InvalidOutput, match="scenario is empty"):
        validate_settings({"scenario": "  "}, ["scenario"])
    with pytest.raises(InvalidOutput):
        normalize_dialogs('[{"user": "hi"}]')
    with pytest.raises(InvalidOutput):
        normalize_dialogs("not json")
    stored = normalize_dialogs([{"user": " 你好 ", "character": "嗯。"}])
    assert json.loads(stored) == [{"user": "你好", "character": "嗯。"}] and "你好" in stored
    assert validate_settings({"scenario": " s ", "extra": "x"}, ["scenario"]) == {"scenario": "s"}


async def test_fills_only_empty_fields_on_the_real_schema(tmp_path: Path) -> None:
    db_path = create_demo_db(tmp_path / "dev.db")
    before = master(db_path)
    h = await harness(tmp_path, db_path, StubProvider())
    try:
        params = TASK.parse_params({"updateFields": ["speakingStyle", "exampleDialogs"]})
        items = await run_items(TASK, h, params)
        assert items and statuses(items) == {"DONE": len(items)}
        for item in items:
            stored = row(db_path, "Character", "id", item.key)
            assert stored["speakingStyle"] and stored["exampleDialogs"]
            assert item.result is not None
            if "exampleDialogs" in item.result["updatedFields"]:
                assert json.loads(stored["exampleDialogs"]) == [
                    {"user": "hi", "character": "hello"}
                ]
            assert stored["updated_at"] == 1_750_000_000_123
            assert typeof(db_path, "Character", "updated_at", "id", item.key) == "integer"
            for name in item.result["updatedFields"]:
                assert item.result["changes"][name][0] in (None, "")
        assert (
            await h.db.count_candidates("settings", fields=["speakingStyle", "exampleDialogs"])
        ) == 0
        summary = TASK.summarize(params, items)
        assert summary["updated"] == len(items)
        assert summary["fieldsUpdated"]["speakingStyle"] <= len(items)
    finally:
        await h.db.close()
    assert master(db_path) == before


async def test_named_ids_without_gaps_are_skipped_and_overwrite_rewrites(tmp_path: Path) -> None:
    db_path = create_demo_db(tmp_path / "dev.db")
    h = await harness(tmp_path, db_path, StubProvider())
    try:
        empty = dict(await h.db.select_candidates("settings", fields=["speakingStyle"]))
        every = await h.db.select_candidates("settings", overwrite=True, fields=["speakingStyle"])
        filled = next(k for k, _ in every if k not in empty)
        params = TASK.parse_params({"characterIds": [filled], "updateFields": ["speakingStyle"]})
        items = await run_items(TASK, h, params)
        assert statuses(items) == {"SKIPPED": 1}
        params = params.model_copy(update={"overwrite": True})
        items = await run_items(TASK, h, params)
        assert statuses(items) == {"DONE": 1}
        assert row(db_path, "Character", "id", filled)["speakingStyle"].endswith("/ speakingStyle")
    finally:
        await h.db.close()


async def test_conflict_is_reported_not_overwritten(tmp_path: Path) -> None:
    db_path = create_demo_db(tmp_path / "dev.db")
    h = await harness(tmp_path, db_path, StubProvider())
    try:
        params = TASK.parse_params({"updateFields": ["scenario"]})
        key, label = (await h.db.select_candidates("settings", fields=["scenario"]))[0]
        item = ItemRecord("task_t", 0, key, label)
        result = await TASK.obtain(h.ctx, params, item)
        execute(db_path, 'UPDATE "Character" SET "scenario" = ? WHERE id = ?', ("by the site", key))
        (outcome,) = await TASK.apply(h.ctx, params, [(item, result)])
        assert outcome.status is ItemStatus.CONFLICT
        assert row(db_path, "Character", "id", key)["scenario"] == "by the site"
    finally:
        await h.db.close()


async def test_iso_and_integer_databases(tmp_path: Path) -> None:
    iso_path = iso_db(tmp_path / "iso.db")
    h = await harness(tmp_path, iso_path, StubProvider())
    try:
        items = await run_items(TASK, h, TASK.parse_params({"updateFields": ["scenario"]}))
        assert statuses(items) == {"DONE": 2}
        assert row(iso_path, "Character", "id", "a1")["updated_at"] == "2025-06-15T15:06:40.123Z"
    finally:
        await h.db.close()
    int_path = integer_db(tmp_path / "int.db")
    h = await harness(tmp_path / "i", int_path, StubProvider())
    try:
        params = TASK.parse_params({"characterIds": ["2"], "updateFields": ["fullDescription"]})
        await TASK.check(h.ctx, params)
        items = await run_items(TASK, h, params)
        assert statuses(items) == {"DONE": 1}
        assert row(int_path, "characters", "id", 2)["full_description"] == "Max / fullDescription"
    finally:
        await h.db.close()


async def test_missing_field_column_is_named(tmp_path: Path) -> None:
    from tests.characters.dbfiles import no_mbti_db

    h = await harness(tmp_path, no_mbti_db(tmp_path / "n.db"), StubProvider())
    try:
        with pytest.raises(MissingColumn, match="speakingStyle"):
            await TASK.check(h.ctx, TASK.parse_params({"updateFields": ["speakingStyle"]}))
    finally:
        await h.db.close()


async def test_offline_provider_drafts_in_the_characters_language(tmp_path: Path) -> None:
    db_path = create_demo_db(tmp_path / "dev.db")
    h = await harness(tmp_path, db_path, OfflineProvider())
    try:
        params = TASK.parse_params({})
        items = await run_items(TASK, h, params)
        assert items and statuses(items) == {"DONE": len(items)}
        assert TASK.summarize(params, items)["offline"] is True
        for item in items:
            stored = row(db_path, "Character", "id", item.key)
            dialogs = json.loads(stored["exampleDialogs"])
            assert dialogs and all(set(d) == {"user", "character"} for d in dialogs)
    finally:
        await h.db.close()


async def test_a_written_item_keeps_its_answer_and_the_journal_the_texts(tmp_path: Path) -> None:
    from tui_updater.config import Settings
    from tui_updater.core.journal import JournalState
    from tui_updater.core.models import TaskStatus
    from tui_updater.runtime import Runtime

    data = tmp_path / "data"
    settings = Settings.for_tests(
        tmp_path, demo=True, data_dir=data, db_path=data / "demo" / "dev.db"
    )
    runtime = await Runtime.open(settings, synchronous="NORMAL")
    try:
        task = await runtime.engine.submit("CHARACTER_SETTINGS", {"updateFields": ["scenario"]})
        done = await runtime.engine.wait(task.task_id)
        assert done.status is TaskStatus.COMPLETED and done.counts.done > 0
        written = [
            i for i in await runtime.store.list_items(task.task_id) if i.status is ItemStatus.DONE
        ]
        assert written and all(
            i.result and i.result["updatedFields"] == ["scenario"] and "changes" not in i.result
            for i in written
        )
        entries = await runtime.store.entries(task.task_id, states=[JournalState.APPLIED])
        stored = {e.item_key: e.new_value for e in entries if e.column == "scenario"}
        assert set(stored) == {i.key for i in written}
        for item in written:
            assert (
                row(settings.db_path, "Character", "id", item.key)["scenario"] == stored[item.key]
            )
    finally:
        await runtime.close()
