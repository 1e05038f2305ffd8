"""What a task changed: the query and the page of its journal entries the detail screen and
``GET /api/tasks/{id}/changes`` show (paged in tasks.db, never loaded whole)."""

from __future__ import annotations

from typing import Any

from tui_updater.core.journal import JournalState
from tui_updater.core.record import Record
from tui_updater.errors import InvalidParameters

CHANGE_STATES = tuple(state.value for state in JournalState)
MAX_CHANGE_PAGE = 1_000


class ChangeQuery(Record):
    """Which of a task's changes a page shows: one field, one state, a text, a window."""

    field: str | None = None  # the real column name
    state: str | None = None  # a JournalState value
    search: str = ""  # in the character's name or id, or either value (case-insensitive)
    limit: int = 100
    offset: int = 0

    @classmethod
    def parse(
        cls,
        *,
        field: str | None = None,
        state: str | None = None,
        search: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> ChangeQuery:
        """A query from loose values; InvalidParameters naming the field that is wrong."""
        chosen_state = (state or "").strip().lower() or None
        if chosen_state is not None and chosen_state not in CHANGE_STATES:
            raise InvalidParameters(
                "state", f"unknown change state {state!r}; use one of {', '.join(CHANGE_STATES)}"
            )
        if not 1 <= limit <= MAX_CHANGE_PAGE:
            raise InvalidParameters("limit", f"must be 1..{MAX_CHANGE_PAGE}")
        if offset < 0:
            raise InvalidParameters("offset", "must be 0 or more")
        return cls(
            (field or "").strip() or None, chosen_state, (search or "").strip(), limit, offset
        )


class TaskChange(Record):
    """One journaled write of a task: which character's field, from what to what, and its state."""

    entry_id: int
    character_id: str
    name: str  # the character's name as the task's item recorded it ("" when unknown)
    field: str  # the real column name
    old_value: Any
    new_value: Any
    state: str  # a JournalState value
    created_at_ms: int = 0
    file: str | None = None  # the image this change wrote (an avatar), on the engine's machine


class TaskChangePage(Record):
    """One page of a task's changes, how many match in all, and the task's changes by state."""

    rows: tuple[TaskChange, ...]
    total: int
    offset: int = 0
    by_state: dict[str, int] = {}  # every change of the task, unfiltered: state → count
    fields: tuple[str, ...] = ()  # the columns the task changed (what ``field`` can be)

    @property
    def reverted(self) -> int:
        return self.by_state.get(JournalState.REVERTED.value, 0)

    @property
    def written(self) -> int:
        """Changes that reached the database (applied, reverted since, or kept by a conflict)."""
        return sum(
            self.by_state.get(state.value, 0)
            for state in (JournalState.APPLIED, JournalState.REVERTED, JournalState.REVERT_CONFLICT)
        )
