"""Review mode of the character content types: results become proposals (tasks.db), and an
accepted proposal is written exactly as a normal apply writes (journal first, compare-and-set
against what the task first read)."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import Field

from tui_updater.characters.writer import CharacterChange
from tui_updater.core.models import ItemRecord, ItemStatus
from tui_updater.core.proposals import ProposalRecord, ProposalStatus, ProposalStore, ProposalView
from tui_updater.errors import InvalidParameters, PermanentError
from tui_updater.tasks.base import ItemOutcome, TaskContext
from tui_updater.tasks.selection import (
    CharacterTaskParams,
    WritesCharacters,
    change_of,
    characters_of,
    settle_unwritten,
)


class ReviewableParams(CharacterTaskParams):
    """Parameters of a content type whose results can wait for review."""

    review: bool = Field(
        default=False,
        description="Store results as proposals; write nothing until they are accepted",
    )


def wants_review(params: Any) -> bool:
    return bool(getattr(params, "review", False))


def proposal_store(ctx: TaskContext) -> ProposalStore:
    """The task store (where the journal is) as the keeper of proposals."""
    store = characters_of(ctx).journal
    if not isinstance(store, ProposalStore):
        raise PermanentError("this task store cannot keep proposals for review")
    return store


async def propose_changes(
    ctx: TaskContext, batch: Sequence[tuple[ItemRecord, dict[str, Any]]]
) -> list[ItemOutcome]:
    """Store the batch's would-be writes as proposals, never touching the site's database."""
    outcomes, pending = settle_unwritten(batch)
    proposals: list[ProposalRecord] = []
    for item, result in pending:
        change = change_of(item, result)
        proposals.append(
            ProposalRecord(
                task_id=ctx.task_id,
                item_key=item.key,
                character_id=change.character_id,
                label=item.label,
                changes={name: [old, new] for name, (old, new) in change.fields.items()},
                files=dict(change.files) or None,
            )
        )
        outcomes.append(ItemOutcome(item.key, ItemStatus.DONE, result={**result, "proposed": True}))
    await proposal_store(ctx).add_proposals(proposals)
    return outcomes


async def accept_proposals(
    ctx: TaskContext, proposals: Sequence[ProposalRecord]
) -> list[ProposalRecord]:
    """Write the proposals through the one writer; a field the site edited since the task read
    it loses its compare-and-set and the proposal ends CONFLICT, unwritten."""
    if not proposals:
        return []
    changes = [
        CharacterChange(
            p.item_key,
            p.character_id,
            {name: (p.expected(name), p.proposed(name)) for name in p.changes},
            {name: str(path) for name, path in (p.files or {}).items()},
        )
        for p in proposals
    ]
    written = await characters_of(ctx).write_changes(ctx.task_id, changes)
    settled: list[ProposalRecord] = []
    lost: list[ProposalRecord] = []
    for proposal, outcome in zip(proposals, written, strict=True):
        if outcome.applied:
            settled.append(proposal.settle(ProposalStatus.ACCEPTED))
        else:
            settled.append(
                proposal.settle(ProposalStatus.CONFLICT, f"not written: {outcome.reason}")
            )
            lost.append(proposal)
    await discard_files(lost)
    return settled


async def discard_files(proposals: Sequence[ProposalRecord]) -> None:
    """Remove the files unwritten proposals made (a rejected or lost avatar image)."""
    paths = [str(path) for p in proposals for path in (p.files or {}).values()]

    def remove() -> None:
        for path in paths:
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)

    if paths:
        await asyncio.to_thread(remove)


async def with_current_values(
    ctx: TaskContext, proposals: Sequence[ProposalRecord]
) -> list[ProposalView]:
    """The proposals beside their characters' current values (None for a vanished character)."""
    db = characters_of(ctx)
    rows: dict[str, dict[str, Any] | None] = {}
    for proposal in proposals:
        if proposal.character_id not in rows:
            rows[proposal.character_id] = await db.fetch_one(proposal.character_id)
    views = []
    for proposal in proposals:
        row = rows[proposal.character_id]
        current = None if row is None else {name: row.get(name) for name in proposal.changes}
        views.append(ProposalView(**proposal.__dict__, current=current))
    return views


def edited(
    proposal: ProposalRecord, values: Mapping[str, Any], validated: Mapping[str, Any]
) -> ProposalRecord:
    """The proposal with the operator's ``validated`` values in place of the proposed ones."""
    unknown = [name for name in values if name not in proposal.changes]
    if unknown:
        raise InvalidParameters(f"changes.{unknown[0]}", "not a field of this proposal")
    changes = {
        name: [pair[0], validated.get(name, pair[1])] for name, pair in proposal.changes.items()
    }
    return proposal.evolve(changes=changes, edited=True)


class ReviewsCharacters(WritesCharacters):
    """Mixin for content types with review mode: ``review`` turns the apply step into stored
    proposals; accepting one writes it through the same writer as apply."""

    async def apply(
        self, ctx: TaskContext, params: Any, batch: Sequence[tuple[ItemRecord, dict[str, Any]]]
    ) -> Sequence[ItemOutcome]:
        if wants_review(params):
            return await propose_changes(ctx, batch)
        return await super().apply(ctx, params, batch)

    async def accept_proposals(
        self, ctx: TaskContext, params: Any, proposals: Sequence[ProposalRecord]
    ) -> Sequence[ProposalRecord]:
        return await accept_proposals(ctx, proposals)

    async def discard_proposals(
        self, ctx: TaskContext, params: Any, proposals: Sequence[ProposalRecord]
    ) -> None:
        await discard_files(proposals)

    async def view_proposals(
        self, ctx: TaskContext, params: Any, proposals: Sequence[ProposalRecord]
    ) -> list[ProposalView]:
        return await with_current_values(ctx, proposals)

    def edit_proposal(
        self, params: Any, proposal: ProposalRecord, values: Mapping[str, Any]
    ) -> ProposalRecord:
        return edited(proposal, values, self.validate_edit(params, values))

    def validate_edit(self, params: Any, values: Mapping[str, Any]) -> dict[str, Any]:
        """The operator's values as the type's own output check leaves them; InvalidParameters
        naming the field otherwise."""
        raise InvalidParameters("changes", "this task type's proposals cannot be edited")
