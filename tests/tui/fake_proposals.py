"""In-memory proposals for the dashboard tests' FakeService, with the real service's rules:
only a finished task's pending proposals settle; a field the site changed ends CONFLICT."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tui_updater.core.models import TaskRecord
from tui_updater.core.proposals import REVIEW_PENDING_KEY, ProposalStatus, ProposalView
from tui_updater.core.service import parse_proposal_statuses
from tui_updater.errors import InvalidParameters, ProposalNotFound, TaskStateError
from tui_updater.providers.base import MBTI_TYPES


class FakeProposals:
    """Proposals by task id; ``site_edited`` holds (character id, field) the site has changed."""

    def __init__(self, save: Callable[[TaskRecord], None]) -> None:
        self.by_task: dict[str, list[ProposalView]] = {}
        self.site_edited: set[tuple[str, str]] = set()
        self._save = save

    def seed(self, task: TaskRecord, proposals: Sequence[ProposalView]) -> None:
        self.by_task[task.task_id] = list(proposals)
        self._recount(task)

    def _recount(self, task: TaskRecord) -> None:
        pending = sum(
            p.status is ProposalStatus.PENDING for p in self.by_task.get(task.task_id, [])
        )
        if task.task_id in self.by_task:
            message = (
                f"{pending} proposal{'s' if pending != 1 else ''} wait"
                if pending
                else "review done"
            )
            result = {**(task.result or {}), REVIEW_PENDING_KEY: pending, "message": message}
            self._save(task.evolve(result=result, message=message))

    def listed(self, task: TaskRecord, status: str | Sequence[str] | None) -> list[ProposalView]:
        statuses = parse_proposal_statuses(status)
        found = self.by_task.get(task.task_id, [])
        return [p for p in found if not statuses or p.status in statuses]

    def _pending(self, task: TaskRecord, ids: Sequence[int] | None) -> list[ProposalView]:
        if not task.status.finished:
            raise TaskStateError(
                f"task {task.task_id} is {task.status.value}; review its proposals once it ends"
            )
        found = self.by_task.get(task.task_id, [])
        if ids is None:
            return [p for p in found if p.status is ProposalStatus.PENDING]
        by_id = {p.proposal_id: p for p in found}
        chosen = []
        for proposal_id in dict.fromkeys(ids):
            proposal = by_id.get(proposal_id)
            if proposal is None:
                raise ProposalNotFound(f"task {task.task_id} has no proposal {proposal_id}")
            if proposal.status.settled:
                raise TaskStateError(f"proposal {proposal_id} is already {proposal.status.value}")
            chosen.append(proposal)
        return chosen

    def _replace(self, task: TaskRecord, changed: Sequence[ProposalView]) -> None:
        new = {p.proposal_id: p for p in changed}
        self.by_task[task.task_id] = [new.get(p.proposal_id, p) for p in self.by_task[task.task_id]]
        self._recount(task)

    def accept(self, task: TaskRecord, ids: Sequence[int] | None) -> list[ProposalView]:
        settled = []
        for p in self._pending(task, ids):
            lost = [f for f in p.changes if (p.character_id, f) in self.site_edited]
            if lost:
                settled.append(
                    p.settle(ProposalStatus.CONFLICT, f"not written: changed meanwhile: {lost[0]}")
                )
            else:
                settled.append(p.settle(ProposalStatus.ACCEPTED))
        if settled:
            self._replace(task, settled)
        return settled

    def reject(self, task: TaskRecord, ids: Sequence[int] | None) -> list[ProposalView]:
        settled = [p.settle(ProposalStatus.REJECTED) for p in self._pending(task, ids)]
        if settled:
            self._replace(task, settled)
        return settled

    def edit(self, task: TaskRecord, proposal_id: int, values: Mapping[str, Any]) -> ProposalView:
        if not values:
            raise InvalidParameters("changes", "give at least one field's new value")
        (proposal,) = self._pending(task, [proposal_id])
        changes = dict(proposal.changes)
        for name, value in values.items():
            if name not in changes:
                raise InvalidParameters(f"changes.{name}", "not a field of this proposal")
            text = value.strip() if isinstance(value, str) else ""
            if name == "mbtiType" and text.upper() not in MBTI_TYPES:
                raise InvalidParameters(
                    f"changes.{name}", f"{value!r} is not one of the 16 MBTI types"
                )
            if not text:
                raise InvalidParameters(f"changes.{name}", f"{name} is empty")
            changes[name] = [changes[name][0], text.upper() if name == "mbtiType" else text]
        edited = proposal.evolve(changes=changes, edited=True)
        self._replace(task, [edited])
        return edited
