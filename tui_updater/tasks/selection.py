"""What the three character task types share: id parameters, id checks, item selection, apply."""

from __future__ import annotations

import os
import sqlite3
import unicodedata
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BeforeValidator, Field, StrictInt, StrictStr, field_validator

from tui_updater.characters.writer import CharacterChange
from tui_updater.core.journal import JournalState, latest_by_cell
from tui_updater.core.models import ItemRecord, ItemStatus
from tui_updater.core.store import CharacterClaims, ClaimRequest
from tui_updater.errors import InvalidParameters, PermanentError
from tui_updater.tasks.base import (
    COSTLY_OBTAIN_S,
    ItemOutcome,
    ItemSpec,
    TaskContext,
    TaskParams,
    json_type,
)

if TYPE_CHECKING:
    from tui_updater.characters.db import CandidateKind, CharacterDb
    from tui_updater.characters.schema import CharacterSchema

_MAX_LISTED_UNKNOWN = 20
MAX_IDS = 100_000
MAX_ID_CHARS = 200
EMPTY_IDS_MESSAGE = "give at least one id, or leave the field out for every candidate"


def _id_item(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"an id is a whole number or a string, not {json_type(value)}")
    return value


CharacterId = Annotated[StrictInt | StrictStr, BeforeValidator(_id_item)]


class CharacterTaskParams(TaskParams):
    """Parameters every character task has: an optional list of ids (numbers or strings).

    Absent means every candidate; an empty list is refused rather than read as "all", so a
    script that filtered its ids down to none cannot rewrite the whole table.
    """

    characterIds: list[CharacterId] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_IDS,
        description="Only these characters (ids as numbers or strings); all when absent",
    )
    # A budget: the task stops before the request that would pass it (finished items kept).
    maxTokens: int | None = Field(
        default=None,
        ge=1,
        description="Stop before the request that would pass this many tokens",
    )
    maxCost: float | None = Field(
        default=None,
        gt=0,
        description="Stop before the request that would pass this cost (provider.prices)",
    )

    @field_validator("characterIds", mode="before")
    @classmethod
    def _not_empty(cls, value: Any) -> Any:
        if isinstance(value, list) and not value:
            raise ValueError(EMPTY_IDS_MESSAGE)  # clearer than min_length's generic sentence
        return value

    @field_validator("characterIds", mode="after")
    @classmethod
    def _ids_as_text(cls, value: list[int | str] | None) -> list[int | str] | None:
        if value is None:
            return None
        out: list[int | str] = []
        seen: set[str] = set()
        for raw in value:
            key = str(raw).strip()
            if not key:
                raise ValueError("ids must not be empty")
            if len(key) > MAX_ID_CHARS:
                raise ValueError(f"ids are at most {MAX_ID_CHARS} characters")
            if any(unicodedata.category(ch) == "Cc" for ch in key):
                raise ValueError("ids must not contain control characters")
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
    """Refuse ids the id column cannot hold or that are not in the character table, naming them.

    Ids are compared the way the column stores them, so ``"01"`` finds id 1 in an INTEGER column.
    """
    if not ids:
        return
    db = characters_of(ctx)
    unusable = [key for key in ids if db.schema.id_value(key) is None]
    if unusable:
        raise InvalidParameters(
            "characterIds",
            f"not whole numbers within 64-bit range, as the id column stores them: "
            f"{_listed(unusable)}",
        )
    existing = await db.existing_ids(ids)
    unknown = [key for key in ids if str(db.schema.id_value(key)) not in existing]
    if unknown:
        raise InvalidParameters("characterIds", f"unknown ids: {_listed(unknown)}")


def _listed(keys: Sequence[str]) -> str:
    shown = ", ".join(key[:40] for key in keys[:_MAX_LISTED_UNKNOWN])
    if len(keys) > _MAX_LISTED_UNKNOWN:
        shown += f" (+{len(keys) - _MAX_LISTED_UNKNOWN} more)"
    return shown


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


async def read_characters_ahead(ctx: TaskContext, items: Sequence[ItemRecord]) -> None:
    """Read the characters of items about to be obtained in one query (``load_character`` then
    finds them without a query of its own)."""
    await characters_of(ctx).read_ahead([item.key for item in items], reader=ctx.task_id)


async def count_items(
    ctx: TaskContext,
    kind: CandidateKind,
    ids: Sequence[str] | None,
    *,
    overwrite: bool,
    fields: Sequence[str] = (),
) -> int:
    """How many items ``select_items`` would give, as a COUNT in the database (a watch rule's
    check), not a load of every candidate."""
    db = characters_of(ctx)
    db.needs_sql(kind, overwrite=overwrite, fields=fields)  # raises MissingColumn early
    if ids:
        return len(await db.labels(ids))
    return await db.count_candidates(kind, overwrite=overwrite, fields=fields)


