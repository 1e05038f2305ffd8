"""The write journal's record and protocol: every character-database change, before it is applied."""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterable, Sequence
from typing import Protocol

from tui_updater.core.record import Record

SqlValue = None | int | float | str | bytes
# The ``column`` of an entry that inserted a whole row: its new_value is the row's content as
# JSON (real column → value), which revert compares before deleting the row.
ROW_INSERTED = "*row"


class JournalState(enum.StrEnum):
    PLANNED = "planned"  # recorded, not yet known to be applied
    APPLIED = "applied"  # the compare-and-set write succeeded
    CONFLICT = "conflict"  # the row changed meanwhile; nothing written
    REVERTED = "reverted"  # a revert put old_value back
    REVERT_CONFLICT = "revert_conflict"  # the value changed since we wrote it; revert skipped


class JournalEntry(Record):
    task_id: str
    item_key: str
    character_id: str
    column: str  # the real column name in the character table
    old_value: SqlValue
    new_value: SqlValue
    state: JournalState = JournalState.PLANNED
    entry_id: int | None = None
    created_at_ms: int = 0
    # The row's updated-at before the write and the exact value the write sets: after a crash
    # they tell "applied" from "never written" from "edited by the site since" (None: no column).
    updated_before: SqlValue = None
    updated_to: SqlValue = None
    file_path: str | None = None  # a file the tool created for this change (an avatar image)

    @property
    def inserted_row(self) -> bool:
        """Whether this entry inserted a row (rather than changed one cell)."""
        return self.column == ROW_INSERTED


def latest_by_cell(entries: Iterable[JournalEntry]) -> dict[tuple[str, str], JournalEntry]:
    """Each (item key, column)'s latest entry, of entries in the order they were planned."""
    return {(entry.item_key, entry.column): entry for entry in entries}


class Journal(Protocol):
    """Durable record of character-database writes (kept in tasks.db)."""

    async def plan(self, entries: Sequence[JournalEntry]) -> list[int]:
        """Record entries as PLANNED in one transaction; return their ids in order."""

    async def mark(self, entry_ids: Sequence[int], state: JournalState) -> None:
        """Set the state of these entries in one transaction."""

    async def entries(
        self,
        task_id: str,
        *,
        states: Collection[JournalState] | None = None,
        item_keys: Collection[str] | None = None,
    ) -> list[JournalEntry]:
        """Entries of a task in the order they were planned."""
