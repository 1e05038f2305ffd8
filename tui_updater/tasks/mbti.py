"""MBTI_ASSIGNMENT: give characters one of the 16 MBTI types, with statistics in the result."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import Field

from tui_updater.characters.db import is_empty
from tui_updater.core.capabilities import TaskCapabilities
from tui_updater.core.models import ItemRecord, ItemStatus
from tui_updater.errors import InvalidOutput, InvalidParameters
from tui_updater.providers.base import MBTI_GROUPS, MBTI_TYPES, mbti_group
from tui_updater.providers.control_chars import removed_note, strip_unsafe
from tui_updater.tasks.base import ItemOutcome, ItemSpec, TaskContext, TaskType
from tui_updater.tasks.review import ReviewableParams, ReviewsCharacters
from tui_updater.tasks.selection import (
    characters_of,
    check_ids_exist,
    count_items,
    first_seen,
    is_deleted,
    load_character,
    read_characters_ahead,
    seen_conflict,
    select_items,
    skipped,
    without_changes,
)

_MAX_LISTED_RESULTS = 500
_ANSWER_KEYS = ("mbtiType", "confidence", "reason")


class MbtiParams(ReviewableParams):
    capabilities = TaskCapabilities(short_name="MBTI")

    forceUpdate: bool = Field(
        default=False, description="Also re-assign characters that have a type"
    )
    batchSize: int = Field(
        default=25, ge=1, le=500, description="Characters written per transaction"
    )
    concurrency: int = Field(
        default=4,
        ge=1,
        le=256,
        description="Requests in flight (the gateway limiter caps them too)",
    )


def mbti_statistics(types: Sequence[str]) -> dict[str, Any]:
    """Counts by type and by group, and the distribution with percentages (as the original)."""
    by_type: dict[str, int] = {}
    for mbti in types:
        by_type[mbti] = by_type.get(mbti, 0) + 1
    total = len(types)
    by_category = {
        group: {
            "count": sum(by_type.get(t, 0) for t in members),
            "types": [t for t in members if by_type.get(t)],
        }
        for group, members in MBTI_GROUPS.items()
    }
    distribution = [
        {"type": t, "count": c, "percentage": round(100.0 * c / total, 1) if total else 0.0}
        for t, c in sorted(by_type.items(), key=lambda kv: (-kv[1], MBTI_TYPES.index(kv[0])))
    ]
    return {
        "total": total,
        "byType": by_type,
        "byCategory": by_category,
        "distribution": distribution,
    }


def _answer_of(item: ItemRecord) -> dict[str, Any]:
    """The type with the confidence and reason that came with it, as the item's result has them."""
    if not item.result or not item.result.get("mbtiType"):
        return {}
    return {key: item.result[key] for key in _ANSWER_KEYS if key in item.result}


class MbtiAssignmentTask(ReviewsCharacters, TaskType[MbtiParams]):
    name = "MBTI_ASSIGNMENT"
    title = "MBTI assignment"
    description = (
        "Assign one of the 16 MBTI types to characters without one (or all, with forceUpdate)."
    )
    params_model = MbtiParams

    async def check(self, ctx: TaskContext, params: MbtiParams) -> None:
        characters_of(ctx).schema.require("mbtiType", purpose="MBTI assignment")
        await check_ids_exist(ctx, params.ids)

    async def count(self, ctx: TaskContext, params: MbtiParams) -> int:
        return await count_items(ctx, "mbti", params.ids, overwrite=params.forceUpdate)

    async def select(self, ctx: TaskContext, params: MbtiParams) -> Sequence[ItemSpec]:
        return await select_items(ctx, "mbti", params.ids, overwrite=params.forceUpdate)

    def claimed_fields(self, params: MbtiParams) -> Sequence[str]:
        return ("mbtiType",)

    async def read_ahead(
        self, ctx: TaskContext, params: MbtiParams, items: Sequence[ItemRecord]
    ) -> None:
        await read_characters_ahead(ctx, items)

    async def obtain(
        self, ctx: TaskContext, params: MbtiParams, item: ItemRecord
    ) -> dict[str, Any]:
        character = await load_character(ctx, item.key)
        old = first_seen(item, character, "mbtiType")
        if is_deleted(character):
            return skipped(character, "character is deleted")
        conflict = await seen_conflict(ctx, item, character, ("mbtiType",))
        if conflict is not None:  # the site's edit wins: asking the gateway would be wasted
            return conflict
        if not params.forceUpdate and not is_empty("mbtiType", old):
            return skipped(character, f"already has type {old} (forceUpdate is off)")
        answer = await ctx.resources.provider.assign_mbti(character)
        ctx.add_usage(answer.usage)
        mbti = str(answer.value.mbti_type or "").strip().upper()
        if mbti not in MBTI_TYPES:
            raise InvalidOutput(f"provider returned {answer.value.mbti_type!r}, not an MBTI type")
        reason, removed = strip_unsafe(answer.value.reason)
        if removed:
            ctx.warning(f"{character.get('name')}: {removed_note(removed)} from the reason")
        return {
            "characterId": character["id"],
            "characterName": character.get("name"),
            "mbtiType": mbti,
            "group": mbti_group(mbti),
            "confidence": round(float(answer.value.confidence), 3),
            "reason": reason,
            **({"controlCharsRemoved": removed} if removed else {}),
            "offline": answer.offline,
            "model": answer.model,
            "changes": {"mbtiType": [old, mbti]},
        }

    def validate_edit(self, params: MbtiParams, values: Mapping[str, Any]) -> dict[str, Any]:
        mbti = values.get("mbtiType")
        text = mbti.strip().upper() if isinstance(mbti, str) else ""
        if text not in MBTI_TYPES:
            raise InvalidParameters("changes.mbtiType", f"{mbti!r} is not one of the 16 MBTI types")
        return {"mbtiType": text}

    async def apply(
        self,
        ctx: TaskContext,
        params: MbtiParams,
        batch: Sequence[tuple[ItemRecord, dict[str, Any]]],
    ) -> Sequence[ItemOutcome]:
        """As every character type, then a written item keeps its answer without the change it
        made: the journal holds that, and a finished item is never written again."""
        return without_changes(await super().apply(ctx, params, batch), batch)

    def summarize(self, params: MbtiParams, items: Sequence[ItemRecord]) -> dict[str, Any]:
        summary = super().summarize(params, items)
        assigned = [
            i
            for i in items
            if i.status is ItemStatus.DONE and i.result and i.result.get("mbtiType")
        ]
        results = [
            {
                "characterId": i.key,
                "characterName": i.label,
                "success": i.status is ItemStatus.DONE,
                **_answer_of(i),
                **({"error": i.error} if i.error else {}),
            }
            for i in items[:_MAX_LISTED_RESULTS]
        ]
        summary.update(
            assigned=len(assigned),
            offline=any(bool(i.result and i.result.get("offline")) for i in items),
            statistics=mbti_statistics([str(i.result["mbtiType"]) for i in assigned if i.result]),
            results=results,
            resultsTruncated=len(items) > _MAX_LISTED_RESULTS,
        )
        return summary
