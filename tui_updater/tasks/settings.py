"""CHARACTER_SETTINGS: fill (or rewrite) a character's long-form fields in its own language."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import Field, field_validator

from tui_updater.characters.db import SETTINGS_FIELDS, is_empty
from tui_updater.core.capabilities import TaskCapabilities
from tui_updater.core.models import ItemRecord, ItemStatus
from tui_updater.errors import InvalidOutput, InvalidParameters
from tui_updater.providers.control_chars import removed_note, strip_unsafe_fields
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

SettingsField = Literal["fullDescription", "speakingStyle", "scenario", "exampleDialogs"]
MAX_FIELD_CHARS = 20_000
MAX_DIALOG_PAIRS = 20


class SettingsParams(ReviewableParams):
    capabilities = TaskCapabilities(short_name="SETTINGS")

    updateFields: list[SettingsField] = Field(
        default_factory=lambda: list(SETTINGS_FIELDS),  # type: ignore[arg-type]
        min_length=1,
        description="Fields to write",
    )
    overwrite: bool = Field(default=False, description="Also rewrite fields that already have text")
    batchSize: int = Field(
        default=25, ge=1, le=500, description="Characters written per transaction"
    )
    concurrency: int = Field(
        default=4,
        ge=1,
        le=256,
        description="Requests in flight (the gateway limiter caps them too)",
    )

    @field_validator("updateFields", mode="after")
    @classmethod
    def _dedupe(cls, value: list[SettingsField]) -> list[SettingsField]:
        return list(dict.fromkeys(value))


def normalize_dialogs(value: Any) -> str:
    """exampleDialogs as the site stores it: a JSON string of [{"user", "character"}, ...]."""
    data = value
    if isinstance(value, str):
        try:
            data = json.loads(value)
        except ValueError:
            raise InvalidOutput("exampleDialogs is not JSON") from None
    if not isinstance(data, list) or not data:
        raise InvalidOutput("exampleDialogs must be a non-empty JSON list")
    pairs = []
    for entry in data[:MAX_DIALOG_PAIRS]:
        if not isinstance(entry, dict):
            raise InvalidOutput("exampleDialogs entries must be objects with user and character")
        user, reply = entry.get("user"), entry.get("character")
        if (
            not isinstance(user, str)
            or not isinstance(reply, str)
            or not user.strip()
            or not reply.strip()
        ):
            raise InvalidOutput("each exampleDialogs entry needs non-empty user and character text")
        pairs.append({"user": user.strip(), "character": reply.strip()})
    return json.dumps(pairs, ensure_ascii=False)


def validate_settings(values: dict[str, Any], fields: Sequence[str]) -> dict[str, str]:
    """Exactly ``fields``, each non-empty text of sane length; InvalidOutput otherwise."""
    out: dict[str, str] = {}
    missing = [f for f in fields if f not in values]
    if missing:
        raise InvalidOutput(f"provider output lacks {', '.join(missing)}")
    for name in fields:
        value = values[name]
        if name == "exampleDialogs":
            out[name] = normalize_dialogs(value)
            continue
        if not isinstance(value, str) or not value.strip():
            raise InvalidOutput(f"{name} is empty")
        if len(value) > MAX_FIELD_CHARS:
            raise InvalidOutput(f"{name} is too long ({len(value)} characters)")
        out[name] = value.strip()
    return out


class CharacterSettingsTask(ReviewsCharacters, TaskType[SettingsParams]):
    name = "CHARACTER_SETTINGS"
    title = "Character settings"
    description = "Write full description, speaking style, scenario and example dialogs."
    params_model = SettingsParams

    async def check(self, ctx: TaskContext, params: SettingsParams) -> None:
        characters_of(ctx).schema.require(*params.updateFields, purpose="character settings")
        await check_ids_exist(ctx, params.ids)

    async def count(self, ctx: TaskContext, params: SettingsParams) -> int:
        return await count_items(
            ctx, "settings", params.ids, overwrite=params.overwrite, fields=params.updateFields
        )

    async def select(self, ctx: TaskContext, params: SettingsParams) -> Sequence[ItemSpec]:
        return await select_items(
            ctx, "settings", params.ids, overwrite=params.overwrite, fields=params.updateFields
        )

    def claimed_fields(self, params: SettingsParams) -> Sequence[str]:
        return tuple(params.updateFields)

    async def read_ahead(
        self, ctx: TaskContext, params: SettingsParams, items: Sequence[ItemRecord]
    ) -> None:
        await read_characters_ahead(ctx, items)

    async def obtain(
        self, ctx: TaskContext, params: SettingsParams, item: ItemRecord
    ) -> dict[str, Any]:
        character = await load_character(ctx, item.key)
        if is_deleted(character):
            return skipped(character, "character is deleted")
        seen = {f: first_seen(item, character, f) for f in params.updateFields}
        fields = [f for f in params.updateFields if params.overwrite or is_empty(f, seen[f])]
        conflict = await seen_conflict(ctx, item, character, fields)
        if conflict is not None:  # the site's edit wins: asking the gateway would be wasted
            return conflict
        if not fields:
            return skipped(character, "all requested fields already filled (overwrite is off)")
        answer = await ctx.resources.provider.write_settings(character, fields)
        ctx.add_usage(answer.usage)
        values, removed = strip_unsafe_fields(
            validate_settings(dict(answer.value), fields), json_fields=("exampleDialogs",)
        )
        if removed:
            ctx.warning(f"{character.get('name')}: {removed_note(removed)} from the answer")
        return {
            "characterId": character["id"],
            "characterName": character.get("name"),
            "updatedFields": fields,
            "offline": answer.offline,
            "model": answer.model,
            "changes": {f: [seen[f], values[f]] for f in fields},
            **({"controlCharsRemoved": removed} if removed else {}),
        }

    async def apply(
        self,
        ctx: TaskContext,
        params: SettingsParams,
        batch: Sequence[tuple[ItemRecord, dict[str, Any]]],
    ) -> Sequence[ItemOutcome]:
        """As every character type; a written item keeps its answer without the texts it wrote
        (the journal holds them, old and new)."""
        return without_changes(await super().apply(ctx, params, batch), batch)

    def validate_edit(self, params: SettingsParams, values: Mapping[str, Any]) -> dict[str, Any]:
        try:
            checked = validate_settings(dict(values), list(values))
        except InvalidOutput as exc:
            field = next((f for f in values if str(exc).startswith(f)), next(iter(values), ""))
            raise InvalidParameters(f"changes.{field}", str(exc)) from None
        cleaned, _removed = strip_unsafe_fields(checked, json_fields=("exampleDialogs",))
        return cleaned

    def summarize(self, params: SettingsParams, items: Sequence[ItemRecord]) -> dict[str, Any]:
        summary = super().summarize(params, items)
        per_field: dict[str, int] = {f: 0 for f in params.updateFields}
        for item in items:
            if item.status is ItemStatus.DONE and item.result and not item.result.get("proposed"):
                for name in item.result.get("updatedFields", []):
                    per_field[name] = per_field.get(name, 0) + 1
        summary.update(
            updated=summary["done"],
            fieldsUpdated=per_field,
            offline=any(bool(i.result and i.result.get("offline")) for i in items),
        )
        return summary
