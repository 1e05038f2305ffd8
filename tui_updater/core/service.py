"""The one interface the dashboard and the server use: local engine or remote (--connect)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, Protocol

from pydantic import ConfigDict, computed_field

from tui_updater.core.budget import Estimate
from tui_updater.core.changes import ChangeQuery, TaskChangePage
from tui_updater.core.events import Event
from tui_updater.core.models import (
    BackupInfo,
    ItemRecord,
    ItemStatus,
    LogRecord,
    TaskRecord,
    TaskStatus,
)
from tui_updater.core.proposals import ProposalStatus, ProposalView
from tui_updater.core.record import Record, json_key
from tui_updater.core.schedules import ScheduleRecord
from tui_updater.errors import InvalidParameters, TavernError, UnknownTaskType

# Fields a task list can be sorted by: JSON name → TaskRecord attribute (which is also its column
# in tasks.db); "-field" sorts descending.
SORT_ATTRIBUTES = {
    "createdAt": "created_at_ms",
    "updatedAt": "updated_at_ms",
    "startedAt": "started_at_ms",
    "completedAt": "finished_at_ms",
    "priority": "priority",
    "status": "status",
    "type": "type",
    "progress": "progress",
}
SORT_FIELDS = tuple(SORT_ATTRIBUTES)
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
BULK_ACTIONS = ("retry", "cancel", "delete")


class TaskTypeInfo(Record):
    """A registered task type as the form and the API see it."""

    name: str = json_key("type")  # "MBTI_ASSIGNMENT"
    title: str = json_key("name")  # "MBTI assignment"
    description: str
    params_schema: dict[str, Any] = json_key("options")  # JSON Schema of the parameters
    aliases: tuple[str, ...] = ()  # the registry's other names ("mbti-assignment"): quick routes


def type_named(types: Sequence[TaskTypeInfo], type_name: str) -> TaskTypeInfo:
    """The type ``type_name`` names: its name in any case (``-`` for ``_``) or one of its aliases;
    UnknownTaskType when none does."""
    wanted = str(type_name).strip()
    for info in types:
        if wanted.upper().replace("-", "_") == info.name or wanted.lower() in info.aliases:
            return info
    raise UnknownTaskType(wanted, [info.name for info in types])


class ServiceInfo(Record):
    """What the header shows: where the data is and who answers. Keys beyond these (a newer
    server's) are kept and sent on."""

    model_config = ConfigDict(extra="allow")

    database: str  # path of the character database
    demo: bool
    provider: str  # "offline" or the gateway's base URL host
    online: bool
    chat_model: str
    image_model: str
    version: str
    remote: str | None = None  # URL when the dashboard is connected to a server

    @property
    def extra(self) -> dict[str, Any]:
        return dict(self.__pydantic_extra__ or {})


class QueueStatus(Record):
    paused: bool
    pending: int
    running: int
    max_running: int = json_key("maxConcurrent")
    total: int = json_key("totalTasks")
    by_status: dict[str, int]
    # The gateway lane (inFlight, limit, maxInFlight, waiting, backingOff, pausedS, pushBacks,
    # requests); None with the offline provider.
    gateway: dict[str, Any] | None = None


def _split(value: str | Sequence[str] | None) -> list[str]:
    if value is None:
        return []
    parts = value.split(",") if isinstance(value, str) else [str(v) for v in value]
    return [part.strip() for part in parts if part.strip()]


def parse_statuses(
    value: str | Sequence[str] | None, *, field_name: str = "status"
) -> tuple[TaskStatus, ...]:
    """A status filter from ``"FAILED,CANCELLED"`` or a sequence; InvalidParameters naming it."""
    statuses = []
    for part in _split(value):
        if part.upper() not in TaskStatus.__members__:
            raise InvalidParameters(
                field_name, f"unknown status {part!r}; use one of {', '.join(TaskStatus)}"
            )
        statuses.append(TaskStatus(part.upper()))
    return tuple(dict.fromkeys(statuses))


def parse_item_statuses(value: str | Sequence[str] | None) -> tuple[ItemStatus, ...]:
    statuses = []
    for part in _split(value):
        if part.upper() not in ItemStatus.__members__:
            raise InvalidParameters(
                "status", f"unknown item status {part!r}; use one of {', '.join(ItemStatus)}"
            )
        statuses.append(ItemStatus(part.upper()))
    return tuple(dict.fromkeys(statuses))


def parse_proposal_statuses(value: str | Sequence[str] | None) -> tuple[ProposalStatus, ...]:
    """Proposal states from "PENDING,CONFLICT" or a list; InvalidParameters(status) otherwise."""
    out = []
    for name in _split(value):
        try:
            out.append(ProposalStatus(name.upper()))
        except ValueError:
            known = ", ".join(ProposalStatus)
            raise InvalidParameters(
                "status", f"unknown proposal state {name!r}; use {known}"
            ) from None
    return tuple(dict.fromkeys(out))


def parse_sort(value: str | None) -> tuple[str, bool] | None:
    """``"-priority"`` → ``("priority", True)`` (descending); InvalidParameters naming sort."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    descending = text.startswith("-")
    name = text.lstrip("+-")
    if name not in SORT_FIELDS:
        raise InvalidParameters(
            "sort",
            f"cannot sort by {name!r}; use one of {', '.join(SORT_FIELDS)} (- for descending)",
        )
    return name, descending


def levels_from(level: str | None) -> tuple[str, ...]:
    """``"WARNING"`` → the levels at or above it; InvalidParameters naming level."""
    if level is None or not level.strip():
        return ()
    name = level.strip().upper()
    name = "WARNING" if name == "WARN" else name
    if name not in LOG_LEVELS:
        raise InvalidParameters(
            "level", f"unknown level {level!r}; use one of {', '.join(LOG_LEVELS)}"
        )
    return LOG_LEVELS[LOG_LEVELS.index(name) :]


class TaskFilter(Record):
    """Which tasks a list, a count or a bulk action covers (empty = every one)."""

    statuses: tuple[TaskStatus, ...] = ()
    types: tuple[str, ...] = ()

    @classmethod
    def parse(
        cls, status: str | Sequence[str] | None = None, type_name: str | Sequence[str] | None = None
    ) -> TaskFilter:
        return cls(
            parse_statuses(status), tuple(dict.fromkeys(t.upper() for t in _split(type_name)))
        )

    def matches(self, task: TaskRecord) -> bool:
        return (not self.statuses or task.status in self.statuses) and (
            not self.types or task.type in self.types
        )


# What a bulk action covers when the request names no status.
BULK_DEFAULT_STATUSES: dict[str, tuple[TaskStatus, ...]] = {
    "retry": (TaskStatus.FAILED,),
    "cancel": (TaskStatus.PENDING, TaskStatus.RUNNING),
    "delete": (TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED),
}


class SkippedTask(Record):
    """A task a bulk action left alone, and why."""

    task_id: str
    reason: str


class BulkResult(Record):
    """What a bulk action did: the tasks it acted on and those it left, with the reason."""

    action: str
    done: tuple[str, ...]
    skipped: tuple[SkippedTask, ...]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def matched(self) -> int:
        return len(self.done) + len(self.skipped)


def check_bulk_action(action: str) -> None:
    """InvalidParameters naming ``action`` unless it is one of BULK_ACTIONS."""
    if action not in BULK_ACTIONS:
        raise InvalidParameters(
            "action", f"unknown bulk action; use one of {', '.join(BULK_ACTIONS)}"
        )


async def apply_bulk(
    service: UpdaterService,
    action: str,
    *,
    status: str | Sequence[str] | None = None,
    type_name: str | Sequence[str] | None = None,
) -> BulkResult:
    """Run ``action`` on every task the filter matches, one by one; a refusal skips that task."""
    check_bulk_action(action)
    query = TaskFilter.parse(status, type_name)
    statuses = query.statuses or BULK_DEFAULT_STATUSES[action]
    tasks = await service.list_tasks(
        status=[s.value for s in statuses], type_name=list(query.types) or None, sort="createdAt"
    )
    done: list[str] = []
    skipped: list[SkippedTask] = []
    for task in tasks:
        try:
            if action == "retry":
                await service.retry(task.task_id)
            elif action == "cancel":
                await service.cancel(task.task_id)
            else:
                await service.delete(task.task_id)
        except TavernError as exc:  # wrong state by now, or gone: say so, go on
            skipped.append(SkippedTask(task.task_id, str(exc)))
        else:
            done.append(task.task_id)
    return BulkResult(action, tuple(done), tuple(skipped))


# The characters screen: what it can filter and sort by (JSON names; "-field" sorts descending).
CHARACTER_FILTERS = ("missingAvatar", "noMbti", "thinDescription")
CHARACTER_SORTS = ("name", "language", "mbtiType", "updatedAt")
MAX_CHARACTER_PAGE = 1_000


class CharacterQuery(Record):
    """Which characters a page of the browser shows (and "mark all filtered" marks)."""

    search: str = ""  # in the name or the description (case-insensitive)
    filters: tuple[str, ...] = ()  # every one must hold (CHARACTER_FILTERS)
    language: str | None = None
    sort: str = "name"
    limit: int = 100
    offset: int = 0

    @classmethod
    def parse(
        cls,
        *,
        search: str | None = None,
        filters: str | Sequence[str] | None = None,
        language: str | None = None,
        sort: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> CharacterQuery:
        """A query from loose values; InvalidParameters naming the field that is wrong."""
        chosen = tuple(dict.fromkeys(_split(filters)))
        for name in chosen:
            if name not in CHARACTER_FILTERS:
                raise InvalidParameters(
                    "filter", f"unknown filter {name!r}; use one of {', '.join(CHARACTER_FILTERS)}"
                )
        order = (sort or "name").strip() or "name"
        if order.lstrip("+-") not in CHARACTER_SORTS:
            raise InvalidParameters(
                "sort",
                f"cannot sort by {order!r}; use one of {', '.join(CHARACTER_SORTS)}"
                " (- for descending)",
            )
        if not 1 <= limit <= MAX_CHARACTER_PAGE:
            raise InvalidParameters("limit", f"must be 1..{MAX_CHARACTER_PAGE}")
        if offset < 0:
            raise InvalidParameters("offset", "must be 0 or more")
        return cls(
            (search or "").strip(), chosen, (language or "").strip() or None, order, limit, offset
        )


class CharacterRow(Record):
    """One character as the browser lists it."""

    character_id: str
    name: str
    language: str | None = None
    mbti_type: str | None = None
    avatar_status: str | None = None
    has_avatar: bool = False
    empty_fields: tuple[str, ...] = ()  # the summary's fields that are missing or blank
    updated_at: str | None = None  # as the database stores it (ISO text or epoch)


class CharacterPage(Record):
    """One page of characters and how many match the query in all."""

    rows: tuple[CharacterRow, ...]
    total: int
    offset: int = 0


class CharacterChangeEntry(Record):
    """One journaled write to a character: which task changed which column, from what to what."""

    entry_id: int
    task_id: str
    column: str  # the real column name
    old_value: Any
    new_value: Any
    state: str  # applied, conflict, reverted, revert_conflict, planned
    created_at_ms: int = 0


class CharacterDetail(Record):
    """Everything the character view shows: every column, the avatar file, the history."""

    character_id: str
    name: str
    fields: dict[str, Any]  # real column → value (bytes as a size note)
    avatar_file: str | None = None  # the image on the engine's machine, when it is there
    history: tuple[CharacterChangeEntry, ...] = ()  # newest first


class Subscription(Protocol):
    """A bounded stream of engine events; progress is coalesced per task, terminal events kept.

    ``batches()`` yields lists of events. When the subscriber falls too far behind, the stream
    raises ``SubscriberOverflow``: the consumer should resync from a snapshot and subscribe again.
    """

    def batches(self) -> AsyncIterator[list[Event]]: ...

    def close(self) -> None: ...


class SubscriberOverflow(Exception):
    """The subscriber fell behind; resync from ``list_tasks`` and subscribe again."""


class UpdaterService(Protocol):
    """Everything a view can ask of the engine. Implemented locally and by the remote client."""

    async def info(self) -> ServiceInfo: ...

    async def queue_status(self) -> QueueStatus: ...

    async def task_types(self) -> list[TaskTypeInfo]: ...

    async def task_type(self, type_name: str) -> TaskTypeInfo:
        """One type by its name or an alias (see ``type_named``); raises UnknownTaskType. Locally
        it loads that type alone, not every type's module and schema."""

    async def preview(self, type_name: str, data: Mapping[str, Any]) -> int:
        """How many items the task would touch; raises InvalidParameters naming the field."""

    async def submit(
        self, type_name: str, data: Mapping[str, Any], priority: object = "NORMAL"
    ) -> TaskRecord: ...

    async def list_tasks(
        self,
        *,
        status: str | Sequence[str] | None = None,
        type_name: str | Sequence[str] | None = None,
        limit: int | None = None,
        offset: int = 0,
        sort: str | None = None,
        database: str | None = None,
    ) -> list[TaskRecord]:
        """Newest first unless ``sort`` says otherwise; filters take one value or several;
        ``database`` keeps the tasks of one character database (its absolute path)."""

    async def count_tasks(
        self,
        *,
        status: str | Sequence[str] | None = None,
        type_name: str | Sequence[str] | None = None,
        database: str | None = None,
    ) -> int:
        """How many tasks ``list_tasks`` with the same filter would return without a limit."""

    async def get_task(self, task_id: str) -> TaskRecord: ...

    async def list_items(
        self,
        task_id: str,
        *,
        limit: int = 500,
        offset: int = 0,
        status: str | Sequence[str] | None = None,
    ) -> list[ItemRecord]: ...

    async def task_changes(self, task_id: str, query: ChangeQuery) -> TaskChangePage:
        """A page of what the task wrote (its journal), in the order it was planned."""

    async def task_logs(self, task_id: str, *, limit: int = 500) -> list[LogRecord]: ...

    async def logs(
        self,
        *,
        since_ms: int | None = None,
        level: str | None = None,
        task_id: str | None = None,
        limit: int = 500,
    ) -> list[LogRecord]:
        """Task log lines across tasks, oldest first: at or after ``since_ms``, ``level`` and up."""

    async def set_priority(self, task_id: str, priority: object) -> TaskRecord:
        """Change a PENDING task's priority; TaskStateError once it has started."""

    async def bulk(
        self,
        action: str,
        *,
        status: str | Sequence[str] | None = None,
        type_name: str | Sequence[str] | None = None,
    ) -> BulkResult:
        """retry / cancel / delete every matching task (see ``apply_bulk``)."""

    async def cancel(self, task_id: str) -> TaskRecord: ...

    async def retry(self, task_id: str, data: Mapping[str, Any] | None = None) -> TaskRecord:
        """Rerun a FAILED/CANCELLED task; ``data`` overrides parameters (a new budget)."""

    async def revert(self, task_id: str) -> dict[str, Any]: ...

    async def delete(self, task_id: str) -> None: ...

    async def pause(self) -> None: ...

    async def resume(self) -> None: ...

    async def list_backups(self) -> list[BackupInfo]: ...

    async def restore_backup(self, name: str) -> dict[str, Any]: ...

    async def characters_summary(self) -> dict[str, Any]: ...

    async def list_characters(self, query: CharacterQuery) -> CharacterPage:
        """One page of the character table, filtered and sorted in the database."""

    async def character_ids(self, query: CharacterQuery) -> list[str]:
        """The ids of every character the query matches (its limit and offset ignored)."""

    async def character(self, character_id: str) -> CharacterDetail:
        """One character with its journal history; InvalidParameters(characterId) if unknown."""

    async def export_cards(
        self, ids: Sequence[str], fmt: str = "v3", directory: str | None = None
    ) -> dict[str, Any]:
        """Write these characters as card files (``fmt``: v2, v3 or json) into ``directory``
        (relative: under the data dir's ``cards/``); report the files written."""

    async def revert_change(self, entry_id: int) -> dict[str, Any]:
        """Undo one applied change if the cell still holds what it wrote (compare-and-set):
        ``{"entryId", "reverted", "reason"}``; InvalidParameters(entryId) if unknown."""

    async def list_proposals(
        self, task_id: str, *, status: str | Sequence[str] | None = None
    ) -> list[ProposalView]:
        """A review-mode task's proposals beside their fields' current values."""

    async def accept_proposals(
        self, task_id: str, proposal_ids: Sequence[int] | None = None
    ) -> list[ProposalView]:
        """Write these proposals (every pending one without ids) with compare-and-set; each
        comes back ACCEPTED, or CONFLICT when the site changed its field since the task read it."""

    async def reject_proposals(
        self, task_id: str, proposal_ids: Sequence[int] | None = None
    ) -> list[ProposalView]:
        """Discard these proposals (every pending one without ids)."""

    async def edit_proposal(
        self, task_id: str, proposal_id: int, changes: Mapping[str, Any]
    ) -> ProposalView:
        """Replace a pending proposal's values (validated like the task type's output)."""

    async def estimate(self, type_name: str, data: Mapping[str, Any]) -> Estimate:
        """Candidates × measured tokens per item for the type (past tasks, else the default)."""

    async def list_schedules(self) -> list[ScheduleRecord]: ...

    async def add_schedule(self, body: Mapping[str, Any]) -> ScheduleRecord:
        """A new schedule from its JSON (ScheduleSpec); InvalidParameters naming the field."""

    async def update_schedule(self, schedule_id: str, body: Mapping[str, Any]) -> ScheduleRecord:
        """Enable/disable, rename, retrigger (ScheduleChange); ScheduleNotFound if unknown."""

    async def remove_schedule(self, schedule_id: str) -> None: ...

    def subscribe(self) -> Subscription: ...
