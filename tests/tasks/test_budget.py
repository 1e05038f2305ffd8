"""Budgets against the loopback fake gateway (which counts usage per request): a task stops
before the request that would pass ``maxTokens``, keeps what it finished, and a retry with a
larger budget finishes it without asking again for what was done."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fakes.openai_server import FakeOpenAIServer
from tests.tasks.test_online_faults import online_settings
from tui_updater.core.models import ItemStatus, TaskStatus
from tui_updater.engine.clock import FakeClock
from tui_updater.errors import InvalidParameters
from tui_updater.runtime import Runtime

SETTINGS_TASK = "CHARACTER_SETTINGS"


@pytest.fixture
async def gateway() -> AsyncIterator[FakeOpenAIServer]:
    async with FakeOpenAIServer() as srv:
        yield srv


def chat_requests(gateway: FakeOpenAIServer) -> int:
    return gateway.count("chat/completions")


async def test_max_tokens_stops_the_task_and_a_retry_with_more_finishes_it(
    tmp_path: Path, gateway: FakeOpenAIServer
):
    settings = online_settings(tmp_path, gateway.base_url)
    runtime = await Runtime.open(settings, clock=FakeClock(), synchronous="NORMAL", control=False)
    try:
        service = runtime.service
        data = {"updateFields": ["scenario"], "concurrency": 1, "batchSize": 2}
        candidates = await service.preview(SETTINGS_TASK, data)
        assert candidates >= 6
        # Measure one item's cost, so the budget below covers a known part of the work.
        probe = await service.submit(SETTINGS_TASK, {**data, "maxTokens": 1_000_000})
        probe = await runtime.engine.wait(probe.task_id)
        assert probe.status is TaskStatus.COMPLETED
        per_item = probe.usage.total_tokens / probe.counts.done
        await service.revert(probe.task_id)  # the fields are empty again

        budget = int(per_item * 3.5)
        task = await service.submit(SETTINGS_TASK, {**data, "maxTokens": budget})
        stopped = await runtime.engine.wait(task.task_id)
        assert stopped.status is TaskStatus.FAILED
        assert stopped.message.startswith("budget reached: ")
        assert stopped.message.endswith(f" tokens of {budget:,}")
        assert stopped.usage.total_tokens <= budget
        items = await service.list_items(task.task_id)
        done = [i for i in items if i.status is ItemStatus.DONE]
        pending = [i for i in items if i.status is ItemStatus.PENDING]
        assert 1 <= len(done) <= 3 and len(done) + len(pending) == len(items) == candidates
        assert stopped.counts.done == len(done)
        requests_before_retry = chat_requests(gateway)

        retried = await service.retry(task.task_id, {"maxTokens": 1_000_000})
        assert retried.data["maxTokens"] == 1_000_000
        finished = await runtime.engine.wait(task.task_id)
        assert finished.status is TaskStatus.COMPLETED
        assert finished.counts.done == candidates
        # Only what was left was asked for: the finished items kept their results.
        assert chat_requests(gateway) - requests_before_retry == len(pending)
        kept = {i.key: i.status for i in await service.list_items(task.task_id)}
        assert all(kept[i.key] is ItemStatus.DONE for i in done)
    finally:
        await runtime.close()


async def test_a_budget_too_small_for_one_request_does_no_work(
    tmp_path: Path, gateway: FakeOpenAIServer
):
    settings = online_settings(tmp_path, gateway.base_url)
    runtime = await Runtime.open(settings, clock=FakeClock(), synchronous="NORMAL", control=False)
    try:
        task = await runtime.service.submit(
            SETTINGS_TASK, {"updateFields": ["scenario"], "maxTokens": 5}
        )
        stopped = await runtime.engine.wait(task.task_id)
        assert stopped.status is TaskStatus.FAILED
        assert stopped.message == "budget reached: 0 tokens of 5"
        assert chat_requests(gateway) == 0
        assert stopped.counts.done == 0 and stopped.counts.total > 0
    finally:
        await runtime.close()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"maxTokens": -1}, "maxTokens"),
        ({"maxTokens": 0}, "maxTokens"),
        ({"maxCost": -0.5}, "maxCost"),
    ],
)
async def test_bad_budgets_are_refused_naming_the_field(
    tmp_path: Path, gateway: FakeOpenAIServer, data: dict[str, object], field: str
):
    settings = online_settings(tmp_path, gateway.base_url)
    runtime = await Runtime.open(settings, clock=FakeClock(), synchronous="NORMAL", control=False)
    try:
        with pytest.raises(InvalidParameters) as refused:
            await runtime.service.submit(SETTINGS_TASK, data)
        assert refused.value.field == field
    finally:
        await runtime.close()
