"""What the three character task types share: id parameters, id checks, item selection, apply."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pydantic import Field, StrictInt, StrictStr, field_validator

from tui_updater.characters.writer import CharacterChange
from tui_updater.core.models import ItemRecord, ItemStatus
from tui_updater.errors import InvalidParameters, PermanentError
from tui_updater.tasks.base import ItemOutcome, ItemSpec, TaskContext, TaskParams

if TYPE_CHECKING:
    from tui_updater.characters.db import CandidateKind, CharacterDb

_MAX_LISTED_UNKNOWN = 20


class CharacterTaskParams(TaskParams):
    """Parameters every character task has: an optional list of ids (numbers or strings)."""

    characterIds: list[StrictInt | StrictStr] | None = Field(
        default=None,
        description="Only these characters (ids as numbers or strings); all when absent",
    )

    @field_validator("characterIds", mode="after")
    @classmethod
    def _ids_as_text(cls, value: list[int | str] | None) -> list[int | str] | None:
        if not value:
            return None
        out: list[int | str] = []
        seen: set[str] = set()
        for raw in value:
            key = str(raw).strip()
            if not key:
                raise ValueError("ids must not be empty")
            if key not in seen:
                seen.add(key)
                out.append(key)
        return out

    @property
    def ids(self) -> list[str] | None:
        """The requested ids as text, or None for "every candidate"."""
        return None if self.characterIds is None else [str(v) for v in self.characterIds]


def characters_of(ctx: TaskContext) -> CharacterDb:
    db: CharacterDb = ctx.resources.characters
    return db


async def check_ids_exist(ctx: TaskContext, ids: Sequence[str] | None) -> None:
    """Refuse ids that are not in the character table, naming them."""
    if not ids:
        return
    existing = await characters_of(ctx).existing_ids(ids)
    unknown = [key for key in ids if key not in existing]
    if unknown:
        listed = ", ".join(unknown[:_MAX_LISTED_UNKNOWN])
        more = (
            f" (+{len(unknown) - _MAX_LISTED_UNKNOWN} more)"
            if len(unknown) > _MAX_LISTED_UNKNOWN
            else ""
        )
        raise InvalidParameters("characterIds", f"unknown ids: {listed}{more}")


async def select_items(
    ctx: TaskContext,
    kind: CandidateKind,
    ids: Sequence[str] | None,
    *,
    overwrite: bool,
    fields: Sequence[str] = (),
) -> list[ItemSpec]:
    """Named ids become items as given (obtain skips those needing nothing); else the candidates."""
    db = characters_of(ctx)
    db.needs_sql(kind, overwrite=overwrite, fields=fields)  # raises MissingColumn early
    if ids:
        rows = await db.labels(ids)
    else:
        rows = await db.select_candidates(kind, overwrite=overwrite, fields=fields)
    return [ItemSpec(key=key, label=name) for key, name in rows]


async def load_character(ctx: TaskContext, key: str) -> dict[str, Any]:
    """The character of an item, or PermanentError when it is gone."""
    found = await characters_of(ctx).fetch_one(key)
    if found is None:
        raise PermanentError(f"character {key} no longer exists")
    return found


def is_deleted(character: dict[str, Any]) -> bool:
    return bool(character.get("isDeleted") or 0) and str(character.get("isDeleted")) not in (
        "0",
        "false",
    )


def skipped(character: dict[str, Any], reason: str) -> dict[str, Any]:
    """An obtain result meaning "nothing to do" (applied as SKIPPED)."""
    return {
        "characterId": character["id"],
        "characterName": character.get("name"),
        "skipped": reason,
    }


def change_of(item: ItemRecord, result: dict[str, Any]) -> CharacterChange:
    """The CAS change stored in an obtain result under ``changes`` {field: [old, new]}."""
    fields = {name: (pair[0], pair[1]) for name, pair in result["changes"].items()}
    return CharacterChange(item.key, str(result.get("characterId", item.key)), fields)


async def apply_changes(
    ctx: TaskContext, batch: Sequence[tuple[ItemRecord, dict[str, Any]]]
) -> list[ItemOutcome]:
    """Write a batch of obtain results; SKIPPED for "nothing to do", CONFLICT when CAS lost."""
    outcomes: list[ItemOutcome] = []
    pending: list[tuple[ItemRecord, dict[str, Any]]] = []
    for item, result in batch:
        if result.get("skipped"):
            outcomes.append(ItemOutcome(item.key, ItemStatus.SKIPPED, error=str(result["skipped"])))
        elif result.get("conflict"):
            outcomes.append(
                ItemOutcome(item.key, ItemStatus.CONFLICT, error=str(result["conflict"]))
            )
        else:
            pending.append((item, result))
    if pending:
        written = await characters_of(ctx).write_changes(
            ctx.task_id, [change_of(item, result) for item, result in pending]
        )
        for (item, _result), outcome in zip(pending, written, strict=True):
            if outcome.applied:
                outcomes.append(ItemOutcome(item.key, ItemStatus.DONE))
            else:
                outcomes.append(
                    ItemOutcome(
                        item.key, ItemStatus.CONFLICT, error=f"not written: {outcome.reason}"
                    )
                )
    return outcomes


class WritesCharacters:
    """Mixin for task types whose results are journaled character changes: applies them in
    batches (compare-and-set) and can revert them."""

    async def apply(
        self, ctx: TaskContext, params: Any, batch: Sequence[tuple[ItemRecord, dict[str, Any]]]
    ) -> Sequence[ItemOutcome]:
        return await apply_changes(ctx, batch)

    async def revert(self, ctx: TaskContext, params: Any) -> dict[str, Any]:
        """Undo the task's applied changes newest first, compare-and-set; report skips."""
        report: dict[str, Any] = await ctx.resources.characters.revert(ctx.task_id)
        return report