async def load_character(ctx: TaskContext, key: str) -> dict[str, Any]:
    """The character of an item, or PermanentError when it is gone."""
    found = await characters_of(ctx).fetch_one(key, reader=ctx.task_id)
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


def first_seen(item: ItemRecord, character: dict[str, Any], field: str) -> Any:
    """What the item saw in ``field`` when it was selected (the row's value for an item that
    predates first-seen values): the value its writes expect to replace."""
    if item.first_seen is not None and field in item.first_seen:
        return item.first_seen[field]
    return character.get(field)


def _changed_since_seen(
    item: ItemRecord, character: dict[str, Any], fields: Sequence[str]
) -> list[str]:
    """The ``fields`` whose value is no longer what the item saw when it was selected."""
    return [f for f in fields if character.get(f) != first_seen(item, character, f)]


async def seen_conflict(
    ctx: TaskContext, item: ItemRecord, character: dict[str, Any], fields: Sequence[str]
) -> dict[str, Any] | None:
    """The result of an item whose ``fields`` changed since the task selected it: a conflict,
    or, when they hold what this task itself wrote for the item (a write made just before a
    crash, whose outcome was never stored), a result applied as DONE without writing again.
    None when nothing changed."""
    changed = _changed_since_seen(item, character, fields)
    if not changed:
        return None
    if await _written_by_task(ctx, item, character, changed):
        return {
            "characterId": character["id"],
            "characterName": character.get("name"),
            "writtenBefore": "written before the task was interrupted",
            "changes": {},
        }
    reason = f"changed meanwhile: {', '.join(changed)} (since the task selected it)"
    return conflict_result(character, reason)


async def _written_by_task(
    ctx: TaskContext, item: ItemRecord, character: dict[str, Any], changed: Sequence[str]
) -> bool:
    """Whether each changed field holds this task's own latest write of the item's cell, made
    or possibly made (planned): not one since reverted or lost to a conflict."""
    db = characters_of(ctx)
    latest = latest_by_cell(await db.journal.entries(ctx.task_id, item_keys=[item.key]))
    made = (JournalState.PLANNED, JournalState.APPLIED)
    return all(
        (entry := latest.get((item.key, db.schema.column(f)))) is not None
        and entry.state in made
        and entry.new_value == character.get(f)
        for f in changed
    )


def conflict_result(character: dict[str, Any], reason: str) -> dict[str, Any]:
    """An obtain result meaning "someone else changed the row": applied as CONFLICT."""
    return {
        "characterId": character["id"],
        "characterName": character.get("name"),
        "conflict": reason,
    }


def change_of(item: ItemRecord, result: dict[str, Any]) -> CharacterChange:
    """The CAS change stored in an obtain result under ``changes`` {field: [old, new]}, with the
    files it created under ``files`` {field: path}."""
    # The stored pairs themselves, not a copy per item: the writer only reads them.
    fields: dict[str, list[Any]] = result["changes"]
    found = result.get("files")
    files = {name: str(path) for name, path in found.items()} if found else {}
    return CharacterChange(item.key, str(result.get("characterId", item.key)), fields, files)


