"""The dashboard fake's schedules and estimate: in memory, validated as the real service does
(the same ScheduleSpec / ScheduleChange and the type's parameter model)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from typing import Any

from tui_updater.core.budget import Estimate, estimate
from tui_updater.core.schedules import ScheduleChange, ScheduleRecord, ScheduleSpec
from tui_updater.errors import InvalidParameters, ScheduleNotFound, UnknownTaskType

FAKE_CANDIDATES = 12


class FakeSchedules:
    """Mixed into FakeService (which gives ``_type``, ``_params`` and ``calls``)."""

    calls: list[tuple[str, Any]]
    _type: Callable[[str], str]
    _params: Callable[[str, Mapping[str, Any] | None], dict[str, Any]]
    now_ms: int

    def _schedule_store(self) -> dict[str, ScheduleRecord]:
        if not hasattr(self, "_schedule_records"):
            self._schedule_records: dict[str, ScheduleRecord] = {}
            self._schedule_ids = itertools.count(1)
        return self._schedule_records

    async def estimate(self, type_name: str, data: Mapping[str, Any]) -> Estimate:
        self.calls.append(("estimate", dict(data)))
        self._params(self._type(type_name), data)
        return estimate(FAKE_CANDIDATES, None, None, "fake-model")

    async def list_schedules(self) -> list[ScheduleRecord]:
        return list(self._schedule_store().values())

    async def add_schedule(self, body: Mapping[str, Any]) -> ScheduleRecord:
        self.calls.append(("add_schedule", dict(body)))
        store = self._schedule_store()
        spec = ScheduleSpec.parse(body)
        try:
            name = self._type(spec.type)
        except UnknownTaskType as exc:
            raise InvalidParameters("type", str(exc)) from None
        try:
            data = self._params(name, spec.data)
        except InvalidParameters as exc:
            raise InvalidParameters(f"data.{exc.field}", exc.message) from None
        schedule = ScheduleRecord(
            schedule_id=f"sch_fake_{next(self._schedule_ids)}",
            type=name,
            data=data,
            priority=spec.priority,
            created_at_ms=self.now_ms,
            name=spec.name,
            cron=spec.cron,
            every_minutes=spec.every_minutes,
            max_tokens=spec.max_tokens,
            max_cost=spec.max_cost,
            enabled=spec.enabled,
            updated_at_ms=self.now_ms,
            message="added",
        )
        schedule = schedule.evolve(
            next_run_ms=self.now_ms if spec.cron is None else schedule.next_after(self.now_ms)
        )
        store[schedule.schedule_id] = schedule
        return schedule

    async def update_schedule(self, schedule_id: str, body: Mapping[str, Any]) -> ScheduleRecord:
        self.calls.append(("update_schedule", (schedule_id, dict(body))))
        store = self._schedule_store()
        if schedule_id not in store:
            raise ScheduleNotFound(schedule_id)
        store[schedule_id] = ScheduleChange.parse(body).applied_to(store[schedule_id])
        return store[schedule_id]

    async def remove_schedule(self, schedule_id: str) -> None:
        self.calls.append(("remove_schedule", schedule_id))
        if self._schedule_store().pop(schedule_id, None) is None:
            raise ScheduleNotFound(schedule_id)
