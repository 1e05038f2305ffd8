"""ProposalDesk: the operator's review of a finished review-mode task's proposals.

The engine decides which proposals may be settled (a finished task of this database, pending
ones only) and asks the task type to write or discard them; the store records the outcome and
the task's count of waiting proposals in one transaction.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from tui_updater.core.binding import Belonging
from tui_updater.core.events import EventType
from tui_updater.core.proposals import (
    ProposalRecord,
    ProposalStatus,
    ProposalStore,
    ProposalView,
)
from tui_updater.engine.holding import belonging
from tui_updater.errors import InvalidParameters, ProposalNotFound, TaskStateError

if TYPE_CHECKING:
    from tui_updater.core.models import TaskRecord
    from tui_updater.engine.engine import Engine
    from tui_updater.tasks.base import TaskContext, TaskType


class ProposalDesk:
    """List, accept, reject and edit one engine's proposals; one settlement at a time."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lock = asyncio.Lock()

    def _store(self) -> ProposalStore:
        store = self._engine.store
        if not isinstance(store, ProposalStore):
            raise TaskStateError("this task store keeps no proposals")
        return store

    async def _open(self, task_id: str) -> tuple[TaskRecord, TaskType[Any], Any, TaskContext]:
        engine = self._engine
        task = await engine.get_task(task_id)
        task_type = engine.registry.get(task.type)
        return task, task_type, task_type.parse_params(task.data), engine._context(task_id)

    async def listed(
        self, task_id: str, statuses: Collection[ProposalStatus] | None = None
    ) -> list[ProposalView]:
        task, task_type, params, ctx = await self._open(task_id)
        found = await self._store().proposals(task_id, statuses=statuses)
        if not found or belonging(self._engine.database, task)[0] is not Belonging.HERE:
            return [ProposalView(**p.__dict__) for p in found]
        return await task_type.view_proposals(ctx, params, found)

    async def _pending(
        self, task: TaskRecord, ids: Sequence[int] | None, *, write: bool
    ) -> list[ProposalRecord]:
        """The task's pending proposals (only ``ids`` when given: each must exist and wait)."""
        if not task.status.finished:
            raise TaskStateError(
                f"task {task.task_id} is {task.status.value}; review its proposals once it ends"
            )
        if write:
            place, reason = belonging(self._engine.database, task)
            if place is not Belonging.HERE:
                raise TaskStateError(
                    reason or f"task {task.task_id} belongs to another character database"
                )
            if self._engine.database is not None:
                self._engine.database.check()
        if ids is None:
            return await self._store().proposals(task.task_id, statuses=[ProposalStatus.PENDING])
        found = {p.proposal_id: p for p in await self._store().proposals(task.task_id, ids=ids)}
        chosen = []
        for proposal_id in dict.fromkeys(ids):
            proposal = found.get(proposal_id)
            if proposal is None:
                raise ProposalNotFound(f"task {task.task_id} has no proposal {proposal_id}")
            if proposal.status.settled:
                raise TaskStateError(f"proposal {proposal_id} is already {proposal.status.value}")
            chosen.append(proposal)
        return chosen

    async def accept(self, task_id: str, ids: Sequence[int] | None = None) -> list[ProposalView]:
        """Write the proposals (all pending ones without ``ids``); each ends ACCEPTED or CONFLICT."""
        async with self._lock:
            task, task_type, params, ctx = await self._open(task_id)
            chosen = await self._pending(task, ids, write=True)
            settled = list(await task_type.accept_proposals(ctx, params, chosen))
            await self._record(task_id, settled)
        accepted = sum(p.status is ProposalStatus.ACCEPTED for p in settled)
        lost = len(settled) - accepted
        self._engine.log(
            "INFO",
            f"accepted {accepted} proposal(s) of task {task_id}"
            + (f"; {lost} not written (changed since the task read them)" if lost else ""),
            task_id,
        )
        return [ProposalView(**p.__dict__) for p in settled]

    async def reject(self, task_id: str, ids: Sequence[int] | None = None) -> list[ProposalView]:
        """Discard the proposals (all pending ones without ``ids``) and the files they made."""
        async with self._lock:
            task, task_type, params, ctx = await self._open(task_id)
            chosen = await self._pending(task, ids, write=False)
            settled = [p.settle(ProposalStatus.REJECTED) for p in chosen]
            await self._record(task_id, settled)
            await task_type.discard_proposals(ctx, params, chosen)
        self._engine.log("INFO", f"rejected {len(settled)} proposal(s) of task {task_id}", task_id)
        return [ProposalView(**p.__dict__) for p in settled]

    async def forget(self, task_id: str) -> int:
        """Before a task is deleted: discard the files its waiting proposals made (an avatar
        image in the tool's review dir would otherwise outlive every record of it)."""
        async with self._lock:
            task = await self._engine.get_task(task_id)
            if not task.review_pending or not isinstance(self._engine.store, ProposalStore):
                return 0
            task, task_type, params, ctx = await self._open(task_id)
            waiting = await self._store().proposals(task_id, statuses=[ProposalStatus.PENDING])
            await task_type.discard_proposals(ctx, params, waiting)
        return len(waiting)

    async def edit(self, task_id: str, proposal_id: int, values: Mapping[str, Any]) -> ProposalView:
        """Replace a pending proposal's values with the operator's, validated like the output."""
        if not values:
            raise InvalidParameters("changes", "give at least one field's new value")
        async with self._lock:
            task, task_type, params, _ctx = await self._open(task_id)
            (proposal,) = await self._pending(task, [proposal_id], write=False)
            changed = task_type.edit_proposal(params, proposal, values)
            await self._record(task_id, [changed])
        return ProposalView(**changed.__dict__)

    async def _record(self, task_id: str, settled: Sequence[ProposalRecord]) -> None:
        await self._store().update_proposals(task_id, settled)
        task = await self._engine.store.get_task(task_id)
        if task is not None:  # the queue and detail show the new count of waiting proposals
            self._engine.reporter.emit(EventType.TASK_PROGRESS, task)
