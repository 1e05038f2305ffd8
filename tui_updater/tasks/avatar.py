"""CHARACTER_AVATAR: draw avatars, normalise them to square PNGs, store them, point the row at them.

The row's ``avatarStatus`` goes GENERATING → COMPLETED (or FAILED), each step a journaled
compare-and-set; the image is a new file of its own (``avatar_files``), journaled with the row
change so revert removes it. GENERATING and FAILED are the tool's own marks: they never make the
row look changed to the task that wrote them, and a cancel, a lost write or a crash puts back
what the row held before (read from the journal after a crash). Everything is judged against
the values the item first saw: a site that uploaded an avatar meanwhile keeps it (CONFLICT).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import Field

from tui_updater.characters.db import is_empty
from tui_updater.characters.writer import CharacterChange
from tui_updater.core.capabilities import TaskCapabilities
from tui_updater.core.journal import JournalState
from tui_updater.core.models import ItemRecord, ItemStatus
from tui_updater.core.proposals import ProposalRecord, ProposalView
from tui_updater.errors import TaskStateError
from tui_updater.tasks.avatar_files import (
    avatar_file_name,
    check_avatar_dir,
    remove_avatar,
    safe_stem,
    store_avatar,
)
from tui_updater.tasks.base import ItemOutcome, ItemSpec, TaskContext, TaskType
from tui_updater.tasks.review import (
    ReviewableParams,
    ReviewsCharacters,
    accept_proposals,
    discard_files,
    wants_review,
    with_current_values,
)
from tui_updater.tasks.selection import (
    characters_of,
    check_ids_exist,
    conflict_result,
    count_items,
    first_seen,
    is_deleted,
    load_character,
    select_items,
    skipped,
)

GENERATING, COMPLETED, FAILED = "GENERATING", "COMPLETED", "FAILED"


def review_dir(settings: Any, task_id: str) -> Path:
    """Where a review-mode task's images wait: the tool's data dir, never the site's."""
    return Path(settings.data_dir) / "review" / safe_stem(task_id)


class AvatarParams(ReviewableParams):
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


