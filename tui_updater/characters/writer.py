"""Journaled compare-and-set writes to the character table, crash resolution and revert.

Every change is planned in the journal first, then written in one ``BEGIN IMMEDIATE``
transaction per batch with ``WHERE col IS old``: an edit made by the site meanwhile is never
overwritten; that change is reported as a conflict instead. Each planned entry records the
row's updated-at before the write and the exact value the write sets, so a crash that lost the
entry's mark is settled from evidence a site edit cannot imitate: the planned updated-at means
applied, the one from before (with the old values) means never written, any other means the
site edited the row since. A table without an updated-at column has only its values to go by:
the old value means never written (a site that put the old value back is not told apart).
"""

from __future__ import annotations

import asyncio
import functools
import os
import sqlite3
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from tui_updater.characters.schema import CharacterSchema, quote
from tui_updater.characters.timestamps import instant_of, stamp_assignment, stamp_instant
from tui_updater.core.journal import Journal, JournalEntry, JournalState, SqlValue, latest_by_cell

T = TypeVar("T")
_REVERT_CHUNK = 1000  # entries per revert transaction: keeps the site's wait short
_SETTLED_KEPT = 4096  # tasks remembered to have no outstanding plan (forgetting costs a read)


@dataclass(frozen=True)
class CharacterChange:
    """One character's new values, each with the value it is expected to replace."""

    item_key: str
    character_id: str
    # logical field → (expected old, new): a tuple, or the [old, new] list a stored result holds
    fields: Mapping[str, Sequence[SqlValue]]
    files: Mapping[str, str] = field(default_factory=dict)  # logical field → file it created


@dataclass(frozen=True)
class WriteResult:
    item_key: str
    character_id: str
    applied: bool
    reason: str | None = None  # why it was not applied (conflict)
    columns: tuple[str, ...] = field(default_factory=tuple)  # real columns written

    @property
    def conflict(self) -> bool:
        return not self.applied


@dataclass
class _Planned:
    change: CharacterChange
    id_value: str | int | None
    cells: list[tuple[str, SqlValue, SqlValue]]  # (real column, old, new)
    files: dict[str, str] = field(default_factory=dict)  # real column → file the change created
    entry_ids: list[int] = field(default_factory=list)


def _conflict_reason(
    conn: sqlite3.Connection,
    schema: CharacterSchema,
    id_value: Any,
    cells: Sequence[tuple[str, SqlValue, SqlValue]],
) -> str:
    if id_value is None:
        return "no such character"
    cols = ", ".join(quote(c) for c, _, _ in cells)
    row = conn.execute(
        f"SELECT {cols} FROM {schema.qtable} WHERE {schema.q('id')} = ?", (id_value,)
    ).fetchone()
    if row is None:
        return "character no longer exists"
    changed = [c for (c, old, _), now in zip(cells, row, strict=True) if now != old]
    return f"changed meanwhile: {', '.join(changed) or 'row'}"


def _cas_update(
    conn: sqlite3.Connection,
    schema: CharacterSchema,
    id_value: Any,
    cells: Sequence[tuple[str, SqlValue, SqlValue]],
    stamp: int | None,
) -> bool:
    """UPDATE one row from old to new values if it still holds the old ones."""
    if id_value is None:
        return False
    sql = _cas_sql(schema, tuple(col for col, _, _ in cells), stamp is not None)
    return conn.execute(sql, _cas_params(id_value, cells, stamp)).rowcount == 1


def _cas_params(
    id_value: Any, cells: Sequence[tuple[str, SqlValue, SqlValue]], stamp: int | None
) -> list[Any]:
    params: list[Any] = [new for _, _, new in cells]
    if stamp is not None:
        params.append(stamp)
    params.append(id_value)
    params.extend(old for _, old, _ in cells)
    return params


# (id(schema), columns, stamped) → (schema, UPDATE text): a bulk write runs the same statement
# for every row; the schema is kept beside its text so its id is never reused while cached.
_CAS_SQL: dict[tuple[int, tuple[str, ...], bool], tuple[CharacterSchema, str]] = {}


