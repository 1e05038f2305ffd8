"""DATABASE_UPGRADE's record of a live apply, kept in the journal (tasks.db), never in the
character database: the content hashes before and after the script, written just before COMMIT.

After a crash the live database's content hash says which one it is: the migrated content means
the COMMIT happened, the earlier content means it did not, anything else proves neither.
"""

from __future__ import annotations

import enum
import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from tui_updater.characters.validation import Baseline
from tui_updater.core.journal import Journal, JournalEntry, JournalState

ITEM_KEY = "migration"
COLUMN = "(migration)"  # no such column exists: this entry is a record, not a row write


def baseline_json(baseline: Baseline) -> dict[str, Any]:
    return {
        "characterFields": list(baseline.character_fields),
        "fkViolations": [[c, p, n] for (c, p), n in sorted(baseline.fk_violations.items())],
    }


def baseline_from_json(data: dict[str, Any] | None) -> Baseline:
    data = data or {}
    counts: Counter[tuple[str, str]] = Counter()
    for child, parent, count in data.get("fkViolations") or []:
        counts[(str(child), str(parent))] = int(count)
    return Baseline(counts, tuple(data.get("characterFields") or ()))


class Verdict(enum.Enum):
    APPLIED = "applied"
    NOT_APPLIED = "not applied"
    UNPROVEN = "unproven"


@dataclass(frozen=True)
class ApplyRecord:
    entry_id: int | None
    content_before: str
    content_after: str
    backup: dict[str, Any] | None
    baseline: dict[str, Any]
    name: str | None = None  # the migration's name, when it has one (Prisma's)

    def verdict(self, live_content: str) -> Verdict:
        if live_content == self.content_after and self.content_after != self.content_before:
            return Verdict.APPLIED
        if live_content == self.content_before:
            return Verdict.NOT_APPLIED
        return Verdict.UNPROVEN

    def unproven_message(self) -> str:
        name = (self.backup or {}).get("name")
        where = (
            f"backup {name} holds the database as it was before the upgrade; compare, and "
            f"restore it with `backups restore {name}` if the migration must be undone"
            if name
            else "no backup was taken (backupBeforeUpgrade was off)"
        )
        return (
            "cannot prove whether the migration was applied before the restart: the database "
            "matches neither its content before the migration nor the migrated content (it "
            f"changed since). Nothing was run again; {where}"
        )


async def record_apply(
    journal: Journal,
    task_id: str,
    content_before: str,
    content_after: str,
    *,
    backup: dict[str, Any] | None,
    baseline: dict[str, Any],
    name: str | None = None,
) -> int:
    """Durably record an apply that is about to COMMIT; returns the journal entry id."""
    detail = {"after": content_after, "backup": backup, "baseline": baseline, "name": name}
    entry = JournalEntry(task_id, ITEM_KEY, "", COLUMN, content_before, json.dumps(detail))
    (entry_id,) = await journal.plan([entry])
    return entry_id


def _record(entry: JournalEntry) -> ApplyRecord:
    detail = json.loads(str(entry.new_value))
    return ApplyRecord(
        entry.entry_id,
        str(entry.old_value),
        str(detail["after"]),
        detail.get("backup"),
        detail.get("baseline") or {},
        detail.get("name"),
    )


async def _records(journal: Journal, task_id: str, states: set[JournalState]) -> list[ApplyRecord]:
    entries = await journal.entries(task_id, states=states, item_keys=[ITEM_KEY])
    return [_record(e) for e in entries if e.column == COLUMN]


async def latest_apply(journal: Journal, task_id: str) -> ApplyRecord | None:
    """The newest apply record of the task whose outcome is not yet settled as "not applied"."""
    records = await _records(journal, task_id, {JournalState.PLANNED, JournalState.APPLIED})
    return records[-1] if records else None


async def unsettled_apply(journal: Journal, task_id: str) -> ApplyRecord | None:
    """The task's apply record whose COMMIT is not known (a folder applies one after another:
    the ones before it are settled as applied)."""
    records = await _records(journal, task_id, {JournalState.PLANNED})
    return records[-1] if records else None


async def applied_names(journal: Journal, task_id: str) -> set[str]:
    """The names of the migrations this task is known to have committed."""
    records = await _records(journal, task_id, {JournalState.APPLIED})
    return {r.name for r in records if r.name}


async def settle(journal: Journal, record: ApplyRecord, verdict: Verdict) -> None:
    """Mark the record with what the live database proved (UNPROVEN stays as it is)."""
    if record.entry_id is None or verdict is Verdict.UNPROVEN:
        return
    state = JournalState.APPLIED if verdict is Verdict.APPLIED else JournalState.CONFLICT
    await journal.mark([record.entry_id], state)
