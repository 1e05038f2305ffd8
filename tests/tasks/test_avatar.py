from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from tests.characters.dbfiles import execute, integer_db, master, row
from tests.characters.taskkit import StubProvider, harness, png_bytes, run_items, statuses
from tui_updater.characters.demo import create_demo_db
from tui_updater.core.journal import JournalState
from tui_updater.core.models import ItemRecord, ItemStatus
from tui_updater.errors import InvalidOutput, InvalidParameters, ProviderTimeout
from tui_updater.providers.offline import OfflineProvider
from tui_updater.tasks.avatar import CharacterAvatarTask
from tui_updater.tasks.avatar_files import avatar_file_name
from tui_updater.tasks.avatar_image import normalize_avatar

TASK = CharacterAvatarTask()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"size": 32}, "size"),
        ({"size": 4096}, "size"),
        ({"batchSize": "x"}, "batchSize"),
        ({"overwrite": [1]}, "overwrite"),
        ({"model": ""}, "model"),
        ({"prompt": "cat"}, "prompt"),
    ],
)
def test_bad_params_name_the_field(data: dict, field: str) -> None:
    with pytest.raises(InvalidParameters) as caught:
        TASK.parse_params(data)
    assert caught.value.field == field


def test_defaults() -> None:
    params = TASK.parse_params({})
    assert (params.batchSize, params.concurrency, params.overwrite, params.size) == (
        3,
        1,
        False,
        None,
    )


def test_normalize_makes_a_square_png_and_refuses_junk() -> None:
    out = Image.open(io.BytesIO(normalize_avatar(png_bytes(300, 100), 128)))
    assert (out.format, out.size) == ("PNG", (128, 128))
    with pytest.raises(InvalidOutput):
        normalize_avatar(b"<html>not an image</html>", 128)
    with pytest.raises(InvalidOutput):
        normalize_avatar(b"", 128)
    with pytest.raises(InvalidOutput, match="too large"):
        normalize_avatar(png_bytes(200, 200), 128, max_pixels=10_000)
    name = avatar_file_name("c../x y", "task_1", b"png")
    assert name.startswith("c.._x_y-avatar-task_1-") and name.endswith(".png")
    assert name != avatar_file_name("c../x y", "task_1", b"other")


async def test_generates_writes_file_and_row(tmp_path: Path) -> None:
    db_path = create_demo_db(tmp_path / "dev.db")
    before = master(db_path)
    h = await harness(tmp_path, db_path, StubProvider(image=png_bytes(90, 60, "blue")))
    try:
        params = TASK.parse_params({"size": 96})
        items = await run_items(TASK, h, params)
        assert items and statuses(items) == {"DONE": len(items)}
        # A row with an avatar is not selected without overwrite, whatever its status says.
        assert not [i for i in items if i.result and i.result["changes"]["avatar"][0]]
        for item in items:
            stored = row(db_path, "Character", "id", item.key)
            name = f"{item.key}-avatar-{h.ctx.task_id}-"
            assert stored["avatar"].startswith(f"/uploads/characters/avatars/{name}")
            assert stored["avatarStatus"] == "COMPLETED"
            assert isinstance(stored["updated_at"], int)
            image = Image.open(h.settings.avatar_dir / Path(stored["avatar"]).name)
            assert (image.format, image.size) == ("PNG", (96, 96))
        states = [(col, s) for _, col, s in h.journal.states(h.ctx.task_id)]
        assert all(s is JournalState.APPLIED for _, s in states)
        assert ("avatarStatus", JournalState.APPLIED) in states
        assert not list(h.settings.avatar_dir.glob("*.tmp"))
        summary = TASK.summarize(params, items)
        assert summary["generated"] == len(items)
        report = await h.db.revert(h.ctx.task_id)
        assert report["skipped"] == []
        assert row(db_path, "Character", "id", items[0].key)["avatarStatus"] != "COMPLETED"
        assert not list(h.settings.avatar_dir.glob("*.png"))  # revert removed the task's files
    finally:
        await h.db.close()
    assert master(db_path) == before