def _cas_sql(schema: CharacterSchema, columns: tuple[str, ...], stamped: bool) -> str:
    key = (id(schema), columns, stamped)
    cached = _CAS_SQL.get(key)
    if cached is not None and cached[0] is schema:
        return cached[1]
    sets = [f"{quote(col)} = ?" for col in columns]
    if stamped:
        sets.append(stamp_assignment(schema))
    where = [f"{schema.q('id')} = ?"] + [f"{quote(col)} IS ?" for col in columns]
    sql = f"UPDATE {schema.qtable} SET {', '.join(sets)} WHERE {' AND '.join(where)}"
    if len(_CAS_SQL) > 256:
        _CAS_SQL.clear()
    _CAS_SQL[key] = (schema, sql)
    return sql


def _undone_before(
    conn: sqlite3.Connection,
    schema: CharacterSchema,
    id_value: Any,
    entry: JournalEntry,
    chains: Mapping[tuple[str, str], Sequence[JournalEntry]],
) -> bool:
    """Whether the cell already holds the value from before ``entry`` or an older entry of the
    same cell: an earlier revert undid it and died before its journal marks were stored."""
    if id_value is None:
        return False
    row = conn.execute(
        f"SELECT {quote(entry.column)} FROM {schema.qtable} WHERE {schema.q('id')} = ?",
        (id_value,),
    ).fetchone()
    if row is None:
        return False
    chain = chains.get((entry.character_id, entry.column), ())
    return any(
        older.entry_id is not None
        and entry.entry_id is not None
        and older.entry_id <= entry.entry_id
        and older.old_value == row[0]
        for older in chain
    )


def _updated_values(
    conn: sqlite3.Connection, schema: CharacterSchema, id_values: Sequence[Any]
) -> dict[str, SqlValue]:
    """The updated-at value of each row (id as text) that exists."""
    out: dict[str, SqlValue] = {}
    for start in range(0, len(id_values), 500):
        chunk = id_values[start : start + 500]
        rows = conn.execute(
            f"SELECT {schema.q('id')}, {schema.q('updatedAt')} FROM {schema.qtable} "
            f"WHERE {schema.q('id')} IN ({','.join('?' * len(chunk))})",
            chunk,
        ).fetchall()
        out.update((str(row[0]), row[1]) for row in rows)
    return out


def _remove_files(paths: Collection[str]) -> None:
    for path in paths:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


def _made(
    latest: dict[tuple[str, str], JournalEntry], item_key: str, column: str, old: Any, new: Any
) -> bool:
    """Whether the cell's latest entry is this very write, applied."""
    entry = latest.get((item_key, column))
    return (
        entry is not None
        and entry.state is JournalState.APPLIED
        and (entry.old_value, entry.new_value) == (old, new)
    )


def _in_transaction(conn: sqlite3.Connection, work: Any) -> Any:
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = work()
        conn.execute("COMMIT")  # may itself be busy (readers in rollback-journal mode)
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return result


class WritableDatabase(Protocol):
    """What the writer needs of the database it writes (``CharacterDb`` provides it)."""

    journal: Journal
    clock: Callable[[], int]

    @property
    def schema(self) -> CharacterSchema: ...

    async def run(self, fn: Callable[[sqlite3.Connection], T]) -> T: ...

    async def write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run a write transaction: waits out a site's lock, and runs beside no upgrade."""


