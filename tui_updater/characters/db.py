"""The character database, opened beside the site that owns it: reads, selection rules, summary.

Writes go through :mod:`tui_updater.characters.writer` (journaled compare-and-set). This module
never creates tables and never changes the database's journal mode.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import aiosqlite

from tui_updater.characters.access import SharedExclusiveLock
from tui_updater.characters.identity import check_same_file
from tui_updater.characters.schema import CharacterSchema, quote, read_schema
from tui_updater.characters.writer import CharacterChange, CharacterWriter, WriteResult
from tui_updater.core.models import now_ms
from tui_updater.errors import CharacterDbError, CharacterDbLocked

if TYPE_CHECKING:
    from tui_updater.config import CharacterSettings
    from tui_updater.core.journal import Journal, JournalState

logger = logging.getLogger("tui_updater")
T = TypeVar("T")
CandidateKind = Literal["avatar", "settings", "mbti"]
SETTINGS_FIELDS: tuple[str, ...] = (
    "fullDescription",
    "speakingStyle",
    "scenario",
    "exampleDialogs",
)
SUMMARY_FIELDS: tuple[str, ...] = (
    "avatar", "description", "fullDescription", "personality", "backstory",
    "speakingStyle", "scenario", "exampleDialogs", "firstMessage", "mbtiType",
)  # fmt: skip
BUSY_TIMEOUT_MS = 10_000
# A write that finds the site's lock held past the busy timeout waits and tries again, backing
# off, for this long in all before its items fail as transient (and the task retries them).
LOCK_PATIENCE_S = 300.0
_LOCK_RETRY_FIRST_S = 0.5
_LOCK_RETRY_MAX_S = 10.0
_BUSY_CODES = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
_CHUNK = 500  # ids per IN (...) clause, well under SQLite's variable limit
_MAX_AHEAD = 8 * _CHUNK
_NOT_AHEAD: Any = object()
_EMPTY_JSON = ("[]", "{}", "null")


def is_empty(logical: str, value: Any) -> bool:
    """Whether a field counts as missing (NULL, blank, or an empty JSON list for dialogs)."""
    if value is None:
        return True
    text = str(value).strip()
    return not text or (logical == "exampleDialogs" and text in _EMPTY_JSON)


def is_busy(exc: sqlite3.Error) -> bool:
    """Whether an sqlite3 error means another connection holds a lock (SQLITE_BUSY/LOCKED)."""
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in _BUSY_CODES
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def _chunks(values: Sequence[T], size: int = _CHUNK) -> Iterable[Sequence[T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


class CharacterDb:
    """Async access to the character table through one aiosqlite connection."""

    def __init__(
        self,
        conn: aiosqlite.Connection,
        path: Path,
        settings: CharacterSettings | None,
        journal: Journal,
        schema: CharacterSchema,
        *,
        clock: Callable[[], int] = now_ms,
        journal_mode: str = "",
        lock_patience_s: float = LOCK_PATIENCE_S,
        file_id: tuple[int, int] | None = None,
    ) -> None:
        self._conn = conn
        # The (device, inode) opened: every write first checks the path still names that file.
        self._file_id = file_id
        self.path = path
        self.settings = settings
        self.journal = journal
        self._schema = schema
        self.clock = clock
        self.journal_mode = journal_mode
        self.lock_patience_s = lock_patience_s
        self.write_lock = asyncio.Lock()
        # Writes share it; a migration of this database holds it alone (access.py).
        self.access = SharedExclusiveLock()
        self.writer = CharacterWriter(self)
        self._wanted: dict[str, list[asyncio.Future[dict[str, Any] | None]]] = {}
        # Rows read ahead for a reader's items about to be worked (``read_ahead``), by (reader,
        # id): each is used once, by the reader it was read for.
        self._ahead: dict[tuple[str, str], dict[str, Any] | None] = {}
        self._flushes: set[asyncio.Task[None]] = set()

    @classmethod
    async def open(
        cls,
        path: Path,
        settings: CharacterSettings | None,
        journal: Journal,
        *,
        clock: Callable[[], int] = now_ms,
    ) -> CharacterDb:
        """Open an existing database (never creates one) and introspect its character table."""
        path = Path(path)
        if not path.is_file():
            raise CharacterDbError(f"character database {path} does not exist")
        uri = path.resolve().as_uri() + "?mode=rw"
        try:
            conn = await aiosqlite.connect(uri, uri=True, isolation_level=None)
        except sqlite3.Error as exc:
            raise CharacterDbError(f"cannot open character database {path}: {exc}") from exc
        try:
            await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            async with conn.execute("PRAGMA journal_mode") as cursor:
                row = await cursor.fetchone()
            mode = str(row[0]) if row else ""
            schema = await conn._execute(read_schema, conn._conn, settings)
        except BaseException as exc:
            await conn.close()
            if isinstance(exc, sqlite3.DatabaseError):
                raise CharacterDbError(f"cannot read character database {path}: {exc}") from exc
            raise
        stat = path.stat()
        return cls(
            conn,
            path,
            settings,
            journal,
            schema,
            clock=clock,
            journal_mode=mode,
            file_id=(stat.st_dev, stat.st_ino),
        )

    @property
    def schema(self) -> CharacterSchema:
        return self._schema

    async def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run a synchronous function on the connection's own thread (one await per call).

        A lock held by another program past the busy timeout raises CharacterDbLocked.
        """
        started_s = time.monotonic()
        try:
            # aiosqlite's _execute is how its own methods reach the worker thread; using it lets
            # a whole write transaction cost one await instead of one per statement.
            result: T = await self._conn._execute(fn, self._conn._conn)
        except sqlite3.OperationalError as exc:
            if is_busy(exc):
                raise CharacterDbLocked(time.monotonic() - started_s) from exc
            raise
        return result

    async def write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run a write transaction (``fn`` rolls back on error), waiting out another program's
        lock with backoff for up to LOCK_PATIENCE_S; then CharacterDbLocked (transient)."""
        started_s = time.monotonic()
        delay_s = _LOCK_RETRY_FIRST_S
        while True:
            try:
                async with self.access.shared(), self.write_lock:
                    if self._file_id is not None:
                        # A file deleted or replaced since opening is never written: through the
                        # old connection a WAL write would land in the new file's -wal by name.
                        check_same_file(str(self.path.resolve()), *self._file_id)
                    return await self.run(fn)
            except CharacterDbLocked:
                busy_s = time.monotonic() - started_s
                if busy_s + delay_s > self.lock_patience_s:
                    raise CharacterDbLocked(busy_s, gave_up=True) from None
                logger.warning("%s in %.1f s", CharacterDbLocked(busy_s), delay_s)
            await asyncio.sleep(delay_s)
            delay_s = min(delay_s * 2, _LOCK_RETRY_MAX_S)

    async def refresh_schema(self) -> CharacterSchema:
        """Introspect again (after a migration changed the table)."""
        settings = self.settings
        self._schema = await self.run(lambda conn: read_schema(conn, settings))
        return self._schema

    async def close(self) -> None:
        await self._conn.close()

    # -- reads ---------------------------------------------------------------------------------

    def _id_values(self, ids: Iterable[str | int]) -> list[str | int]:
        values: list[str | int] = []
        seen: set[str | int] = set()
        for key in ids:
            value = self._schema.id_value(key)
            if value is not None and value not in seen:
                seen.add(value)
                values.append(value)
        return values

    async def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """All rows of a query in one hop to the connection's thread."""
        return await self.run(lambda conn: conn.execute(sql, params).fetchall())

    async def existing_ids(self, ids: Sequence[str | int]) -> set[str]:
        """The given ids (as text) that exist in the character table."""
        return {key for key, _ in await self.labels(ids)}

    async def labels(self, ids: Sequence[str | int]) -> list[tuple[str, str]]:
        """(id, name) of the given ids that exist, in the order given."""
        schema = self._schema
        name_sql = schema.q("name") if schema.has("name") else schema.q("id")
        found: dict[str, str] = {}
        values = self._id_values(ids)
        for chunk in _chunks(values):
            marks = ",".join("?" * len(chunk))
            rows = await self._rows(
                f"SELECT {schema.q('id')}, {name_sql} FROM {schema.qtable} "
                f"WHERE {schema.q('id')} IN ({marks})",
                chunk,
            )
            for row in rows:
                found[str(row[0])] = "" if row[1] is None else str(row[1])
        return [(str(v), found[str(v)]) for v in values if str(v) in found]

    async def fetch(self, ids: Sequence[str | int]) -> dict[str, dict[str, Any]]:
        """Characters by id (text), each a dict of logical field → stored value."""
        schema = self._schema
        logical = list(schema.columns)
        select = ", ".join(quote(schema.columns[name]) for name in logical)
        out: dict[str, dict[str, Any]] = {}
        for chunk in _chunks(self._id_values(ids)):
            marks = ",".join("?" * len(chunk))
            rows = await self._rows(
                f"SELECT {select} FROM {schema.qtable} WHERE {schema.q('id')} IN ({marks})", chunk
            )
            for row in rows:
                record = dict(zip(logical, row, strict=True))
                record["id"] = str(record["id"])
                out[record["id"]] = record
        return out

    async def read_ahead(self, keys: Sequence[str], *, reader: str) -> None:
        """Read these characters in one query for the ``fetch_one(key, reader=reader)`` calls
        about to ask for them (a bulk run's items, a few hundred per query, not a few)."""
        found = await self.fetch(keys)
        if len(self._ahead) > _MAX_AHEAD:  # rows nobody asked for (items cancelled): drop them
            self._ahead.clear()
        for key in keys:
            self._ahead[(reader, str(key))] = found.get(str(key))

    async def fetch_one(self, key: str, *, reader: str = "") -> dict[str, Any] | None:
        """One character: read ahead for ``reader``, or else with the other callers of the same
        loop tick in one query."""
        ahead = self._ahead.pop((reader, str(key)), _NOT_AHEAD) if self._ahead else _NOT_AHEAD
        if ahead is not _NOT_AHEAD:
            return ahead  # type: ignore[return-value]
        loop = asyncio.get_running_loop()
        future: asyncio.Future[dict[str, Any] | None] = loop.create_future()
        if not self._wanted:
            loop.call_soon(self._start_flush)
        self._wanted.setdefault(str(key), []).append(future)
        return await future

    def _start_flush(self) -> None:
        task = asyncio.ensure_future(self._fetch_wanted())
        self._flushes.add(task)
        task.add_done_callback(self._flushes.discard)

    async def _fetch_wanted(self) -> None:
        wanted, self._wanted = self._wanted, {}
        try:
            found = await self.fetch(list(wanted))
        except BaseException as exc:
            for futures in wanted.values():
                for future in futures:
                    if not future.done():
                        future.set_exception(exc)
            return
        for key, futures in wanted.items():
            for future in futures:
                if not future.done():
                    future.set_result(found.get(key))

    # -- selection rules -------------------------------------------------------------------------

    def _empty_sql(self, logical: str) -> str:
        col = self._schema.q(logical)
        extra = ""
        if logical == "exampleDialogs":
            extra = " OR trim(" + col + ") IN (" + ",".join(f"'{v}'" for v in _EMPTY_JSON) + ")"
        return f"({col} IS NULL OR trim({col}) = ''{extra})"

    def needs_sql(
        self, kind: CandidateKind, *, overwrite: bool = False, fields: Sequence[str] = ()
    ) -> str:
        """The WHERE condition of the rows a task of ``kind`` would touch (no parameters)."""
        schema = self._schema
        conditions: list[str] = []
        if schema.has("isDeleted"):
            conditions.append(f"IFNULL({schema.q('isDeleted')}, 0) = 0")
        if kind == "avatar":
            schema.require("avatar", purpose="avatars")
            if not overwrite:  # a row with an avatar keeps it, whatever its last status says
                conditions.append(self._empty_sql("avatar"))
        elif kind == "settings":
            wanted = tuple(fields) or SETTINGS_FIELDS
            schema.require(*wanted, purpose="character settings")
            if not overwrite:
                conditions.append("(" + " OR ".join(self._empty_sql(f) for f in wanted) + ")")
        elif kind == "mbti":
            schema.require("mbtiType", purpose="MBTI assignment")
            if not overwrite:
                conditions.append(self._empty_sql("mbtiType"))
        else:
            raise ValueError(f"unknown candidate kind {kind!r}")
        return " AND ".join(conditions) or "1"

    async def select_candidates(
        self,
        kind: CandidateKind,
        ids: Sequence[str | int] | None = None,
        *,
        overwrite: bool = False,
        fields: Sequence[str] = (),
    ) -> list[tuple[str, str]]:
        """(id, name) of the characters needing work, by the selection rules of ``kind``."""
        schema = self._schema
        where = self.needs_sql(kind, overwrite=overwrite, fields=fields)
        name_sql = schema.q("name") if schema.has("name") else schema.q("id")
        base = f"SELECT {schema.q('id')}, {name_sql} FROM {schema.qtable} WHERE {where}"
        if ids is None:
            rows = await self._rows(base + f" ORDER BY {schema.q('id')}")
            return [(str(r[0]), "" if r[1] is None else str(r[1])) for r in rows]
        wanted = {str(key): key for key, _ in await self.labels(ids)}
        found: dict[str, str] = {}
        for chunk in _chunks([schema.id_value(k) for k in wanted]):
            marks = ",".join("?" * len(chunk))
            for row in await self._rows(base + f" AND {schema.q('id')} IN ({marks})", chunk):
                found[str(row[0])] = "" if row[1] is None else str(row[1])
        return [(key, found[key]) for key in wanted if key in found]

    async def count_candidates(
        self,
        kind: CandidateKind,
        ids: Sequence[str | int] | None = None,
        *,
        overwrite: bool = False,
        fields: Sequence[str] = (),
    ) -> int:
        """How many characters a task of ``kind`` would touch (for the form's live preview)."""
        if ids is not None:
            return len(await self.select_candidates(kind, ids, overwrite=overwrite, fields=fields))
        where = self.needs_sql(kind, overwrite=overwrite, fields=fields)
        rows = await self._rows(f"SELECT COUNT(*) FROM {self._schema.qtable} WHERE {where}")
        return int(rows[0][0])

    async def summary(self) -> dict[str, Any]:
        """Counts for the characters screen: totals, missing fields, MBTI and avatar status."""
        schema = self._schema
        live = f"IFNULL({schema.q('isDeleted')}, 0) = 0" if schema.has("isDeleted") else "1"
        present = [f for f in SUMMARY_FIELDS if schema.has(f)]
        parts = ["COUNT(*)"] + [
            f"SUM(CASE WHEN {self._empty_sql(f)} THEN 1 ELSE 0 END)" for f in present
        ]
        row = (await self._rows(f"SELECT {', '.join(parts)} FROM {schema.qtable} WHERE {live}"))[0]
        total = int(row[0])
        missing = {f: int(v or 0) for f, v in zip(present, row[1:], strict=True)}
        mbti: dict[str, int] = {}
        if schema.has("mbtiType"):
            col = schema.q("mbtiType")
            for r in await self._rows(
                f"SELECT upper(trim({col})), COUNT(*) FROM {schema.qtable} WHERE {live} AND "
                f"NOT {self._empty_sql('mbtiType')} GROUP BY 1 ORDER BY 2 DESC, 1"
            ):
                mbti[str(r[0])] = int(r[1])
        status: dict[str, int] = {}
        if schema.has("avatarStatus"):
            col = schema.q("avatarStatus")
            for r in await self._rows(
                f"SELECT IFNULL({col}, 'NULL'), COUNT(*) FROM {schema.qtable} WHERE {live} "
                "GROUP BY 1 ORDER BY 2 DESC, 1"
            ):
                status[str(r[0])] = int(r[1])
        return {
            "table": schema.table,
            "total": total,
            "missing": missing,
            "mbtiDistribution": mbti,
            "avatarStatus": status,
            "columnsAbsent": [f for f in SUMMARY_FIELDS if not schema.has(f)],
        }

    # -- writes (journaled compare-and-set, see writer.py) ------------------------------------------

    async def write_changes(
        self,
        task_id: str,
        changes: Sequence[CharacterChange],
        *,
        per_transaction: int | None = None,
    ) -> list[WriteResult]:
        return await self.writer.write_changes(task_id, changes, per_transaction=per_transaction)

    async def resolve_planned(
        self, task_id: str, item_keys: Sequence[str] | None = None, *, reapply: bool = True
    ) -> dict[str, JournalState]:
        return await self.writer.resolve_planned(task_id, item_keys, reapply=reapply)

    async def revert(self, task_id: str) -> dict[str, Any]:
        return await self.writer.revert(task_id)
