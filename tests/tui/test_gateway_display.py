"""The gateway lane in the header, hold-back and spend in the task detail (rendering only)."""

from __future__ import annotations

from tui_updater.core.models import Priority, TaskRecord, TaskStatus, TokenUsage
from tui_updater.core.service import QueueStatus, ServiceInfo
from tui_updater.tui.widgets.header import header_text, over_gateway_cap
from tui_updater.tui.widgets.task_summary import (
    Pricing,
    held_back_text,
    progress_text,
    result_renderable,
)

LANE = {
    "inFlight": 14,
    "limit": 32,
    "maxInFlight": 64,
    "waiting": 40,
    "backingOff": True,
    "pausedS": 3.0,
    "pushBacks": 5,
    "requests": 900,
}
INFO = ServiceInfo("/x/dev.db", False, "gw.test", True, "gpt-4o-mini", "nano-banana", "0.1")


def task(status: TaskStatus, **changes: object) -> TaskRecord:
    base = TaskRecord("task_1", "MBTI_ASSIGNMENT", Priority.NORMAL, status, {"concurrency": 64}, 0)
    return base.evolve(**changes)


def test_header_shows_the_lane() -> None:
    status = QueueStatus(False, 0, 1, 2, 1, {}, gateway=LANE)
    plain = header_text(INFO, status, None).plain
    assert "gateway 14/32 in flight (max 64) · 40 waiting · backing off 3s" in plain
    spent = {**LANE, "spent": {"totalTokens": 123_456, "cost": 0.0185}}
    plain = header_text(INFO, QueueStatus(False, 0, 1, 2, 1, {}, gateway=spent), None).plain
    assert "· spent 123.5k tokens ≈ 0.0185" in plain  # live, across every task
    assert "gateway" not in header_text(INFO, QueueStatus(False, 0, 0, 2, 0, {}), None).plain


def test_a_running_task_held_back_by_the_gateway_says_so() -> None:
    text = held_back_text(task(TaskStatus.RUNNING), LANE)
    assert text == (
        "held back by the gateway: 14/32 in flight, 40 waiting (the task asks 64) · backing off 3s"
    )
    assert held_back_text(task(TaskStatus.COMPLETED), LANE) is None
    assert held_back_text(task(TaskStatus.RUNNING), {**LANE, "waiting": 0, "pausedS": 0}) is None
    assert "held back" in progress_text(task(TaskStatus.RUNNING), 0, gateway=LANE).plain


def test_spend_in_the_detail_and_the_result() -> None:
    usage = TokenUsage(prompt_tokens=900_000, completion_tokens=100_000, requests=100)
    pricing = Pricing({"gpt-4o-mini": {"input": 0.15, "output": 0.6}}, "gpt-4o-mini", "nb", {})
    running = task(TaskStatus.RUNNING, usage=usage)
    line = "spent 1,000,000 tokens (900,000 in + 100,000 out) in 100 request(s) · cost 0.1950"
    assert line in progress_text(running, 0, pricing=pricing).plain
    assert "cost" not in progress_text(running, 0).plain  # no price configured: tokens only
    done = task(TaskStatus.COMPLETED, usage=usage, result={"assigned": 3})
    rendered = result_renderable(done, pricing=pricing)
    assert line in "".join(str(part) for part in rendered.renderables)  # type: ignore[attr-defined]


def test_the_form_warns_when_a_task_asks_more_than_the_gateway_cap() -> None:
    assert over_gateway_cap({"concurrency": 100}, LANE) == (
        "concurrency 100 is above the gateway's cap of 64: at most 64 run at once"
    )
    assert over_gateway_cap({"concurrency": 64}, LANE) is None
    assert over_gateway_cap({"concurrency": 100}, None) is None  # offline: no lane
