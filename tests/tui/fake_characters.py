"""The fake service's character table: 41 characters held in memory, paged as the real browser
pages the database (same filters, search, sort and tie-break; tests/contract checks it)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tui_updater.core.changes import ChangeQuery, TaskChange, TaskChangePage
from tui_updater.core.service import (
    CharacterChangeEntry,
    CharacterDetail,
    CharacterPage,
    CharacterQuery,
    CharacterRow,
)
from tui_updater.errors import CharacterNotFound, InvalidParameters

THIN_DESCRIPTION_CHARS = 80
NAMES = (
    "Aria", "Bram", "Cleo", "Dax", "Elin", "Finn", "Gwen", "Hugo", "Iris", "Jude", "Kai",
    "Lena", "Milo", "Nora", "Otto", "Pia", "Quin", "Rhea", "Sami", "Tova", "Uma", "Vik",
    "Wren", "Xia", "Yuri", "Zola", "Abel", "Bea", "Cyrus", "Dora", "Ezra", "Faye", "Gus",
    "Hana", "Ivo", "Juno", "Kira", "Leo", "Mira", "Nico", "Oona",
)  # fmt: skip
MBTI = ("INTJ", "ENFP", "ISTP", "ESFJ")
EMPTY_FIELDS = ("avatar", "fullDescription", "scenario", "mbtiType")


def _character(number: int) -> dict[str, Any]:
    """Even numbers have no avatar; past 21 no MBTI; every third a one-line description."""
    name = NAMES[number - 1]
    description = (
        f"{name}, a traveller."
        if number % 3 == 0
        else f"{name} keeps the lighthouse on the northern cape and knows every ship by its bell."
    )
    return {
        "id": f"c{number:03d}",
        "name": name,
        "description": description,
        "language": "en" if number % 4 == 0 else "zh-CN",
        "mbtiType": None if number > 21 else MBTI[number % len(MBTI)],
        "avatar": None if number % 2 == 0 else f"/avatars/c{number:03d}.png",
        "avatarStatus": "PENDING" if number % 2 == 0 else "COMPLETED",
        "fullDescription": None if number % 4 and number != 41 else f"{name} in full.",
        "scenario": None if number > 2 else "A storm.",
        "updatedAt": f"2026-01-01T00:{number:02d}:00.000Z",
    }


MBTI_TASK = "task_1767229000000_0000000001"
SETTINGS_TASK = "task_1767229200000_0000000003"


class FakeCharacters:
    def __init__(self) -> None:
        self.rows = [_character(n) for n in range(1, len(NAMES) + 1)]
        self.by_id = {row["id"]: row for row in self.rows}
        # Aria (c001): the MBTI task gave her a type, then the settings task a scenario
        self.journal = [
            CharacterChangeEntry(
                1, MBTI_TASK, "mbtiType", None, "ENFP", "applied", 1_767_225_601_000
            ),
            CharacterChangeEntry(
                2, SETTINGS_TASK, "scenario", None, "A storm.", "applied", 1_767_226_201_000
            ),
        ]
        self._owner = {1: "c001", 2: "c001"}
        # The MBTI task also typed three others: one kept, one reverted since, one conflict
        for entry_id, (owner, mbti, state) in enumerate(
            (
                ("c023", "INTP", "applied"),
                ("c025", "ESTJ", "reverted"),
                ("c027", "INFJ", "conflict"),
            ),
            start=3,
        ):
            self.journal.append(
                CharacterChangeEntry(
                    entry_id, MBTI_TASK, "mbtiType", None, mbti, state, 1_767_225_602_000
                )
            )
            self._owner[entry_id] = owner

    def detail(self, character_id: str) -> CharacterDetail:
        row = self.by_id.get(str(character_id))
        if row is None:
            raise CharacterNotFound(f"no character with id {character_id!r}")
        history = [e for e in reversed(self.journal) if self._owner[e.entry_id] == row["id"]]
        return CharacterDetail(row["id"], row["name"], dict(row), None, tuple(history))

    def export(self, ids: Sequence[str], fmt: str, directory: str | None) -> dict[str, Any]:
        """What an export reports (no files are written by the fake)."""
        if fmt not in ("v2", "v3", "json"):
            raise InvalidParameters("format", f"{fmt!r} is not one of v2, v3, json")
        if not ids:
            raise InvalidParameters("ids", "no characters to export")
        folder = f"/fake/data/cards/{directory}" if directory else "/fake/data/cards"
        known = [key for key in ids if key in self.by_id]
        suffix = ".json" if fmt == "json" else ".png"
        return {
            "format": fmt,
            "directory": folder,
            "files": [f"{folder}/{self.by_id[key]['name']}-{key}{suffix}" for key in known],
            "exported": len(known),
            "unknownIds": [key for key in ids if key not in self.by_id],
        }

    def revert_change(self, entry_id: int) -> dict[str, Any]:
        found = [(n, e) for n, e in enumerate(self.journal) if e.entry_id == entry_id]
        if not found:
            raise InvalidParameters("entryId", f"no journal entry {entry_id}")
        position, entry = found[0]
        if entry.state != "applied":
            return {
                "entryId": entry_id,
                "reverted": False,
                "reason": f"this change is {entry.state}, not applied",
            }
        row = self.by_id[self._owner[entry_id]]
        if row[entry.column] != entry.new_value:
            self.journal[position] = entry.evolve(state="revert_conflict")
            reason = f"changed since the task wrote it: {entry.column}"
            return {"entryId": entry_id, "reverted": False, "reason": reason}
        row[entry.column] = entry.old_value
        self.journal[position] = entry.evolve(state="reverted")
        return {"entryId": entry_id, "reverted": True, "reason": None}

    def task_changes(self, task_id: str, query: ChangeQuery) -> TaskChangePage:
        """The task's journal as the store pages it (tests/contract checks the two agree)."""
        mine = [e for e in self.journal if e.task_id == task_id]
        needle = query.search.lower()

        def matches(entry: CharacterChangeEntry) -> bool:
            owner = self._owner[entry.entry_id]
            texts = (owner, str(entry.old_value or ""), str(entry.new_value or ""))
            return (
                (query.field is None or entry.column == query.field)
                and (query.state is None or entry.state == query.state)
                and (
                    not needle
                    or any(needle in text.lower() for text in texts)
                    or needle in self.by_id[owner]["name"].lower()
                )
            )

        chosen = [e for e in mine if matches(e)]
        by_state: dict[str, int] = {}
        for entry in mine:
            by_state[entry.state] = by_state.get(entry.state, 0) + 1
        rows = tuple(
            TaskChange(
                e.entry_id,
                self._owner[e.entry_id],
                self.by_id[self._owner[e.entry_id]]["name"],
                e.column,
                e.old_value,
                e.new_value,
                e.state,
                e.created_at_ms,
            )
            for e in chosen[query.offset : query.offset + query.limit]
        )
        fields = tuple(sorted({e.column for e in mine}))
        return TaskChangePage(rows, len(chosen), query.offset, by_state, fields)

    def _matches(self, row: dict[str, Any], query: CharacterQuery) -> bool:
        needle = query.search.lower()
        if needle and not any(needle in str(row[f] or "").lower() for f in ("name", "description")):
            return False
        if query.language is not None and row["language"] != query.language:
            return False
        checks = {
            "missingAvatar": not row["avatar"],
            "noMbti": not row["mbtiType"],
            "thinDescription": len(str(row["description"] or "").strip()) < THIN_DESCRIPTION_CHARS,
        }
        return all(checks[name] for name in query.filters)

    def _sorted(self, query: CharacterQuery) -> list[dict[str, Any]]:
        field = query.sort.lstrip("+-")
        chosen = [row for row in self.rows if self._matches(row, query)]
        chosen.sort(key=lambda row: (row[field] or "", row["id"]))
        if query.sort.startswith("-"):
            chosen.reverse()
        # NULLs last either way
        return [r for r in chosen if r[field] is not None] + [r for r in chosen if r[field] is None]

    def page(self, query: CharacterQuery) -> CharacterPage:
        chosen = self._sorted(query)
        window = chosen[query.offset : query.offset + query.limit]
        return CharacterPage(tuple(self._row(r) for r in window), len(chosen), query.offset)

    def ids(self, query: CharacterQuery) -> list[str]:
        return [str(row["id"]) for row in self._sorted(query)]

    @staticmethod
    def _row(row: dict[str, Any]) -> CharacterRow:
        return CharacterRow(
            row["id"],
            row["name"],
            row["language"],
            row["mbtiType"],
            row["avatarStatus"],
            bool(row["avatar"]),
            tuple(f for f in EMPTY_FIELDS if not row[f]),
            row["updatedAt"],
        )