class CharacterWriter:
    """Writes, resolves and reverts changes of one database, recording each in the journal."""

    def __init__(self, db: WritableDatabase) -> None:
        self._db = db
        # Tasks known to have no PLANNED entry outstanding but those of a write under way here:
        # their writes skip the journal read that looks for an earlier attempt's plans. A task
        # is read once (its first write here), and drops out while a write of it is under way
        # or after one failed between plan and mark.
        self._settled: set[str] = set()
        self._writing: Counter[str] = Counter()

    def _stamp(self, schema: CharacterSchema) -> int | None:
        return stamp_instant(schema, self._db.clock())

    def _fresh_stamp(self, schema: CharacterSchema, taken: Collection[SqlValue]) -> int | None:
        """The instant this write stamps, moved on until it is a whole second away from every
        updated-at it replaces: whatever format a row keeps (ISO text may drop milliseconds), the
        value written must never equal the one it replaces, or it would prove nothing later."""
        now = stamp_instant(schema, self._db.clock())
        if now is None:
            return None
        before = [i for i in (instant_of(value) for value in taken) if i is not None]
        while any(abs(now // 1000 - i // 1000) < 1 for i in before):
            now += 1000
        return now

    async def write_changes(
        self,
        task_id: str,
        changes: Sequence[CharacterChange],
        *,
        per_transaction: int | None = None,
    ) -> list[WriteResult]:
        """Plan, write and mark a batch of changes; one result per change. The journal plans
        all of them in one tasks.db commit; the rows are written ``per_transaction`` at a time
        (all in one transaction by default), so the site waits no longer than one batch."""
        if not changes:
            return []
        settled = task_id in self._settled
        self._settled.discard(task_id)
        self._writing[task_id] += 1
        clean = False
        try:
            results, clean = await self._write_changes(task_id, changes, per_transaction, settled)
        finally:
            self._writing[task_id] -= 1
            if not self._writing[task_id]:
                del self._writing[task_id]
                if clean:
                    if len(self._settled) >= _SETTLED_KEPT:  # a long-lived server: forget, re-read
                        self._settled.clear()
                    self._settled.add(task_id)
        return results

    async def _write_changes(
        self,
        task_id: str,
        changes: Sequence[CharacterChange],
        per_transaction: int | None,
        settled: bool,
    ) -> tuple[list[WriteResult], bool]:
        """The results, and whether the task has no PLANNED entry left (as far as this write
        knows: another write of it under way keeps it unsettled)."""
        db = self._db
        journal = db.journal
        schema = db.schema
        results: dict[int, WriteResult] = {}
        keys = {c.item_key for c in changes}
        # A previous attempt may have planned these items and crashed: settle that first. Its
        # plans are looked for once per task; after that every plan of it was made, and marked,
        # here.
        planned: list[JournalEntry] = []
        made: dict[tuple[str, str], JournalEntry] = {}
        clean = True
        if not settled:
            outstanding = await journal.entries(task_id, states={JournalState.PLANNED})
            planned = [entry for entry in outstanding if entry.item_key in keys]
            clean = len(planned) == len(outstanding)  # else other items' plans still wait
            # A write made and marked before a crash that its item's outcome never followed:
            # the very same write again (an OBTAINED result applied on resume) is settled by
            # it, when it is the cell's latest entry.
            made = latest_by_cell(await journal.entries(task_id, item_keys=keys))
        earlier = (
            await self._resolve(task_id, sorted(keys), reapply=True, planned=planned)
            if planned
            else {}
        )
        planned_cells: dict[str, set[tuple[str, Any]]] = {}
        for entry in planned:
            planned_cells.setdefault(entry.item_key, set()).add((entry.column, entry.new_value))
        todo: list[tuple[int, _Planned]] = []
        for index, change in enumerate(changes):
            cells = [
                (schema.column(logical), old, new)
                for logical, (old, new) in change.fields.items()
                if old != new or type(old) is not type(new)
            ]
            # Only a replay of the very same write is settled by the earlier plan; an item may
            # write more than once (an avatar: GENERATING first, then the result).
            if change.item_key in earlier and {
                (c, new) for c, _, new in cells
            } <= planned_cells.get(change.item_key, set()):
                state = earlier[change.item_key]
                applied = state is JournalState.APPLIED
                reason = None if applied else "changed meanwhile (found after restart)"
                results[index] = WriteResult(change.item_key, change.character_id, applied, reason)
                continue
            if not cells or (made and all(_made(made, change.item_key, *cell) for cell in cells)):
                results[index] = WriteResult(change.item_key, change.character_id, True)
                continue
            files = {schema.column(name): path for name, path in change.files.items()}
            todo.append(
                (index, _Planned(change, schema.id_value(change.character_id), cells, files))
            )
        if todo:
            befores: dict[str, SqlValue] = {}
            if schema.has("updatedAt"):
                ids = [p.id_value for _, p in todo if p.id_value is not None]
                befores = await db.run(lambda conn: _updated_values(conn, schema, ids))
            stamp = self._fresh_stamp(schema, set(befores.values()))
            # Built unvalidated (a bulk batch plans thousands): every value is a cell read from
            # the table, a result's SQL value, or text and numbers of our own.
            entries = [
                JournalEntry.trusted(
                    task_id=task_id,
                    item_key=p.change.item_key,
                    character_id=p.change.character_id,
                    column=col,
                    old_value=old,
                    new_value=new,
                    state=JournalState.PLANNED,
                    entry_id=None,
                    created_at_ms=0,
                    updated_before=befores.get(str(p.id_value)),
                    updated_to=stamp,
                    file_path=p.files.get(col),
                )
                for _, p in todo
                for col, old, new in p.cells
            ]
            entry_ids = iter(await journal.plan(entries))
            for _, p in todo:
                p.entry_ids = [next(entry_ids) for _ in p.cells]

            def work(
                conn: sqlite3.Connection, part: Sequence[tuple[int, _Planned]]
            ) -> list[str | None]:
                def body() -> list[str | None]:
                    outcome: list[str | None] = []
                    for _, p in part:
                        if _cas_update(conn, schema, p.id_value, p.cells, stamp):
                            outcome.append(None)
                        else:
                            outcome.append(_conflict_reason(conn, schema, p.id_value, p.cells))
                    return outcome

                out: list[str | None] = _in_transaction(conn, body)
                return out

            size = max(1, per_transaction or len(todo))
            reasons: list[str | None] = []
            for start in range(0, len(todo), size):
                part = todo[start : start + size]
                reasons += await db.write(functools.partial(work, part=part))
            applied_ids: list[int] = []
            conflict_ids: list[int] = []
            for (index, p), reason in zip(todo, reasons, strict=True):
                (conflict_ids if reason else applied_ids).extend(p.entry_ids)
                results[index] = WriteResult(
                    p.change.item_key,
                    p.change.character_id,
                    reason is None,
                    reason,
                    tuple(col for col, _, _ in p.cells),
                )
            if applied_ids:
                await journal.mark(applied_ids, JournalState.APPLIED)
            if conflict_ids:
                await journal.mark(conflict_ids, JournalState.CONFLICT)
        return [results[i] for i in range(len(changes))], clean

    async def resolve_planned(
        self, task_id: str, item_keys: Sequence[str] | None = None, *, reapply: bool = True
    ) -> dict[str, JournalState]:
        """Settle PLANNED entries whose outcome is unknown; returns item key → final state."""
        return await self._resolve(task_id, item_keys, reapply=reapply)

    async def _resolve(
        self,
        task_id: str,
        item_keys: Sequence[str] | None,
        *,
        reapply: bool,
        planned: Sequence[JournalEntry] | None = None,
    ) -> dict[str, JournalState]:
        db = self._db
        if planned is None:
            planned = await db.journal.entries(
                task_id, states={JournalState.PLANNED}, item_keys=item_keys
            )
        if not planned:
            return {}
        groups: dict[tuple[str, str], list[JournalEntry]] = {}
        for entry in planned:
            groups.setdefault((entry.item_key, entry.character_id), []).append(entry)
        schema = db.schema

        def work(conn: sqlite3.Connection) -> dict[tuple[str, str], JournalState]:
            stamp = self._stamp(schema)

            def body() -> dict[tuple[str, str], JournalState]:
                states: dict[tuple[str, str], JournalState] = {}
                for (item_key, character_id), entries in groups.items():
                    latest = {e.column: e for e in entries}  # a column planned twice: newest wins
                    newest = entries[-1]
                    id_value = schema.id_value(character_id)
                    cols = list(latest)
                    selected = [quote(c) for c in cols]
                    evidence = newest.updated_to is not None and schema.has("updatedAt")
                    if evidence:
                        selected.append(schema.q("updatedAt"))
                    row = None
                    if id_value is not None:
                        row = conn.execute(
                            f"SELECT {', '.join(selected)} FROM {schema.qtable} "
                            f"WHERE {schema.q('id')} = ?",
                            (id_value,),
                        ).fetchone()
                    state = JournalState.CONFLICT
                    if row is not None:
                        current = dict(zip(cols, row, strict=False))
                        cells = [(c, latest[c].old_value, latest[c].new_value) for c in cols]
                        # Never written: old values, and the updated-at from before the write
                        # (a write that committed and was put back by the site moved it on).
                        unwritten = all(current[c] == old for c, old, _ in cells) and (
                            not evidence or row[len(cols)] == newest.updated_before
                        )
                        if all(current[c] == new for c, _, new in cells):
                            state = JournalState.APPLIED
                        elif reapply and unwritten:
                            if _cas_update(conn, schema, id_value, cells, stamp):
                                state = JournalState.APPLIED
                    states[(item_key, character_id)] = state
                return states

            out: dict[tuple[str, str], JournalState] = _in_transaction(conn, body)
            return out

        states = await db.write(work)
        by_state: dict[JournalState, list[int]] = {}
        result: dict[str, JournalState] = {}
        for key, entries in groups.items():
            state = states[key]
            ids = [e.entry_id for e in entries if e.entry_id is not None]
            by_state.setdefault(state, []).extend(ids)
            if result.get(key[0]) is not JournalState.CONFLICT:
                result[key[0]] = state
        for state, ids in by_state.items():
            if ids:
                await db.journal.mark(ids, state)
        return result

    async def revert_entry(self, entry: JournalEntry) -> str | None:
        """Undo one applied entry if its cell still holds the value it wrote (compare-and-set);
        None when undone, else why not. The journal records the outcome either way."""
        db = self._db
        if entry.inserted_row:  # the whole row: only its import task's revert may delete it
            return "an imported character: revert the task that imported it"
        if entry.state is not JournalState.APPLIED or entry.entry_id is None:
            return f"this change is {entry.state.value}, not applied"
        schema = db.schema
        if entry.column not in schema.declared_types:
            return "column no longer exists"
        cell = [(entry.column, entry.new_value, entry.old_value)]

        def work(conn: sqlite3.Connection) -> str | None:
            id_value = schema.id_value(entry.character_id)
            stamp = self._stamp(schema)

            def body() -> str | None:
                if _cas_update(conn, schema, id_value, cell, stamp):
                    return None
                reason = _conflict_reason(conn, schema, id_value, cell)
                return reason.replace("meanwhile", "since the task wrote it")

            out: str | None = _in_transaction(conn, body)
            return out

        reason = await db.write(work)
        state = JournalState.REVERTED if reason is None else JournalState.REVERT_CONFLICT
        await db.journal.mark([entry.entry_id], state)
        return reason

    async def revert(self, task_id: str) -> dict[str, Any]:
        """Undo a task's applied writes, newest first, each only if still holding our value."""
        db = self._db
        await self._resolve(task_id, None, reapply=False)
        # Entries a previous revert could not undo are tried again: the value that blocked them
        # may be gone now (e.g. a later task that wrote the same field was reverted first).
        applied = await db.journal.entries(
            task_id, states={JournalState.APPLIED, JournalState.REVERT_CONFLICT}
        )
        applied.reverse()
        # Each cell's entries oldest first: after a crash that lost a revert's marks, a cell
        # holding the old value of one of its entries shows that entry and the newer ones undone.
        chains: dict[tuple[str, str], list[JournalEntry]] = {}
        for entry in reversed(applied):
            chains.setdefault((entry.character_id, entry.column), []).append(entry)
        schema = db.schema
        reverted = 0
        skipped: list[dict[str, Any]] = []
        for start in range(0, len(applied), _REVERT_CHUNK):
            chunk = applied[start : start + _REVERT_CHUNK]

            def work(
                conn: sqlite3.Connection, chunk: list[JournalEntry] = chunk
            ) -> list[str | None]:
                stamp = self._stamp(schema)

                def body() -> list[str | None]:
                    outcome: list[str | None] = []
                    for entry in chunk:
                        id_value = schema.id_value(entry.character_id)
                        cell = [(entry.column, entry.new_value, entry.old_value)]
                        if entry.column not in schema.declared_types:
                            outcome.append("column no longer exists")
                        elif _cas_update(conn, schema, id_value, cell, stamp):
                            outcome.append(None)
                        elif _undone_before(conn, schema, id_value, entry, chains):
                            outcome.append(None)
                        else:
                            reason = _conflict_reason(conn, schema, id_value, cell)
                            outcome.append(reason.replace("meanwhile", "since the task wrote it"))
                    return outcome

                out: list[str | None] = _in_transaction(conn, body)
                return out

            reasons = await db.write(work)
            done_ids = [e.entry_id for e, r in zip(chunk, reasons, strict=True) if r is None]
            # An entry that conflicted in an earlier revert and still does was reported then.
            lost = [
                (e, r)
                for e, r in zip(chunk, reasons, strict=True)
                if r is not None and e.state is not JournalState.REVERT_CONFLICT
            ]
            if done_ids:
                await db.journal.mark([i for i in done_ids if i is not None], JournalState.REVERTED)
            # A file the task created is no longer referenced once its change is undone.
            created = [
                e.file_path
                for e, r in zip(chunk, reasons, strict=True)
                if r is None and e.file_path
            ]
            if created:
                await asyncio.to_thread(_remove_files, created)
            if lost:
                await db.journal.mark(
                    [e.entry_id for e, _ in lost if e.entry_id is not None],
                    JournalState.REVERT_CONFLICT,
                )
            reverted += len(done_ids)
            skipped.extend(
                {"characterId": e.character_id, "column": e.column, "reason": r} for e, r in lost
            )
        return {"reverted": reverted, "skipped": skipped}
