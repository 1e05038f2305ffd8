"""CHARACTER_AVATAR: draw avatars, normalise them to square PNGs, store them, point the row at them.

The row's ``avatarStatus`` goes GENERATING → COMPLETED (or FAILED), each step a journaled
compare-and-set; the file is written atomically as ``<id>-avatar.png`` in the avatar dir.
GENERATING is the tool's own transient mark: a cancel, a lost write or a crash puts back what
the row held before (read from the journal after a crash).
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import Field

from tui_updater.characters.db import is_empty
from tui_updater.characters.writer import CharacterChange
from tui_updater.core.capabilities import TaskCapabilities
from tui_updater.core.journal import JournalState
from tui_updater.core.models import ItemRecord, ItemStatus
from tui_updater.tasks.avatar_image import normalize_avatar
from tui_updater.tasks.base import ItemOutcome, ItemSpec, TaskContext, TaskType
from tui_updater.tasks.selection import (
    CharacterTaskParams,
    WritesCharacters,
    characters_of,
    check_ids_exist,
    is_deleted,
    load_character,
    select_items,
    skipped,
)

GENERATING, COMPLETED, FAILED = "GENERATING", "COMPLETED", "FAILED"


class AvatarParams(CharacterTaskParams):
    capabilities = TaskCapabilities(short_name="AVATAR")

    batchSize: int = Field(
        default=3, ge=1, le=500, description="Characters written per transaction"
    )
    concurrency: int = Field(default=1, ge=1, le=64, description="Images generated at once")
    overwrite: bool = Field(default=False, description="Also replace avatars that exist")
    size: int | None = Field(
        default=None, ge=64, le=2048, description="Side of the square PNG in px"
    )
    model: str | None = Field(default=None, min_length=1, max_length=200, description="Image model")


def avatar_file_name(character_id: str) -> str:
    """``<id>-avatar.png`` with anything unsafe in a file name replaced."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", character_id).lstrip(".") + "-avatar.png"


def write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file beside ``path``, fsync, then rename over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


