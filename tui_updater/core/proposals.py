"""Proposals: a review-mode task's results, kept in tasks.db until the operator settles them.

A proposal is one character's would-be change ({field: [value the task first read, proposed
value]}); accepting writes it exactly as a normal apply would, rejecting discards it.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Sequence
from typing import Any, Protocol, Self, runtime_checkable

from tui_updater.core.models import now_ms
from tui_updater.core.record import Record

REVIEW_PENDING_KEY = "reviewPending"  # the task result's count of proposals that wait


class ProposalStatus(enum.StrEnum):
    PENDING = "PENDING"
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    CONFLICT = "CONFLICT"  # accepted, but the site changed the field since the task read it

    @property
    def settled(self) -> bool:
        return self is not ProposalStatus.PENDING


class ProposalRecord(Record):
    task_id: str
    item_key: str
    character_id: str
    label: str  # the character's name
    changes: dict[str, Any]  # field → [value the task first read, proposed value]
    proposal_id: int | None = None  # assigned by the store
    files: dict[str, Any] | None = None  # field → file the proposal's value names
    status: ProposalStatus = ProposalStatus.PENDING
    edited: bool = False
    error: str | None = None  # why accepting did not write it
    created_at_ms: int = 0
    updated_at_ms: int = 0

    def proposed(self, field: str) -> Any:
        return self.changes[field][1]

    def expected(self, field: str) -> Any:
        return self.changes[field][0]

    def settle(self, status: ProposalStatus, error: str | None = None) -> Self:
        return self.evolve(status=status, error=error, updated_at_ms=now_ms())


class ProposalView(ProposalRecord):
    """A proposal as the review screen and the API show it: with the fields' current values."""

    current: dict[str, Any] | None = None
    current_files: dict[str, Any] | None = None  # field → file the current value names


@runtime_checkable
class ProposalStore(Protocol):
    """Where proposals wait (tasks.db): never the site's database."""

    async def add_proposals(self, proposals: Sequence[ProposalRecord]) -> None:
        """Store new proposals; an item's proposal is stored once (a re-applied batch adds none)."""

    async def proposals(
        self,
        task_id: str,
        *,
        statuses: Collection[ProposalStatus] | None = None,
        ids: Collection[int] | None = None,
    ) -> list[ProposalRecord]:
        """The task's proposals, in the order they were made."""

    async def update_proposals(self, task_id: str, proposals: Sequence[ProposalRecord]) -> int:
        """Store the proposals' new state and the task's count of waiting ones; return it."""
