"""What the task-type tests share: a stub provider and a TaskContext over a real database."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from tests.characters.conftest import FakeClock
from tests.characters.memjournal import InMemoryJournal
from tui_updater.characters.db import CharacterDb
from tui_updater.config import Settings
from tui_updater.core.models import ItemRecord, ItemStatus, TokenUsage
from tui_updater.providers.base import Character, Generated, MbtiAnswer
from tui_updater.tasks.base import TaskContext, TaskType
from tui_updater.tasks.resources import TaskResources


def png_bytes(width: int = 120, height: int = 80, colour: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format="PNG")
    return out.getvalue()


@dataclass
class StubProvider:
    """Deterministic ContentProvider; set ``fail`` to an exception to raise it."""

    mbti: str = "INTJ"
    image: bytes = field(default_factory=png_bytes)
    fail: Exception | None = None
    calls: list[tuple[str, str]] = field(default_factory=list)
    name: str = "stub"
    online: bool = True
    chat_model: str = "stub-chat"
    image_model: str = "stub-image"

    def _check(self, kind: str, character: Character) -> None:
        self.calls.append((kind, str(character["id"])))
        if self.fail is not None:
            raise self.fail

    async def assign_mbti(self, character: Character) -> Generated[MbtiAnswer]:
        self._check("mbti", character)
        return Generated(MbtiAnswer(self.mbti, 0.8, "stub"), TokenUsage(10, 5, 1), "stub-chat")

    async def write_settings(
        self, character: Character, fields: Sequence[str]
    ) -> Generated[dict[str, str]]:
        self._check("settings", character)
        values = {f: f"{character['name']} / {f}" for f in fields}
        if "exampleDialogs" in values:
            values["exampleDialogs"] = json.dumps([{"user": "hi", "character": "hello"}])
        return Generated(values, TokenUsage(20, 30, 1), "stub-chat")

    async def draw_avatar(self, character: Character, *, size_px: int) -> Generated[bytes]:
        self._check("avatar", character)
        return Generated(self.image, TokenUsage(requests=1), "stub-image")

    async def aclose(self) -> None:
        return None

    def describe(self) -> dict[str, Any]:
        return {"name": self.name}


@dataclass
class Harness:
    db: CharacterDb
    ctx: TaskContext
    journal: InMemoryJournal
    settings: Settings
    logs: list[tuple[str, str]]


async def harness(root: Path, db_path: Path, provider: Any, **settings: Any) -> Harness:
    cfg = Settings.for_tests(root, db_path=db_path, **settings)
    journal = InMemoryJournal()
    db = await CharacterDb.open(db_path, cfg.characters, journal, clock=FakeClock())
    logs: list[tuple[str, str]] = []
    resources = TaskResources(settings=cfg, provider=provider, characters=db, backups=None)
    ctx = TaskContext("task_t", resources, lambda level, msg: logs.append((level, msg)))
    return Harness(db, ctx, journal, cfg, logs)


async def run_items(task: TaskType[Any], h: Harness, params: Any) -> list[ItemRecord]:
    """select → obtain → apply as the engine would (one batch), returning finished items."""
    specs = await task.select(h.ctx, params)
    items = [ItemRecord(h.ctx.task_id, n, s.key, s.label) for n, s in enumerate(specs)]
    obtained = [(item, await task.obtain(h.ctx, params, item)) for item in items]
    outcomes = {o.key: o for o in await task.apply(h.ctx, params, obtained)}
    return [
        ItemRecord(
            item.task_id, item.seq, item.key, item.label,
            status=outcomes[item.key].status, error=outcomes[item.key].error, result=result,
        )
        for item, result in obtained
    ]  # fmt: skip


def statuses(items: Sequence[ItemRecord]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in items:
        counts[item.status.value] = counts.get(item.status.value, 0) + 1
    return counts


__all__ = ["Harness", "ItemStatus", "StubProvider", "harness", "png_bytes", "run_items", "statuses"]