class CharacterAvatarTask(ReviewsCharacters, TaskType[AvatarParams]):
    name = "CHARACTER_AVATAR"
    title = "Character avatars"
    description = "Generate avatars for characters without one (all of them, with overwrite)."
    params_model = AvatarParams

    async def check(self, ctx: TaskContext, params: AvatarParams) -> None:
        characters_of(ctx).schema.require("avatar", purpose="avatars")
        await check_ids_exist(ctx, params.ids)

    def claimed_fields(self, params: AvatarParams) -> Sequence[str]:
        return ("avatar", "avatarStatus")

    async def count(self, ctx: TaskContext, params: AvatarParams) -> int:
        return await count_items(ctx, "avatar", params.ids, overwrite=params.overwrite)

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

    async def _own_status(self, ctx: TaskContext, item: ItemRecord) -> tuple[Any, Any] | None:
        """(the status this task last wrote for the item, the status before its first write),
        from the journal; None when it has written none."""
        column = characters_of(ctx).schema.column("avatarStatus")
        entries = await characters_of(ctx).journal.entries(
            ctx.task_id,
            states={JournalState.PLANNED, JournalState.APPLIED},
            item_keys=[item.key],
        )
        marks = [e for e in entries if e.column == column]
        return (marks[-1].new_value, marks[0].old_value) if marks else None

    async def obtain(
        self, ctx: TaskContext, params: AvatarParams, item: ItemRecord
    ) -> dict[str, Any]:
        db = characters_of(ctx)
        if not db.schema.has("avatarStatus"):
            return await self._obtain(ctx, params, item)
        # From the read that decides the mark to the write that settles it, the item holds a
        # lease: a DATABASE_UPGRADE waits, so its backup never keeps our GENERATING.
        ctx.leases[item.key] = await db.access.lease()
        try:
            result = await self._obtain(ctx, params, item)
        except BaseException:
            ctx.release([item.key])
            raise
        if not result.get("statusMarked") or "changes" not in result:
            ctx.release([item.key])  # nothing of ours waits on the row
        return result

    async def resume(
        self, ctx: TaskContext, params: AvatarParams, obtained: Sequence[ItemRecord]
    ) -> None:
        """Results obtained before a restart still hold our mark on their rows until applied."""
        await super().resume(ctx, params, obtained)
        db = characters_of(ctx)
        for item in obtained:
            if item.result and item.result.get("statusMarked") and item.key not in ctx.leases:
                ctx.leases[item.key] = await db.access.lease()

    async def _obtain(
        self, ctx: TaskContext, params: AvatarParams, item: ItemRecord
    ) -> dict[str, Any]:
        db = characters_of(ctx)
        character = await load_character(ctx, item.key)
        char_id = str(character["id"])
        has_status = db.schema.has("avatarStatus")
        seen_avatar = first_seen(item, character, "avatar")
        status = character.get("avatarStatus")
        # The tool's own marks are not someone else's edit: judged by the status the row had
        # before this task first marked it.
        own = await self._own_status(ctx, item) if has_status else None
        ours = own is not None and status == own[0]
        before = own[1] if own is not None else first_seen(item, character, "avatarStatus")
        reason: str | None = None
        conflict = ""
        if is_deleted(character):
            reason = "character is deleted"
        elif character.get("avatar") != seen_avatar:
            conflict = "changed meanwhile: avatar (since the task selected it)"
        elif has_status and not ours and status != before:
            conflict = "changed meanwhile: avatarStatus (since the task selected it)"
        elif not params.overwrite and not is_empty("avatar", seen_avatar):
            reason = "already has an avatar (overwrite is off)"
        if reason is not None or conflict:
            if ours and status != before:
                await self._set_status(ctx, item, char_id, status, before)
            return skipped(character, reason) if reason else conflict_result(character, conflict)
        settings = ctx.resources.settings
        review = wants_review(params)  # the image waits in the tool's own dir, the row untouched
        directory = review_dir(settings, ctx.task_id) if review else Path(settings.avatar_dir)
        await asyncio.to_thread(check_avatar_dir, directory)  # before paying for an image
        # Another's GENERATING (a run of an older release) is left alone; ours is kept.
        marked = has_status and (ours or before != GENERATING) and not review
        if marked and status != GENERATING:
            lost = await asyncio.shield(self._set_status(ctx, item, char_id, status, GENERATING))
            if lost:
                return conflict_result(character, lost)
        size_px = self._size(ctx, params)
        try:
            answer = await ctx.resources.provider.draw_avatar(character, size_px=size_px)
            ctx.add_usage(answer.usage)
            # Pillow is loaded by the first avatar drawn, not by every process that lists types.
            from tui_updater.tasks.avatar_image import normalize_avatar

            png = await asyncio.to_thread(normalize_avatar, answer.value, size_px)
            name = avatar_file_name(char_id, ctx.task_id, png)
            path = await asyncio.to_thread(store_avatar, directory, name, png)
        except BaseException as exc:
            # A failure is recorded as FAILED (our own mark: a retry still judges the row by
            # what it held before); a cancel or shutdown puts that status back.
            if marked and (isinstance(exc, Exception) or before != GENERATING):
                back = FAILED if isinstance(exc, Exception) else before
                await asyncio.shield(self._set_status(ctx, item, char_id, GENERATING, back))
            raise
        public = settings.characters.avatar_public_prefix.rstrip("/") + "/" + path.name
        changes: dict[str, list[Any]] = {"avatar": [seen_avatar, public]}
        if marked:
            changes["avatarStatus"] = [GENERATING, COMPLETED]
        elif review and has_status and before != COMPLETED:
            changes["avatarStatus"] = [before, COMPLETED]
        return {
            "characterId": char_id,
            "characterName": character.get("name"),
            "avatar": public,
            "file": str(path),
            "files": {"avatar": str(path)},
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
        try:
            outcomes = await self._apply_settled(ctx, params, batch)
        finally:
            ctx.release(item.key for item, _ in batch)
        return outcomes

    async def _apply_settled(
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
        # The image of a change that lost is referenced by nothing: it was only ever ours.
        for item, result in batch:
            if item.key in lost and result.get("file"):
                await asyncio.to_thread(remove_avatar, str(result["file"]))
        return outcomes

    async def accept_proposals(
        self, ctx: TaskContext, params: AvatarParams, proposals: Sequence[ProposalRecord]
    ) -> Sequence[ProposalRecord]:
        """Place each proposed image in the avatar dir under its proposed name, then write the
        rows as apply does; a lost write's placed image is removed, the waiting copies always."""
        directory = Path(ctx.resources.settings.avatar_dir)
        placed = []
        for proposal in proposals:
            waiting = (proposal.files or {}).get("avatar")
            if waiting is None:
                placed.append(proposal)
                continue
            try:
                data = await asyncio.to_thread(Path(waiting).read_bytes)
            except FileNotFoundError:
                raise TaskStateError(f"the proposed image {waiting} is gone") from None
            name = PurePosixPath(str(proposal.proposed("avatar"))).name
            final = await asyncio.to_thread(store_avatar, directory, name, data)
            placed.append(proposal.evolve(files={"avatar": str(final)}))
        settled = await accept_proposals(ctx, placed)
        await discard_files(proposals)
        return settled

    async def view_proposals(
        self, ctx: TaskContext, params: AvatarParams, proposals: Sequence[ProposalRecord]
    ) -> list[ProposalView]:
        """Beside each proposed image, the file of the avatar the row names now."""
        directory = Path(ctx.resources.settings.avatar_dir)
        views = await with_current_values(ctx, proposals)
        out = []
        for view in views:
            current = (view.current or {}).get("avatar")
            path = directory / PurePosixPath(str(current)).name if current else None
            found = path is not None and await asyncio.to_thread(path.is_file)
            out.append(view.evolve(current_files={"avatar": str(path)} if found else None))
        return out

    def summarize(self, params: AvatarParams, items: Sequence[ItemRecord]) -> dict[str, Any]:
        summary = super().summarize(params, items)
        summary.update(
            generated=summary["done"],
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
