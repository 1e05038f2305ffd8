"""Schedules (rules): a task type + parameters + a trigger + an optional per-day budget.

A trigger is a cron expression (parsed and stepped by ``cronsim``) or a watch: "when candidates
appear", checked every N minutes with the type's own selection counted. Pure data: the engine's
scheduler (engine/schedules.py) runs them and the store keeps them in tasks.db.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from cronsim import CronSim, CronSimError
from pydantic import Field, ValidationError

from tui_updater.core.models import Priority, PriorityName
from tui_updater.core.record import Record
from tui_updater.errors import InvalidParameters

MAX_EVERY_MINUTES = 7 * 24 * 60
MAX_BUDGET_TOKENS = 10**12  # far above any day's spend; keeps the value an SQLite integer
MAX_BUDGET_COST = 1e9
MAX_CREATED_KEPT = 50  # the newest task ids a schedule remembers (its count goes on)
DAY_MS = 86_400_000


def parse_cron(expression: str) -> str:
    """The expression, stripped, if cronsim reads it; InvalidParameters naming ``cron``."""
    text = expression.strip()
    try:
        next(CronSim(text, dt.datetime(2000, 1, 1, tzinfo=dt.UTC)))
    except (CronSimError, ValueError, StopIteration) as exc:
        raise InvalidParameters("cron", f"not a cron expression ({exc})") from None
    return text


class ScheduleSpec(Record):
    """What a person gives to create a schedule (the POST body; the CLI builds the same)."""

    type: str
    data: dict[str, Any] = Field(default_factory=dict)
    priority: PriorityName = Priority.NORMAL
    name: str = Field(default="", max_length=200)
    cron: str | None = None
    every_minutes: int | None = Field(default=None, ge=1, le=MAX_EVERY_MINUTES)
    max_tokens: int | None = Field(default=None, ge=1, le=MAX_BUDGET_TOKENS)  # per day
    max_cost: float | None = Field(default=None, gt=0, le=MAX_BUDGET_COST)
    enabled: bool = True

    @classmethod
    def parse(cls, body: Mapping[str, Any]) -> ScheduleSpec:
        """A spec from JSON; InvalidParameters naming the first bad field, and the trigger
        checked (exactly one of ``cron`` / ``everyMinutes``, the cron readable)."""
        unknown = sorted(set(body) - {cls.model_fields[f].alias or f for f in cls.model_fields})
        if unknown:
            raise InvalidParameters(unknown[0], "unknown field")
        try:
            spec = cls.from_json(dict(body))
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(part) for part in first.get("loc", ())) or "body"
            raise InvalidParameters(field, str(first.get("msg", "invalid"))) from None
        return spec.checked()

    def checked(self) -> ScheduleSpec:
        if (self.cron is None) == (self.every_minutes is None):
            raise InvalidParameters(
                "cron", "give a cron expression or everyMinutes (a watch rule), not both or neither"
            )
        if self.cron is not None:
            return self.evolve(cron=parse_cron(self.cron))
        return self


class ScheduleRecord(Record):
    """A stored schedule and what it has done: its last and next run and the tasks it created."""

    schedule_id: str
    type: str
    data: dict[str, Any]
    priority: PriorityName
    created_at_ms: int
    name: str = ""
    cron: str | None = None
    every_minutes: int | None = None
    max_tokens: int | None = None
    max_cost: float | None = None
    enabled: bool = True
    updated_at_ms: int = 0
    last_run_ms: int | None = None  # the last time it was due and checked
    next_run_ms: int | None = None
    last_task_id: str | None = None
    message: str = ""  # what the last check did ("created task_…", "nothing to do", …)
    tasks_created: int = 0
    created_tasks: dict[str, Any] = Field(default_factory=dict)  # newest task ids → created at

    @property
    def trigger_text(self) -> str:
        """``"cron 0 3 * * *"`` or ``"when candidates appear, every 5 min"``."""
        if self.cron is not None:
            return f"cron {self.cron}"
        return f"when candidates appear, every {self.every_minutes} min"

    def next_after(self, now_ms: int) -> int:
        """The first run time strictly after ``now_ms`` (cron in UTC)."""
        if self.cron is None:
            return now_ms + int(self.every_minutes or 1) * 60_000
        start = dt.datetime.fromtimestamp(now_ms / 1000, tz=dt.UTC)
        following = next(CronSim(self.cron, start))
        return int(following.timestamp() * 1000)

    def created_today(self, now_ms: int) -> list[str]:
        """The remembered task ids it created on ``now_ms``'s UTC day (its budget's day)."""
        day_start = now_ms - now_ms % DAY_MS
        return [tid for tid, at in self.created_tasks.items() if int(at) >= day_start]

    def with_run_of(self, fired: ScheduleRecord, *, changed: bool) -> ScheduleRecord:
        """This record with what a check (``fired``, made from an earlier copy) did; when this
        copy was ``changed`` meanwhile, its own next run stands."""
        return self.evolve(
            last_run_ms=fired.last_run_ms,
            next_run_ms=self.next_run_ms if changed else fired.next_run_ms,
            last_task_id=fired.last_task_id,
            message=fired.message,
            tasks_created=fired.tasks_created,
            created_tasks=fired.created_tasks,
        )

    def with_created(self, task_id: str, at_ms: int) -> ScheduleRecord:
        kept = dict(list(self.created_tasks.items())[-(MAX_CREATED_KEPT - 1) :])
        kept[task_id] = at_ms
        return self.evolve(
            created_tasks=kept, tasks_created=self.tasks_created + 1, last_task_id=task_id
        )


class ScheduleChange(Record):
    """A PATCH: what may change on an existing schedule."""

    enabled: bool | None = None
    name: str | None = Field(default=None, max_length=200)
    cron: str | None = None
    every_minutes: int | None = Field(default=None, ge=1, le=MAX_EVERY_MINUTES)
    max_tokens: int | None = Field(default=None, ge=1, le=MAX_BUDGET_TOKENS)
    max_cost: float | None = Field(default=None, gt=0, le=MAX_BUDGET_COST)

    @classmethod
    def parse(cls, body: Mapping[str, Any]) -> ScheduleChange:
        known = {cls.model_fields[f].alias or f for f in cls.model_fields}
        unknown = sorted(set(body) - known)
        if unknown:
            raise InvalidParameters(unknown[0], "unknown field")
        try:
            change = cls.from_json(dict(body))
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(part) for part in first.get("loc", ())) or "body"
            raise InvalidParameters(field, str(first.get("msg", "invalid"))) from None
        if change.cron is not None:
            change = change.evolve(cron=parse_cron(change.cron))
        return change

    def applied_to(self, schedule: ScheduleRecord) -> ScheduleRecord:
        changes = {k: v for k, v in self.__dict__.items() if v is not None}
        if "cron" in changes:
            changes["every_minutes"] = None
        elif "every_minutes" in changes:
            changes["cron"] = None
        return schedule.evolve(**changes)


@runtime_checkable
class ScheduleStore(Protocol):
    """Where schedules are kept (tasks.db)."""

    async def save_schedule(self, schedule: ScheduleRecord) -> None: ...

    async def get_schedule(self, schedule_id: str) -> ScheduleRecord | None: ...

    async def list_schedules(self) -> list[ScheduleRecord]: ...

    async def delete_schedule(self, schedule_id: str) -> bool: ...
