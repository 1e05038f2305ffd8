"""A malformed card is refused naming the file and the field; a hostile PNG is refused before
it is decoded; through the import task such a file fails its item, the others import."""

from __future__ import annotations

import base64
import io
import json
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, PngImagePlugin

import tui_updater
from tests.cards.test_roundtrip import USER_ID, empty_site, rows
from tui_updater.cards import reading
from tui_updater.cards.reading import load_card
from tui_updater.core.models import ItemStatus, TaskStatus
from tui_updater.errors import InvalidParameters


def v2_card(name: Any = "Nova", **changes: Any) -> dict[str, Any]:
    card: dict[str, Any] = {
        "spec": "chara_card_v2",
        "spec_version": "2.0",
        "data": {
            "name": name,
            "description": "A pilot.",
            "personality": "calm",
            "scenario": "",
            "first_mes": "Hello.",
            "mes_example": "",
            "creator_notes": "",
            "system_prompt": "",
            "post_history_instructions": "",
            "alternate_greetings": [],
            "tags": ["scifi"],
            "creator": "someone",
            "character_version": "1",
            "extensions": {},
        },
    }
    card.update(changes)
    return card


def png_with(chunks: dict[str, str], size: tuple[int, int] = (20, 20)) -> bytes:
    info = PngImagePlugin.PngInfo()
    for keyword, text in chunks.items():
        info.add_text(keyword, text)
    out = io.BytesIO()
    Image.new("RGB", size, "teal").save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def encoded(card: dict[str, Any]) -> str:
    return base64.b64encode(json.dumps(card).encode()).decode()


def refusal(path: Path) -> InvalidParameters:
    with pytest.raises(InvalidParameters) as refused:
        load_card(path)
    return refused.value


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("card", "field", "message"),
    [
        ({k: v for k, v in v2_card().items() if k != "spec"}, "spec", "missing"),
        (v2_card(spec_version="3.0"), "spec_version", "2.0"),
        (v2_card(spec="chara_card_v9"), "spec", "is not"),
        (v2_card(name=42), "data.name", "string"),
        (v2_card(name=""), "data.name", "at least 1"),
        ({**v2_card(), "data": {"name": "x"}}, "data.description", "required"),
        ({**v2_card(), "data": [1]}, "data", "dictionary"),
    ],
)
def test_a_malformed_json_card_is_refused_naming_the_field(
    tmp_path: Path, card: dict[str, Any], field: str, message: str
) -> None:
    path = write(tmp_path / "bad.json", json.dumps(card).encode())
    refused = refusal(path)
    assert refused.field == f"bad.json: {field}"
    assert message in refused.message


def test_v3_spec_version_must_be_3(tmp_path: Path) -> None:
    card = v2_card(spec="chara_card_v3", spec_version="2.0")
    refused = refusal(write(tmp_path / "bad.json", json.dumps(card).encode()))
    assert refused.field == "bad.json: spec_version"


def test_the_same_card_in_a_png_names_the_chunk(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.png", png_with({"chara": encoded(v2_card(name=["x"]))}))
    assert refusal(path).field == "bad.png (chara chunk): data.name"


def test_a_truncated_png_is_refused(tmp_path: Path) -> None:
    whole = png_with({"chara": encoded(v2_card())}, size=(200, 200))
    refused = refusal(write(tmp_path / "cut.png", whole[: len(whole) // 2]))
    assert refused.field.startswith("cut.png")


@pytest.mark.parametrize(
    ("chunks", "message"),
    [
        ({}, "no character card"),
        ({"chara": "%%% not base64 %%%"}, "not base64"),
        ({"chara": base64.b64encode(b"{not json").decode()}, "invalid JSON"),
    ],
)
def test_a_png_without_a_usable_card_is_refused(
    tmp_path: Path, chunks: dict[str, str], message: str
) -> None:
    refused = refusal(write(tmp_path / "x.png", png_with(chunks)))
    assert message in str(refused)


def test_a_decompression_bomb_is_refused_before_decoding(tmp_path: Path) -> None:
    data = bytearray(png_with({"chara": encoded(v2_card())}))
    # IHDR claims 60000 x 60000 pixels: the header alone must get the file refused.
    ihdr = 8 + 8
    data[ihdr : ihdr + 8] = struct.pack(">II", 60000, 60000)
    crc_at = ihdr + 13
    data[crc_at : crc_at + 4] = struct.pack(">I", zlib.crc32(bytes(data[ihdr - 4 : crc_at])))
    refused = refusal(write(tmp_path / "bomb.png", bytes(data)))
    assert refused.field == "bomb.png" and "too large" in refused.message


def test_an_oversized_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reading, "MAX_CARD_FILE_BYTES", 1024)
    path = write(tmp_path / "big.json", json.dumps(v2_card(), indent=4).encode() * 5)
    assert "larger than" in refusal(path).message


def test_v3_is_read_before_the_v2_chunk(tmp_path: Path) -> None:
    v3 = v2_card(name="Three", spec="chara_card_v3", spec_version="3.0")
    path = write(
        tmp_path / "both.png",
        png_with({"chara": encoded(v2_card(name="Two")), "ccv3": encoded(v3)}),
    )
    loaded = load_card(path)
    assert loaded.card.spec == "chara_card_v3" and loaded.card.data.name == "Three"
    assert loaded.image is not None


async def test_through_the_task_a_bad_file_fails_its_item_naming_it(tmp_path: Path) -> None:
    cards = tmp_path / "cards"
    cards.mkdir()
    write(cards / "good.json", json.dumps(v2_card()).encode())
    write(cards / "bad.json", json.dumps(v2_card(name=7)).encode())
    target = empty_site(tmp_path / "site" / "dev.db")
    async with tui_updater.open(
        target, offline=True, state_dir=tmp_path / "state", data_dir=tmp_path / "data",
        log_dir=tmp_path / "log",
    ) as manager:  # fmt: skip
        with pytest.raises(InvalidParameters) as no_user:
            await manager.create_task("CHARACTER_IMPORT", {"directory": str(cards)})
        assert no_user.value.field == "userId"
        with pytest.raises(InvalidParameters) as unknown_user:
            await manager.create_task(
                "CHARACTER_IMPORT", {"directory": str(cards), "userId": "nobody"}
            )
        assert unknown_user.value.field == "userId"
        task = await manager.create_task(
            "CHARACTER_IMPORT", {"directory": str(cards), "userId": USER_ID}
        )
        record = await task.wait()
        assert record.status is TaskStatus.FAILED
        items = {i.key: i for i in await manager.service.list_items(record.task_id)}
        assert items["good.json"].status is ItemStatus.DONE
        assert items["bad.json"].status is ItemStatus.FAILED
        assert "bad.json: data.name" in str(items["bad.json"].error)
    assert list(rows(target)) == ["Nova"]
    assert rows(target)["Nova"]["tags"] == '["scifi"]'
