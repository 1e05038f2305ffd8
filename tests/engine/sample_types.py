"""Test-only task types: items that sleep, fail on cue, and record their side effects."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import Field

from tui_updater.core.models import ItemRecord, ItemStatus, TokenUsage
from tui_updater.errors import PermanentError, TransientError
from tui_updater.tasks.base import ItemOutcome, ItemSpec, TaskContext, TaskParams, TaskType
from tui_updater.tasks.registry import TaskTypeRegistry


class SampleParams(TaskParams):
    count: int = Field(3, ge=0, le=100_000)
    batchSize: int = Field(2, ge=1, le=1000)
    concurrency: int = Field(2, ge=1, le=500)
    sleep_s: float = Field(0.0, ge=0, le=60)
    transient_failures: dict[str, int] = Field(default_factory=dict)  # key -> times to fail first
    retry_after_s: float | None = None
    permanent: list[str] = Field(default_factory=list)  # keys that always fail permanently
    label: str = ""
    crash: list[str] = Field(default_factory=list)  # keys whose obtain has a bug (RuntimeError)
    tokens: int = Field(0, ge=0)  # prompt tokens each obtain reports spending (one request)


@dataclass
class Recorder:
    """What the sample type did, for assertions."""

    obtained: list[tuple[str, str]] = field(default_factory=list)  # (task_id, key)
    applied: list[tuple[str, str]] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    in_flight_by_task: dict[str, int] = field(default_factory=dict)
    max_in_flight_by_task: dict[str, int] = field(default_factory=dict)
    started: list[str] = field(default_factory=list)  # task ids in start order
    cancelled: list[tuple[str, str]] = field(default_factory=list)
    attempts: dict[tuple[str, str], int] = field(default_factory=dict)


class SampleTask(TaskType[SampleParams]):
    name = "SAMPLE"
    title = "Sample"
    description = "test-only"
    params_model = SampleParams

    def __init__(self, recorder: Recorder):
        self.recorder = recorder

    async def select(self, ctx: TaskContext, params: SampleParams) -> Sequence[ItemSpec]:
        self.recorder.started.append(ctx.task_id)
        return [ItemSpec(f"k{i}", f"item {i}") for i in range(params.count)]

    async def obtain(
        self, ctx: TaskContext, params: SampleParams, item: ItemRecord
    ) -> dict[str, Any]:
        rec = self.recorder
        key = (ctx.task_id, item.key)
        rec.attempts[key] = rec.attempts.get(key, 0) + 1
        rec.in_flight += 1
        task_in_flight = rec.in_flight_by_task.get(ctx.task_id, 0) + 1
        rec.in_flight_by_task[ctx.task_id] = task_in_flight
        rec.max_in_flight_by_task[ctx.task_id] = max(
            rec.max_in_flight_by_task.get(ctx.task_id, 0), task_in_flight
        )
        rec.max_in_flight = max(rec.max_in_flight, rec.in_flight)
        try:
            if params.sleep_s:
                await asyncio.sleep(params.sleep_s)
            if item.key in params.crash:
                raise RuntimeError(f"bug while handling {item.key}")
            if item.key in params.permanent:
                raise PermanentError(f"{item.key} is broken")
            if rec.attempts[key] <= params.transient_failures.get(item.key, 0):
                raise TransientError(f"{item.key} flaked", retry_after_s=params.retry_after_s)
        except asyncio.CancelledError:
            rec.cancelled.append(key)
            raise
        finally:
            rec.in_flight -= 1
            rec.in_flight_by_task[ctx.task_id] -= 1
        rec.obtained.append(key)
        if params.tokens:
            ctx.add_usage(TokenUsage(params.tokens, 0, 1))
        return {"value": item.key.upper()}

    async def apply(
        self,
        ctx: TaskContext,
        params: SampleParams,
        batch: Sequence[tuple[ItemRecord, dict[str, Any]]],
    ) -> Sequence[ItemOutcome]:
        for item, _result in batch:
            self.recorder.applied.append((ctx.task_id, item.key))
        return [ItemOutcome(item.key, ItemStatus.DONE) for item, _ in batch]


def sample_registry(recorder: Recorder) -> TaskTypeRegistry:
    registry = TaskTypeRegistry()
    registry.register(SampleTask(recorder))
    return registry