async def test_failure_marks_failed_and_reraises(tmp_path: Path) -> None:
    db_path = create_demo_db(tmp_path / "dev.db")
    provider = StubProvider(fail=ProviderTimeout("slow"))
    h = await harness(tmp_path, db_path, provider)
    try:
        params = TASK.parse_params({})
        key, label = (await h.db.select_candidates("avatar"))[0]
        with pytest.raises(ProviderTimeout):
            await TASK.obtain(h.ctx, params, ItemRecord("task_t", 0, key, label))
        assert row(db_path, "Character", "id", key)["avatarStatus"] == "FAILED"
        provider.fail = None
        provider.image = b"GIF89a-broken"
        with pytest.raises(InvalidOutput):
            await TASK.obtain(h.ctx, params, ItemRecord("task_t", 0, key, label))
        assert row(db_path, "Character", "id", key)["avatarStatus"] == "FAILED"
        provider.image = png_bytes()
        result = await TASK.obtain(h.ctx, params, ItemRecord("task_t", 0, key, label))
        assert result["changes"]["avatarStatus"] == ["GENERATING", "COMPLETED"]
        assert row(db_path, "Character", "id", key)["avatarStatus"] == "GENERATING"
        # obtaining again (engine crashed before storing the result) is safe
        again = await TASK.obtain(h.ctx, params, ItemRecord("task_t", 0, key, label))
        assert again["avatar"] == result["avatar"]
        (outcome,) = await TASK.apply(h.ctx, params, [(ItemRecord("task_t", 0, key, label), again)])
        assert outcome.status is ItemStatus.DONE
    finally:
        await h.db.close()


async def test_site_edit_during_generation_is_a_conflict(tmp_path: Path) -> None:
    db_path = create_demo_db(tmp_path / "dev.db")
    h = await harness(tmp_path, db_path, StubProvider())
    try:
        params = TASK.parse_params({})
        key, label = (await h.db.select_candidates("avatar"))[0]
        item = ItemRecord("task_t", 0, key, label)
        result = await TASK.obtain(h.ctx, params, item)
        execute(db_path, 'UPDATE "Character" SET avatar = ? WHERE id = ?', ("/mine.png", key))
        (outcome,) = await TASK.apply(h.ctx, params, [(item, result)])
        assert outcome.status is ItemStatus.CONFLICT
        assert row(db_path, "Character", "id", key)["avatar"] == "/mine.png"
    finally:
        await h.db.close()


async def test_named_character_with_avatar_is_skipped(tmp_path: Path) -> None:
    db_path = create_demo_db(tmp_path / "dev.db")
    provider = StubProvider()
    h = await harness(tmp_path, db_path, provider)
    try:
        needing = dict(await h.db.select_candidates("avatar"))
        has = next(
            k for k, _ in await h.db.select_candidates("avatar", overwrite=True) if k not in needing
        )
        items = await run_items(TASK, h, TASK.parse_params({"characterIds": [has]}))
        assert statuses(items) == {"SKIPPED": 1} and provider.calls == []
    finally:
        await h.db.close()


async def test_integer_id_snake_case_database(tmp_path: Path) -> None:
    db_path = integer_db(tmp_path / "int.db")
    h = await harness(tmp_path, db_path, OfflineProvider())
    try:
        params = TASK.parse_params({"characterIds": [2, "1"]})
        await TASK.check(h.ctx, params)
        items = await run_items(TASK, h, params)
        assert statuses(items) == {"DONE": 2}
        assert row(db_path, "characters", "id", 2)["avatar"].startswith(
            f"/uploads/characters/avatars/2-avatar-{h.ctx.task_id}-"
        )
        assert row(db_path, "characters", "id", 2)["avatar_status"] == "COMPLETED"
        assert TASK.summarize(params, items)["offline"] is True
        with pytest.raises(InvalidParameters, match="unknown ids: 99"):
            await TASK.check(h.ctx, TASK.parse_params({"characterIds": [99]}))
        deleted = await run_items(TASK, h, TASK.parse_params({"characterIds": [3]}))
        assert statuses(deleted) == {"SKIPPED": 1} and deleted[0].error == "character is deleted"
    finally:
        await h.db.close()
