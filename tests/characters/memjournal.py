"""An in-memory Journal for character-database tests (the real one lives in store/)."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from tui_updater.core.journal import JournalEntry, JournalState


class InMemoryJournal:
    """Implements core.journal.Journal with a list; ``plan_calls`` and ``entries_calls`` count
    round trips."""

    def __init__(self) -> None:
        self.rows: list[JournalEntry] = []
        self.plan_calls = 0
        self.entries_calls = 0

    async def plan(self, entries: Sequence[JournalEntry]) -> list[int]:
        self.plan_calls += 1
        ids = []
        for entry in entries:
            entry_id = len(self.rows) + 1
            self.rows.append(entry.evolve(state=JournalState.PLANNED, entry_id=entry_id))
            ids.append(entry_id)
        return ids

    async def mark(self, entry_ids: Sequence[int], state: JournalState) -> None:
        for entry_id in entry_ids:
            self.rows[entry_id - 1] = self.rows[entry_id - 1].evolve(state=state)

    async def entries(
        self,
        task_id: str,
        *,
        states: Collection[JournalState] | None = None,
        item_keys: Collection[str] | None = None,
    ) -> list[JournalEntry]:
        self.entries_calls += 1
        return [
            e
            for e in self.rows
            if e.task_id == task_id
            and (states is None or e.state in states)
            and (item_keys is None or e.item_key in item_keys)
        ]

    def states(self, task_id: str) -> list[tuple[str, str, JournalState]]:
        return [(e.character_id, e.column, e.state) for e in self.rows if e.task_id == task_id]
