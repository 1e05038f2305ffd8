"""Acceptance: cards the tool exports are read by an independent reader with every field intact;
imported into an empty database of the same schema they give back the same characters; revert
removes them."""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

import tui_updater
from tests.cards.reader import card_of, text_chunks
from tui_updater.characters.demo import PRISMA_SCHEMA_SQL, create_demo_db, cuid_like
from tui_updater.core.models import TaskStatus
from tui_updater.core.service import CharacterQuery

# Columns that are the site's own (ids, owner, media, statuses, counters, timestamps).
SITE_ONLY = {
    "id", "userId", "avatar", "avatarStatus", "backgroundStatus", "emotionStatus",
    "coverImage", "backgroundImage", "emotionPack", "created_at", "updated_at", "isDeleted",
    "rating", "rating_count", "chat_count", "favorite_count", "is_featured",
}  # fmt: skip
USER_ID = cuid_like("demo-user")


def rows(path: Path) -> dict[str, dict[str, Any]]:
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        found = conn.execute('SELECT * FROM "Character" WHERE "isDeleted" = 0').fetchall()
        return {str(r["name"]): dict(r) for r in found}
    finally:
        conn.close()


def read_bytes(path: str) -> bytes:
    return Path(path).read_bytes()


def empty_site(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.executescript(PRISMA_SCHEMA_SQL)
    conn.execute(
        'INSERT INTO "User" ("id", "email", "username", "updated_at") VALUES (?, ?, ?, ?)',
        (USER_ID, "demo@example.com", "demo", "2026-01-01T00:00:00.000+00:00"),
    )
    conn.commit()
    conn.close()
    return path


def engine(tmp_path: Path, db: Path, name: str) -> Any:
    return tui_updater.open(
        db,
        offline=True,
        state_dir=tmp_path / name / "state",
        data_dir=tmp_path / name / "data",
        log_dir=tmp_path / name / "log",
        avatar_dir=tmp_path / name / "avatars",
    )


def avatar_png(colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return create_demo_db(tmp_path / "site" / "dev.db")


async def export_all(tmp_path: Path, site: Path, fmt: str) -> tuple[list[str], dict[str, Any]]:
    original = rows(site)
    first = next(r for r in original.values() if r["avatar"])
    avatars = tmp_path / "source" / "avatars"
    avatars.mkdir(parents=True)
    (avatars / Path(first["avatar"]).name).write_bytes(avatar_png("navy"))
    async with engine(tmp_path, site, "source") as manager:
        ids = await manager.service.character_ids(CharacterQuery())
        report = await manager.service.export_cards(ids, fmt, f"out-{fmt}")
    return ids, report


@pytest.mark.parametrize("fmt", ["v2", "v3"])
async def test_png_cards_read_by_an_independent_reader(
    tmp_path: Path, site: Path, fmt: str
) -> None:
    ids, report = await export_all(tmp_path, site, fmt)
    assert report["exported"] == len(ids) == len(report["files"])
    assert Path(report["directory"]) == tmp_path / "source" / "data" / "cards" / f"out-{fmt}"
    original = rows(site)
    for file in report["files"]:
        data = read_bytes(file)
        chunks = text_chunks(data)
        v2 = card_of(data, "chara")
        assert v2["spec"] == "chara_card_v2" and v2["spec_version"] == "2.0"
        if fmt == "v3":
            card = card_of(data, "ccv3")
            assert card["spec"] == "chara_card_v3" and card["spec_version"] == "3.0"
            assert card["data"]["group_only_greetings"] == []
            assert isinstance(card["data"]["creation_date"], int)
        else:
            assert "ccv3" not in chunks
            card = v2
        data_ = card["data"]
        row = original[data_["name"]]
        assert data_["description"] == row["description"]
        assert data_["personality"] == (row["personality"] or "")
        assert data_["scenario"] == (row["scenario"] or "")
        assert data_["first_mes"] == (row["firstMessage"] or "")
        assert data_["system_prompt"] == (row["systemPrompt"] or "")
        assert data_["tags"] == json.loads(row["tags"])
        assert data_["creator"] == "demo"
        assert data_["character_version"] == str(row["version"])
        if row["exampleDialogs"]:
            pairs = json.loads(row["exampleDialogs"])
            assert data_["mes_example"].startswith("<START>\n{{user}}: ")
            assert pairs[0]["character"] in data_["mes_example"]
        extension = data_["extensions"]["tavernai_plus"]
        for column in ("mbtiType", "language", "backstory", "speakingStyle", "category"):
            assert extension[column] == row[column], column
        for required in ("name", "description", "personality", "scenario", "first_mes",
                         "mes_example", "creator_notes", "system_prompt",
                         "post_history_instructions", "alternate_greetings", "tags", "creator",
                         "character_version", "extensions"):  # fmt: skip
            assert required in data_, required
        picture = Image.open(io.BytesIO(data))
        if row["avatar"] and Path(row["avatar"]).name in {
            p.name for p in (tmp_path / "source" / "avatars").iterdir()
        }:
            assert picture.size == (64, 48)
        else:
            assert picture.size == (400, 400)  # the placeholder


@pytest.mark.parametrize("fmt", ["v2", "v3", "json"])
async def test_import_into_an_empty_database_gives_back_the_characters(
    tmp_path: Path, site: Path, fmt: str
) -> None:
    _ids, report = await export_all(tmp_path, site, fmt)
    target = empty_site(tmp_path / "target" / "dev.db")
    async with engine(tmp_path, target, "target") as manager:
        task = await manager.create_task(
            "CHARACTER_IMPORT", {"directory": report["directory"], "userId": USER_ID}
        )
        record = await task.wait()
        assert record.status is TaskStatus.COMPLETED, record.error
        result = record.result or {}
        assert result["done"] == report["exported"]
        assert {i["name"] for i in result["imported"]} == set(rows(site))
        original, imported = rows(site), rows(target)
        assert set(imported) == set(original)
        for name, row in original.items():
            again = imported[name]
            for column, value in row.items():
                if column not in SITE_ONLY:
                    assert again[column] == value, (name, column)
            assert again["userId"] == USER_ID
            assert len(again["id"]) == 25 and again["id"].startswith("c")
            assert again["id"] != row["id"]
            # Prisma's DATETIME text, as a row the site writes.
            assert again["updated_at"].endswith("+00:00") and "T" in again["updated_at"]
        with_avatar = [r for r in imported.values() if r["avatar"]]
        if fmt == "json":
            assert not with_avatar
        else:
            assert len(with_avatar) == len(imported)
            files = list((tmp_path / "target" / "avatars").iterdir())
            assert len(files) == 2  # the navy avatar and the placeholder, each stored once

        # Imported again: every card is a duplicate by name and is skipped.
        again_task = await manager.create_task(
            "CHARACTER_IMPORT", {"directory": report["directory"], "userId": USER_ID}
        )
        again_record = await again_task.wait()
        assert (again_record.result or {})["skipped"] == report["exported"]
        assert "duplicate" in (again_record.result or {})["duplicates"][0]["reason"]

        reverted = await task.revert()
        assert reverted["reverted"] == report["exported"], reverted
        assert rows(target) == {}
        assert list((tmp_path / "target" / "avatars").glob("*.png")) == []


async def test_revert_keeps_a_row_changed_since(tmp_path: Path, site: Path) -> None:
    _ids, report = await export_all(tmp_path, site, "json")
    target = empty_site(tmp_path / "target" / "dev.db")
    async with engine(tmp_path, target, "target") as manager:
        task = await manager.create_task(
            "CHARACTER_IMPORT", {"directory": report["directory"], "userId": USER_ID}
        )
        await task.wait()
        edited = next(iter(rows(target)))
        conn = sqlite3.connect(target)
        conn.execute('UPDATE "Character" SET "scenario" = ? WHERE "name" = ?', ("edited", edited))
        conn.commit()
        conn.close()
        reverted = await task.revert()
        assert reverted["reverted"] == report["exported"] - 1
        assert [s["reason"] for s in reverted["skipped"]] == [
            "changed since the task inserted it: scenario"
        ]
        assert list(rows(target)) == [edited]


async def test_the_browser_does_not_revert_an_insert_alone(tmp_path: Path, site: Path) -> None:
    _ids, report = await export_all(tmp_path, site, "json")
    target = empty_site(tmp_path / "target" / "dev.db")
    async with engine(tmp_path, target, "target") as manager:
        task = await manager.create_task(
            "CHARACTER_IMPORT",
            {
                "directory": report["directory"],
                "userId": USER_ID,
                "files": [Path(report["files"][0]).name],
            },
        )
        record = await task.wait()
        character_id = (record.result or {})["imported"][0]["characterId"]
        detail = await manager.service.character(character_id)
        (entry,) = detail.history
        outcome = await manager.service.revert_change(entry.entry_id)
        assert outcome["reverted"] is False and "import" in outcome["reason"]
        assert len(rows(target)) == 1
        assert (await task.revert())["reverted"] == 1
        assert rows(target) == {}