class CharacterAvatarTask(WritesCharacters, TaskType[AvatarParams]):
    name = "CHARACTER_AVATAR"
    title = "Character avatars"
    description = "Generate avatars for characters without one (or whose last attempt failed)."
    params_model = AvatarParams

    async def check(self, ctx: TaskContext, params: AvatarParams) -> None:
        characters_of(ctx).schema.require("avatar", purpose="avatars")
        await check_ids_exist(ctx, params.ids)

    async def select(self, ctx: TaskContext, params: AvatarParams) -> Sequence[ItemSpec]:
        return await select_items(ctx, "avatar", params.ids, overwrite=params.overwrite)

    def _size(self, ctx: TaskContext, params: AvatarParams) -> int:
        return int(params.size or ctx.resources.settings.characters.avatar_size_px)

    async def _set_status(
        self, ctx: TaskContext, item: ItemRecord, character_id: str, old: Any, new: Any
    ) -> str | None:
        """CAS avatarStatus old → new (journaled); the conflict reason if it lost."""
        change = CharacterChange(item.key, character_id, {"avatarStatus": (old, new)})
        (outcome,) = await characters_of(ctx).write_changes(ctx.task_id, [change])
        return None if outcome.applied else outcome.reason or "changed meanwhile"

    async def _own_mark(self, ctx: TaskContext, item: ItemRecord) -> tuple[bool, Any]:
        """(True, the status before) when this task's journal shows it set the row GENERATING
        for this item last (a run that died mid-item); (False, None) otherwise."""
        column = characters_of(ctx).schema.column("avatarStatus")
        entries = await characters_of(ctx).journal.entries(
            ctx.task_id,
            states={JournalState.PLANNED, JournalState.APPLIED},
            item_keys=[item.key],
        )
        marks = [e for e in entries if e.column == column]
        if marks and marks[-1].new_value == GENERATING:
            return True, marks[-1].old_value
        return False, None

    async def obtain(
        self, ctx: TaskContext, params: AvatarParams, item: ItemRecord
    ) -> dict[str, Any]:
        db = characters_of(ctx)
        character = await load_character(ctx, item.key)
        char_id = str(character["id"])
        has_status = db.schema.has("avatarStatus")
        status = character.get("avatarStatus")
        # A row this task marked GENERATING before a crash is still ours: it is judged, and put
        # back on cancel, by the status it had before that mark.
        adopted, before = False, status
        if has_status and status == GENERATING:
            adopted, earlier = await self._own_mark(ctx, item)
            before = earlier if adopted else status
        reason = None
        if is_deleted(character):
            reason = "character is deleted"
        elif (
            not params.overwrite
            and not is_empty("avatar", character.get("avatar"))
            and before != FAILED
        ):
            reason = "already has an avatar (overwrite is off)"
        if reason is not None:
            if adopted:
                await self._set_status(ctx, item, char_id, GENERATING, before)
            return skipped(character, reason)
        marked = adopted or (has_status and status != GENERATING)  # another's GENERATING is not
        if marked and not adopted:
            conflict = await asyncio.shield(
                self._set_status(ctx, item, char_id, status, GENERATING)
            )
            if conflict:
                return {
                    "characterId": char_id,
                    "characterName": character.get("name"),
                    "conflict": conflict,
                }
        settings = ctx.resources.settings
        size_px = self._size(ctx, params)
        path = Path(settings.avatar_dir) / avatar_file_name(char_id)
        try:
            answer = await ctx.resources.provider.draw_avatar(character, size_px=size_px)
            ctx.add_usage(answer.usage)
            png = await asyncio.to_thread(normalize_avatar, answer.value, size_px)
            await asyncio.to_thread(write_atomically, path, png)
        except BaseException as exc:
            # A failure is recorded as FAILED (the row is selected again); a cancel or shutdown
            # puts back the status the row had, so nothing stays GENERATING.
            if has_status and (marked or isinstance(exc, Exception)):
                back = FAILED if isinstance(exc, Exception) else before
                await asyncio.shield(self._set_status(ctx, item, char_id, GENERATING, back))
            raise
        public = settings.characters.avatar_public_prefix.rstrip("/") + "/" + path.name
        changes: dict[str, list[Any]] = {"avatar": [character.get("avatar"), public]}
        if has_status:
            changes["avatarStatus"] = [GENERATING, COMPLETED]
        return {
            "characterId": char_id,
            "characterName": character.get("name"),
            "avatar": public,
            "file": str(path),
            "sizePx": size_px,
            "bytes": len(png),
            "offline": answer.offline,
            "model": answer.model or params.model,
            "changes": changes,
            "statusMarked": marked,
            "statusBefore": before,
        }

    async def apply(
        self,
        ctx: TaskContext,
        params: AvatarParams,
        batch: Sequence[tuple[ItemRecord, dict[str, Any]]],
    ) -> Sequence[ItemOutcome]:
        outcomes = await super().apply(ctx, params, batch)
        lost = {o.key for o in outcomes if o.status is ItemStatus.CONFLICT}
        # The site changed the avatar meanwhile, so the row kept our GENERATING: put it back.
        restore = [
            CharacterChange(
                item.key,
                str(result["characterId"]),
                {"avatarStatus": (GENERATING, result["statusBefore"])},
            )
            for item, result in batch
            if item.key in lost and result.get("statusMarked")
        ]
        if restore:
            await characters_of(ctx).write_changes(ctx.task_id, restore)
        return outcomes

    def summarize(self, params: AvatarParams, items: Sequence[ItemRecord]) -> dict[str, Any]:
        summary = super().summarize(params, items)
        summary.update(
            generated=sum(1 for i in items if i.status is ItemStatus.DONE),
            offline=any(bool(i.result and i.result.get("offline")) for i in items),
            results=[
                {
                    "characterId": i.key,
                    "characterName": i.label,
                    "success": i.status is ItemStatus.DONE,
                    **(
                        {"avatar": i.result.get("avatar")}
                        if i.result and i.result.get("avatar")
                        else {}
                    ),
                    **({"error": i.error} if i.error else {}),
                }
                for i in items[:500]
            ],
        )
        return summary