def _cells(
    conn: sqlite3.Connection, schema: CharacterSchema, keys: Sequence[str], fields: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """These characters' values of ``fields`` (logical names), by id as text."""
    columns = ", ".join(schema.q(f) for f in ("id", *fields))
    values = [v for v in (schema.id_value(k) for k in keys) if v is not None]
    out: dict[str, dict[str, Any]] = {}
    for start in range(0, len(values), 500):
        chunk = values[start : start + 500]
        for found in conn.execute(
            f"SELECT {columns} FROM {schema.qtable} "
            f"WHERE {schema.q('id')} IN ({','.join('?' * len(chunk))})",
            chunk,
        ):
            out[str(found[0])] = dict(zip(fields, found[1:], strict=True))
    return out


def claim_scope(path: str | os.PathLike[str]) -> str:
    """What claims are kept under: the character database's absolute path."""
    return os.path.abspath(path)


async def claim_items(
    ctx: TaskContext, items: Sequence[ItemRecord], fields: Sequence[str]
) -> list[ItemRecord]:
    """Claim ``fields`` of the items' characters for this task and remember what each item
    first saw in them. An item whose cells another task holds is SKIPPED, naming that task:
    waiting would only find the fields written by it and report a conflict."""
    db = characters_of(ctx)
    store = db.journal
    present = [f for f in fields if db.schema.has(f)]
    if not items or not present or not isinstance(store, CharacterClaims):
        return []
    columns = tuple(db.schema.column(f) for f in present)
    scope = claim_scope(db.path)
    refused = await store.claim(
        ctx.task_id, scope, [ClaimRequest(i.key, i.key, columns) for i in items]
    )
    unseen = [i.key for i in items if i.first_seen is None and i.key not in refused]
    rows = await db.run(lambda conn: _cells(conn, db.schema, unseen, present)) if unseen else {}
    changed: list[ItemRecord] = []
    for item in items:
        holder = refused.get(item.key)
        if holder is not None:
            changed.append(
                item.evolve(
                    status=ItemStatus.SKIPPED,
                    error=f"claimed by {holder}, which is writing {', '.join(present)}",
                )
            )
        elif item.key in rows:
            row = rows[item.key]
            changed.append(item.evolve(first_seen={f: row.get(f) for f in present}))
    return changed


def settle_unwritten(
    batch: Sequence[tuple[ItemRecord, dict[str, Any]]],
) -> tuple[list[ItemOutcome], list[tuple[ItemRecord, dict[str, Any]]]]:
    """The outcomes of results that need no write (skipped, conflict), and the rest."""
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
    return outcomes, pending


async def apply_changes(
    ctx: TaskContext,
    batch: Sequence[tuple[ItemRecord, dict[str, Any]]],
    *,
    per_transaction: int | None = None,
) -> list[ItemOutcome]:
    """Write a batch of obtain results (``per_transaction`` rows per character-database
    transaction); SKIPPED for "nothing to do", CONFLICT when CAS lost."""
    outcomes, pending = settle_unwritten(batch)
    if pending:
        written = await characters_of(ctx).write_changes(
            ctx.task_id,
            [change_of(item, result) for item, result in pending],
            per_transaction=per_transaction,
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


def without_changes(
    outcomes: Sequence[ItemOutcome], batch: Sequence[tuple[ItemRecord, dict[str, Any]]]
) -> list[ItemOutcome]:
    """The outcomes with the result a written (DONE) item keeps: its answer without the changes
    it made. The journal holds those, a finished item is never written again, and its row is
    stored 100,000 times in a bulk run."""
    results = {item.key: result for item, result in batch}
    kept: list[ItemOutcome] = []
    for outcome in outcomes:
        result = results.get(outcome.key)
        # An outcome with a result of its own (a proposal in review mode) keeps it as given.
        if (
            outcome.status is ItemStatus.DONE
            and outcome.result is None
            and result
            and "changes" in result
        ):
            answer = {key: value for key, value in result.items() if key != "changes"}
            outcome = ItemOutcome(outcome.key, outcome.status, outcome.error, answer)
        kept.append(outcome)
    return kept


WRITE_GROUP_BATCHES = 10


def _batch_size(params: Any) -> int:
    return max(1, int(getattr(params, "batchSize", 25) or 25))


class WritesCharacters:
    """Mixin for task types whose results are journaled character changes: claims the fields
    they write, applies them in batches (compare-and-set) and can revert them."""

    def claimed_fields(self, params: Any) -> Sequence[str]:
        """The logical fields this task writes (claimed per character while it works)."""
        return ()

    def stored_before_apply(self, result: Mapping[str, Any], elapsed_s: float) -> bool:
        """A gateway's (paid) answer and a result that created a file are stored before they are
        applied; an offline answer, a skip or a conflict is cheap to make again, however long it
        waited on a busy loop (wall time there says nothing about cost)."""
        if result.get("files") or result.get("offline") is False:
            return True
        if result.get("offline") is True or result.get("skipped") or result.get("conflict"):
            return False
        return elapsed_s >= COSTLY_OBTAIN_S

    async def claim(
        self, ctx: TaskContext, params: Any, items: Sequence[ItemRecord]
    ) -> Sequence[ItemRecord]:
        return await claim_items(ctx, items, self.claimed_fields(params))

    def write_group_size(self, params: Any) -> int:
        """Up to WRITE_GROUP_BATCHES batches at once: one journal commit and one item commit
        for all, the rows still written one ``batchSize`` transaction at a time."""
        return _batch_size(params) * WRITE_GROUP_BATCHES

    async def apply(
        self, ctx: TaskContext, params: Any, batch: Sequence[tuple[ItemRecord, dict[str, Any]]]
    ) -> Sequence[ItemOutcome]:
        return await apply_changes(ctx, batch, per_transaction=_batch_size(params))

    async def revert(self, ctx: TaskContext, params: Any) -> dict[str, Any]:
        """Undo the task's applied changes newest first, compare-and-set; report skips."""
        report: dict[str, Any] = await ctx.resources.characters.revert(ctx.task_id)
        return report
