"""Control, bidi and invisible format characters in model text never reach a row, and the
item says how many were removed; through the whole engine against the loopback fake."""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path

import pytest

from tests.fakes.openai_server import FakeOpenAIServer, Fault
from tests.tasks.test_online_faults import names_needing_mbti, online_settings
from tui_updater.core.models import ItemStatus
from tui_updater.providers.control_chars import strip_unsafe, strip_unsafe_fields
from tui_updater.runtime import Runtime

# The demo's first character is Chinese, so the answer is too (or it would be sent for repair).
HOSTILE_SCENARIO = "安静\x00的\u202e夜晚\x1b[31m"  # NUL, RIGHT-TO-LEFT OVERRIDE, ESC
HOSTILE_DIALOGS = [
    {"user": "你好\u2066", "character": "嗯\x07"},  # LEFT-TO-RIGHT ISOLATE, BEL
    {"user": "再见", "character": "下次见"},
]


@pytest.mark.parametrize(
    ("text", "clean", "removed"),
    [
        ("plain text\nwith a tab\tand 中文", "plain text\nwith a tab\tand 中文", 0),
        ("evil\u202egnp.exe", "evilgnp.exe", 1),
        ("\u2066\u2067\u2068\u2069\u202a\u202b\u202c\u202d", "", 8),
        ("nul\x00 del\x7f c1\x85 cr\r", "nul del c1 cr", 4),
        ("zero\u200bwidth\ufeff", "zerowidth", 2),
        ("family \U0001f468\u200d\U0001f469", "family \U0001f468\u200d\U0001f469", 0),  # ZWJ kept
    ],
)
def test_strip_unsafe(text: str, clean: str, removed: int) -> None:
    assert strip_unsafe(text) == (clean, removed)


def test_json_fields_are_cleaned_inside_their_escapes() -> None:
    stored = json.dumps([{"user": "a\x00b", "character": "c"}])  # "a\u0000b" as an escape
    cleaned, removed = strip_unsafe_fields(
        {"exampleDialogs": stored}, json_fields=("exampleDialogs",)
    )
    assert removed == 1 and json.loads(cleaned["exampleDialogs"])[0]["user"] == "ab"


async def test_settings_rows_get_the_text_without_control_characters(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with FakeOpenAIServer() as gateway:
        settings = online_settings(tmp_path, gateway.base_url)
        ((char_id, name),) = names_needing_mbti(settings.db_path, 1)
        content = json.dumps({"scenario": HOSTILE_SCENARIO, "exampleDialogs": HOSTILE_DIALOGS})
        gateway.script("chat/completions", [Fault.CONTENT(content)], name=name)
        runtime = await Runtime.open(settings, synchronous="NORMAL")
        try:
            task = await runtime.engine.submit(
                "CHARACTER_SETTINGS",
                {
                    "characterIds": [char_id],
                    "updateFields": ["scenario", "exampleDialogs"],
                    "overwrite": True,
                },
            )
            await runtime.engine.wait(task.task_id)
            (item,) = await runtime.engine.store.list_items(task.task_id)
        finally:
            await runtime.close()
    assert item.status is ItemStatus.DONE, item.error
    assert item.result is not None
    assert item.result["controlCharsRemoved"] == 5
    assert f"{name}: removed 5 control characters from the answer" in caplog.messages
    conn = sqlite3.connect(settings.db_path)
    try:
        scenario, dialogs = conn.execute(
            'SELECT "scenario", "exampleDialogs" FROM "Character" WHERE id = ?', (char_id,)
        ).fetchone()
    finally:
        conn.close()
    assert scenario == "安静的夜晚[31m"
    assert json.loads(dialogs) == [
        {"user": "你好", "character": "嗯"},
        {"user": "再见", "character": "下次见"},
    ]
    assert "\\u" not in dialogs  # no escaped control character left in the stored JSON


async def test_an_mbti_reason_is_stored_without_bidi_overrides(tmp_path: Path) -> None:
    async with FakeOpenAIServer() as gateway:
        settings = online_settings(tmp_path, gateway.base_url)
        ((char_id, name),) = names_needing_mbti(settings.db_path, 1)
        answer = {"mbtiType": "INTJ", "confidence": 0.9, "reason": "calm\u202e and \x00cold"}
        gateway.script("chat/completions", [Fault.CONTENT(json.dumps(answer))], name=name)
        runtime = await Runtime.open(settings, synchronous="NORMAL")
        try:
            task = await runtime.engine.submit("MBTI_ASSIGNMENT", {"characterIds": [char_id]})
            await runtime.engine.wait(task.task_id)
            (item,) = await runtime.engine.store.list_items(task.task_id)
        finally:
            await runtime.close()
    assert item.status is ItemStatus.DONE, item.error
    assert item.result is not None
    assert item.result["reason"] == "calm and cold"
    assert item.result["controlCharsRemoved"] == 2
