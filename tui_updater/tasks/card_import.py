"""CHARACTER_IMPORT: Character Card V2/V3 files (PNG or JSON) become new characters.

One item per card file. ``obtain`` reads and validates the card and stores its picture as the
avatar file; ``apply`` inserts the batch, journaled (characters/inserts.py), so the task has
progress, retry and revert like every other: revert deletes the rows it inserted while nobody
changed them since. The card modules (and Pillow) load when a task of this type runs, not with
the registry.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path, PurePath
from typing import Any, Literal

from pydantic import Field, StrictInt, StrictStr, field_validator

from tui_updater.characters.inserts import CharacterInsert, insert_characters, revert_inserts
from tui_updater.core.capabilities import LOCAL_PATH_KEY, TaskCapabilities
from tui_updater.core.models import ItemRecord, ItemStatus
from tui_updater.errors import InvalidParameters, PermanentError
from tui_updater.tasks.avatar_files import avatar_file_name, remove_avatar, store_avatar
from tui_updater.tasks.base import ItemOutcome, ItemSpec, TaskContext, TaskParams, TaskType
from tui_updater.tasks.selection import characters_of

MAX_CARD_FILES = 10_000


class CardImportParams(TaskParams):
    capabilities = TaskCapabilities(short_name="IMPORT")

    directory: str | None = Field(
        default=None,
        min_length=1,
        max_length=4096,
        description="folder of the card files (.png, .json) on the engine's machine; "
        "absent: the data dir's cards/",
        json_schema_extra={LOCAL_PATH_KEY: True},
    )
    files: list[StrictStr] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_CARD_FILES,
        description="only these files of the folder (relative names); all cards in it when absent",
    )
    userId: StrictStr | StrictInt | None = Field(
        default=None, description="the site user who owns the new characters"
    )
    onDuplicate: Literal["skip", "import"] = Field(
        default="skip",
        description="a card whose name a character of that user already has: skip it, or import anyway",
    )
    batchSize: int = Field(default=25, ge=1, le=500, description="Characters per transaction")

    @field_validator("files", mode="after")
    @classmethod
    def _relative(cls, value: list[str] | None) -> list[str] | None:
        for name in value or ():
            path = PurePath(name)
            if not name.strip() or path.is_absolute() or ".." in path.parts:
                raise ValueError(f"{name[:80]!r} is not a file name inside the folder")
        return value


def _folder(ctx: TaskContext, params: CardImportParams) -> Path:
    if params.directory is None:
        return Path(ctx.resources.settings.data_dir) / "cards"
    return Path(params.directory).expanduser()


class CharacterImportTask(TaskType[CardImportParams]):
    name = "CHARACTER_IMPORT"
    title = "Import character cards"
    description = "Character Card V2/V3 files (PNG or JSON) become new characters (journaled)."
    params_model = CardImportParams

    def concurrency(self, params: CardImportParams) -> int:
        return 1  # local file reads: nothing to overlap

    async def check(self, ctx: TaskContext, params: CardImportParams) -> None:
        from tui_updater.cards.mapping import owner_column
        from tui_updater.cards.reading import owner_exists, table_rules

        folder = _folder(ctx, params)
        if not folder.is_dir():
            raise InvalidParameters("directory", f"{folder} is not a folder")
        for name in params.files or ():
            if not (folder / name).is_file():
                raise InvalidParameters("files", f"no file {name!r} in {folder}")
        db = characters_of(ctx)
        schema = db.schema
        schema.require("name", purpose="importing cards")
        owner = owner_column(schema)
        rules = await db.run(lambda conn: table_rules(conn, schema, owner))
        if owner is not None and params.userId is None and owner in rules.required:
            raise InvalidParameters(
                "userId", f"the character table requires an owner ({owner}); give the user's id"
            )
        if owner is not None and params.userId is not None and rules.owner_references:
            references = rules.owner_references
            user = params.userId
            if not await db.run(lambda conn: owner_exists(conn, references, user)):
                raise InvalidParameters("userId", f"no user {user!r} in {references[0]}")

    async def select(self, ctx: TaskContext, params: CardImportParams) -> Sequence[ItemSpec]:
        from tui_updater.cards.reading import card_files

        folder = _folder(ctx, params)
        names = params.files or card_files(folder)
        if len(names) > MAX_CARD_FILES:
            raise PermanentError(f"{len(names)} card files; at most {MAX_CARD_FILES} per task")
        return [ItemSpec(key=name, label=PurePath(name).name) for name in names]

    async def obtain(
        self, ctx: TaskContext, params: CardImportParams, item: ItemRecord
    ) -> dict[str, Any]:
        from tui_updater.cards.mapping import owner_column, row_of
        from tui_updater.cards.reading import load_card, table_rules

        db = characters_of(ctx)
        schema = db.schema
        owner = owner_column(schema)
        rules = await db.run(lambda conn: table_rules(conn, schema, owner))
        try:
            loaded = await asyncio.to_thread(load_card, _folder(ctx, params) / item.key, item.key)
        except InvalidParameters as exc:
            raise PermanentError(f"refused: {exc}") from None
        row = row_of(schema, loaded.card, set(rules.not_null))
        values = dict(row.values)
        if owner is not None and params.userId is not None:
            values[owner] = schema_value(schema.declared_types.get(owner, ""), params.userId)
        missing = sorted(c for c in rules.required if c not in values and c != owner)
        if missing and not (set(missing) <= _stamped(schema)):
            raise PermanentError(f"refused: the table requires {', '.join(missing)}")
        avatar_file = None
        if loaded.image is not None and schema.has("avatar"):
            settings = ctx.resources.settings
            name = avatar_file_name("card", ctx.task_id, loaded.image)
            stored = await asyncio.to_thread(
                store_avatar, Path(settings.avatar_dir), name, loaded.image
            )
            avatar_file = str(stored)
            values[schema.column("avatar")] = settings.characters.avatar_public_prefix + name
            if schema.has("avatarStatus"):
                values[schema.column("avatarStatus")] = "COMPLETED"
        return {
            "file": item.key,
            "characterName": loaded.card.data.name,
            "spec": loaded.card.spec,
            "values": values,
            "notImported": row.dropped,
            **({"avatarFile": avatar_file} if avatar_file else {}),
        }

    async def apply(
        self,
        ctx: TaskContext,
        params: CardImportParams,
        batch: Sequence[tuple[ItemRecord, dict[str, Any]]],
    ) -> Sequence[ItemOutcome]:
        from tui_updater.cards.mapping import owner_column

        db = characters_of(ctx)
        owner = owner_column(db.schema) if params.userId is not None else None
        inserts = [
            CharacterInsert(
                item.key,
                result["values"],
                skip_duplicate=params.onDuplicate == "skip",
                owner_column=owner,
                file_path=result.get("avatarFile"),
            )
            for item, result in batch
        ]
        written = await insert_characters(db, ctx.task_id, inserts)
        outcomes: list[ItemOutcome] = []
        for (item, result), done in zip(batch, written, strict=True):
            if done.applied:
                outcomes.append(
                    ItemOutcome(
                        item.key,
                        ItemStatus.DONE,
                        result={**result, "characterId": done.character_id},
                    )
                )
                continue
            if result.get("avatarFile"):
                remove_avatar(result["avatarFile"])  # the row it was for was not inserted
            status = ItemStatus.SKIPPED if done.skipped else ItemStatus.FAILED
            outcomes.append(ItemOutcome(item.key, status, error=done.reason))
        return outcomes

    async def revert(self, ctx: TaskContext, params: CardImportParams) -> dict[str, Any]:
        return await revert_inserts(characters_of(ctx), ctx.task_id)

    def summarize(self, params: CardImportParams, items: Sequence[ItemRecord]) -> dict[str, Any]:
        summary = super().summarize(params, items)
        summary["imported"] = [
            {
                "file": i.key,
                "characterId": i.result.get("characterId"),
                "name": i.result.get("characterName"),
            }
            for i in items[:500]
            if i.status is ItemStatus.DONE and i.result
        ]
        summary["duplicates"] = [
            {"file": i.key, "reason": i.error}
            for i in items[:500]
            if i.status is ItemStatus.SKIPPED
        ]
        return summary


def _stamped(schema: Any) -> set[str]:
    return {schema.column(n) for n in ("createdAt", "updatedAt") if schema.has(n)}


def schema_value(declared: str, value: str | int) -> str | int:
    """An owner id in the column's storage type (digits become a number for an INTEGER column)."""
    if "INT" in declared and isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return value
