"""CHARACTER_AVATAR: draw avatars, normalise them to square PNGs, store them, point the row at them.

The row's ``avatarStatus`` goes GENERATING → COMPLETED (or FAILED), each step a journaled
compare-and-set; the file is written atomically as ``<id>-avatar.png`` in the avatar dir.
"""

from __future__ import annotations

import asyncio
import io
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError
from pydantic import Field

from tui_updater.characters.db import is_empty
from tui_updater.characters.writer import CharacterChange
from tui_updater.core.capabilities import TaskCapabilities
from tui_updater.core.models import ItemRecord, ItemStatus
from tui_updater.errors import InvalidOutput
from tui_updater.tasks.base import ItemSpec, TaskContext, TaskType
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

MAX_SOURCE_PIXELS = 40_000_000  # refuse decompression bombs before decoding
MIN_SOURCE_SIDE_PX = 16
ACCEPTED_FORMATS = frozenset({"PNG", "JPEG", "WEBP", "GIF"})
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


def normalize_avatar(data: bytes, size_px: int, *, max_pixels: int = MAX_SOURCE_PIXELS) -> bytes:
    """Check image bytes and return a centred square RGBA PNG of ``size_px``; InvalidOutput if bad."""
    if not data:
        raise InvalidOutput("the image is empty")
    try:
        with Image.open(io.BytesIO(data)) as source:
            if source.format not in ACCEPTED_FORMATS:
                raise InvalidOutput(f"unsupported image format {source.format}")
            width, height = source.size
            if width * height > max_pixels:
                raise InvalidOutput(f"image too large ({width}x{height} px)")
            if min(width, height) < MIN_SOURCE_SIDE_PX:
                raise InvalidOutput(f"image too small ({width}x{height} px)")
            source.load()
            image = ImageOps.exif_transpose(source) or source
            image = image.convert("RGBA")
    except InvalidOutput:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError) as exc:
        raise InvalidOutput(f"not a usable image: {exc}") from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise InvalidOutput(f"corrupt image: {exc}") from None
    square = ImageOps.fit(image, (size_px, size_px), method=Image.Resampling.LANCZOS)
    out = io.BytesIO()
    square.save(out, format="PNG")
    return out.getvalue()


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
        self, ctx: TaskContext, item: ItemRecord, character_id: str, old: Any, new: str
    ) -> str | None:
        """CAS avatarStatus old → new (journaled); the conflict reason if it lost."""
        change = CharacterChange(item.key, character_id, {"avatarStatus": (old, new)})
        (outcome,) = await characters_of(ctx).write_changes(ctx.task_id, [change])
        return None if outcome.applied else outcome.reason or "changed meanwhile"

    async def obtain(
        self, ctx: TaskContext, params: AvatarParams, item: ItemRecord
    ) -> dict[str, Any]:
        db = characters_of(ctx)
        character = await load_character(ctx, item.key)
        char_id = str(character["id"])
        has_status = db.schema.has("avatarStatus")
        status = character.get("avatarStatus")
        if is_deleted(character):
            return skipped(character, "character is deleted")
        if (
            not params.overwrite
            and not is_empty("avatar", character.get("avatar"))
            and status != FAILED
        ):
            return skipped(character, "already has an avatar (overwrite is off)")
        if has_status and status != GENERATING:
            conflict = await self._set_status(ctx, item, char_id, status, GENERATING)
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
        except Exception:
            if has_status:
                await self._set_status(ctx, item, char_id, GENERATING, FAILED)
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
        }

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
