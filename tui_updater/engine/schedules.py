"""The scheduler of the owning engine: creates a task when a schedule is due and there is work.

Runs on the engine's clock (a fake one in tests). A schedule whose next run passed while no
engine ran is due once when it starts (never once per missed slot); a schedule whose previous
task has not finished creates none; a per-day budget caps the budget of each task it creates.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import Any

from tui_updater.core.models import TokenUsage, now_ms
from tui_updater.core.pricing import cost_of
from tui_updater.core.schedules import (
    ScheduleChange,
    ScheduleRecord,
    ScheduleSpec,
    ScheduleStore,
)
from tui_updater.engine.budgets import model_price
from tui_updater.engine.clock import WallClock
from tui_updater.engine.engine import Engine
from tui_updater.engine.ids import new_task_id
from tui_updater.engine.runner import describe_error
from tui_updater.errors import (
    InvalidParameters,
    ScheduleNotFound,
    TaskNotFound,
    TavernError,
    UnknownTaskType,
)

RETRY_AFTER_ERROR_MS = 60_000  # a check that raised is tried again after this long


class Scheduler:
    """Keeps the schedules of one state dir and fires them; only the state dir's owner runs it."""

    def __init__(self, engine: Engine, store: ScheduleStore, clock: WallClock):
        self.engine = engine
        self.store = store
        self.clock = clock
        self.cycles = 0  # checks done so far (tests wait on it)
        self._changed = asyncio.Event()
        self._cycled = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None
        self._on_clock = False  # the loop sleeps on the clock
        self._poked = False  # and a change has cancelled that sleep

    # --- life cycle -----------------------------------------------------------------------------

    def start(self) -> None:
        self._loop_task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self._loop_task is not None:
            self._poked = False  # this cancel is for real
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
            self._loop_task = None

    async def wait_cycle(self, after: int) -> None:
        """Wait until more than ``after`` checks have been done."""
        while self.cycles <= after:
            await self._cycled.wait()

    async def _loop(self) -> None:
        while True:
            self._changed.clear()
            try:
                wake_ms = await self.check_due()
            except Exception as exc:  # tasks.db trouble: say so, try again later
                self.engine.log("ERROR", f"schedules: check failed: {describe_error(exc)}")
                wake_ms = self.clock.wall_ms() + RETRY_AFTER_ERROR_MS
            self.cycles += 1
            cycled, self._cycled = self._cycled, asyncio.Event()
            cycled.set()
            await self._sleep_until(wake_ms)

    async def _sleep_until(self, wake_ms: int | None) -> None:
        """Sleep on the clock until ``wake_ms``, or until a schedule is added or changed.

        The clock's sleep is awaited by the loop itself (a fake clock registers the deadline at
        once); a change interrupts it by cancelling the loop, which takes the cancel back."""
        if self._changed.is_set():
            return
        if wake_ms is None:
            await self._changed.wait()
            return
        self._on_clock = True
        try:
            await self.clock.sleep(max(0.0, (wake_ms - self.clock.wall_ms()) / 1000))
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if not self._poked or current is None or current.cancelling() > 1:
                raise
            current.uncancel()
        finally:
            self._on_clock = False
            self._poked = False

    def _poke(self) -> None:
        """A schedule changed: look again now."""
        self._changed.set()
        if self._on_clock and not self._poked and self._loop_task is not None:
            self._poked = True
            self._loop_task.cancel()

    # --- firing ---------------------------------------------------------------------------------

    async def check_due(self) -> int | None:
        """Fire every enabled schedule that is due; return when the next one is (epoch ms)."""
        now = self.clock.wall_ms()
        wake: int | None = None
        for schedule in await self.store.list_schedules():
            if not schedule.enabled:
                continue
            if schedule.next_run_ms is None:
                schedule = schedule.evolve(next_run_ms=_first_run(schedule, now))
                await self.store.save_schedule(schedule)
            if schedule.next_run_ms is not None and schedule.next_run_ms <= now:
                fired = await self._fire(schedule, now)
                # Changed or removed meanwhile (a PATCH while the check ran): keep that change.
                current = await self.store.get_schedule(schedule.schedule_id)
                if current is None:
                    continue
                schedule = current.with_run_of(fired, changed=current != schedule)
                await self.store.save_schedule(schedule)
            if schedule.next_run_ms is not None:
                wake = schedule.next_run_ms if wake is None else min(wake, schedule.next_run_ms)
        return wake

    async def _fire(self, schedule: ScheduleRecord, now: int) -> ScheduleRecord:
        schedule = schedule.evolve(last_run_ms=now, next_run_ms=schedule.next_after(now))
        previous = await self._task(schedule.last_task_id)
        if previous is not None and not previous.status.finished:
            return schedule.evolve(message=f"{previous.task_id} has not finished; none created")
        data = dict(schedule.data)
        refusal = await self._within_budget(schedule, now, data)
        if refusal:
            return schedule.evolve(message=refusal)
        try:
            candidates = await self.engine.count_work(schedule.type, data)
            if candidates == 0:
                return schedule.evolve(message="nothing to do")
            task = await self.engine.submit(schedule.type, data, schedule.priority)
        except TavernError as exc:
            self.engine.log("WARNING", f"schedule {_label(schedule)}: {describe_error(exc)}")
            return schedule.evolve(message=f"not created: {describe_error(exc)}")
        self.engine.log(
            "INFO",
            f"schedule {_label(schedule)}: created {task.task_id} for {candidates} candidate(s)",
            task.task_id,
        )
        return schedule.with_created(task.task_id, now).evolve(
            message=f"created {task.task_id} ({candidates} candidate(s))"
        )

    async def _task(self, task_id: str | None) -> Any:
        if task_id is None:
            return None
        try:
            return await self.engine.get_task(task_id)
        except TaskNotFound:
            return None

    async def _within_budget(
        self, schedule: ScheduleRecord, now: int, data: dict[str, Any]
    ) -> str | None:
        """Give the task what is left of today's budget; the reason when nothing is."""
        if schedule.max_tokens is None and schedule.max_cost is None:
            return None
        spent = TokenUsage()
        for task_id in schedule.created_today(now):
            task = await self._task(task_id)
            if task is not None:
                spent = spent + task.usage
        if schedule.max_tokens is not None:
            left = schedule.max_tokens - spent.total_tokens
            if left <= 0:
                return (
                    f"daily budget spent: {spent.total_tokens:,} tokens of {schedule.max_tokens:,}"
                )
            data["maxTokens"] = min(int(data.get("maxTokens") or left), left)
        if schedule.max_cost is not None:
            task_type = self.engine.registry.get(schedule.type)
            _model, price = model_price(self.engine.resources, data, task_type.params_schema())
            spent_cost = cost_of(spent, price) or 0.0
            left_cost = schedule.max_cost - spent_cost
            if left_cost <= 0:
                return f"daily budget spent: cost {spent_cost:.4f} of {schedule.max_cost:.4f}"
            data["maxCost"] = min(float(data.get("maxCost") or left_cost), left_cost)
        return None

    # --- commands -------------------------------------------------------------------------------

    async def add(self, body: Mapping[str, Any]) -> ScheduleRecord:
        """Store a new schedule from its JSON; InvalidParameters naming the bad field."""
        spec = ScheduleSpec.parse(body)
        data = self._checked_data(spec.type, spec.data)
        stamp = now_ms()
        schedule = ScheduleRecord(
            schedule_id="sch_" + new_task_id().removeprefix("task_"),
            type=self.engine.registry.get(spec.type).name,
            data=data,
            priority=spec.priority,
            created_at_ms=stamp,
            name=spec.name,
            cron=spec.cron,
            every_minutes=spec.every_minutes,
            max_tokens=spec.max_tokens,
            max_cost=spec.max_cost,
            enabled=spec.enabled,
            updated_at_ms=stamp,
            message="added",
        )
        schedule = schedule.evolve(next_run_ms=_first_run(schedule, self.clock.wall_ms()))
        await self.store.save_schedule(schedule)
        self.engine.log("INFO", f"schedule added: {_label(schedule)} ({schedule.trigger_text})")
        self._poke()
        return schedule

    def _checked_data(self, type_name: str, data: Mapping[str, Any]) -> dict[str, Any]:
        try:
            task_type = self.engine.registry.get(type_name)
        except UnknownTaskType as exc:
            raise InvalidParameters("type", str(exc)) from None
        try:
            params = task_type.parse_params(data)
        except InvalidParameters as exc:
            raise InvalidParameters(f"data.{exc.field}", exc.message) from None
        dumped: dict[str, Any] = params.model_dump(mode="json", exclude_none=True)
        return dumped

    async def list(self) -> list[ScheduleRecord]:
        return await self.store.list_schedules()

    async def get(self, schedule_id: str) -> ScheduleRecord:
        schedule = await self.store.get_schedule(schedule_id)
        if schedule is None:
            raise ScheduleNotFound(schedule_id)
        return schedule

    async def update(self, schedule_id: str, body: Mapping[str, Any]) -> ScheduleRecord:
        """Enable/disable, rename, change the trigger or the daily budget."""
        change = ScheduleChange.parse(body)
        schedule = change.applied_to(await self.get(schedule_id))
        if change.cron is not None or change.every_minutes is not None or change.enabled:
            schedule = schedule.evolve(next_run_ms=_first_run(schedule, self.clock.wall_ms()))
        schedule = schedule.evolve(updated_at_ms=now_ms())
        await self.store.save_schedule(schedule)
        state = "enabled" if schedule.enabled else "disabled"
        self.engine.log("INFO", f"schedule changed: {_label(schedule)} ({state})")
        self._poke()
        return schedule

    async def remove(self, schedule_id: str) -> None:
        schedule = await self.get(schedule_id)
        await self.store.delete_schedule(schedule_id)
        self.engine.log("INFO", f"schedule removed: {_label(schedule)}")
        self._poke()


def _first_run(schedule: ScheduleRecord, now: int) -> int:
    """A watch rule looks at once; a cron schedule waits for its next slot."""
    return now if schedule.cron is None else schedule.next_after(now)


def _label(schedule: ScheduleRecord) -> str:
    return f"{schedule.name or schedule.type} ({schedule.schedule_id})"
