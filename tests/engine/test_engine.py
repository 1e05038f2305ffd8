"""Engine semantics against a real tasks.db: order, limits, progress, events, retries, cancel."""

from __future__ import annotations

import asyncio
import random

import pytest

from tests.engine.sample_types import Recorder
from tui_updater.core.events import Event, EventType
from tui_updater.core.models import ItemStatus, TaskStatus, now_ms
from tui_updater.engine.bus import BusSubscription
from tui_updater.engine.clock import FakeClock
from tui_updater.errors import InvalidParameters, TaskNotFound, TaskStateError, UnknownTaskType


class MaxRandom(random.Random):
    """Full jitter at its ceiling, so the backoff schedule is visible."""

    def uniform(self, a: float, b: float) -> float:
        return b


def task_events(events: list[Event], task_id: str) -> list[str]:
    return [e.type.value for e in events if e.task_id == task_id and e.type is not EventType.LOG]


async def drain_all(sub: BusSubscription) -> list[Event]:
    await asyncio.sleep(0)
    return sub.drain()


async def test_strict_priority_then_fifo(make_engine, recorder: Recorder):
    engine = make_engine(max_running_tasks=1)
    await engine.start()
    await engine.pause()
    submitted = {}
    for label, priority in [
        ("a", "LOW"),
        ("b", "normal"),
        ("c", 4),
        ("d", "2"),
        ("e", "HIGH"),
        ("f", "URGENT"),
    ]:
        task = await engine.submit("SAMPLE", {"count": 1, "label": label}, priority)
        submitted[task.task_id] = label
    assert recorder.started == []
    await engine.resume()
    await engine.wait_idle()
    assert [submitted[t] for t in recorder.started] == ["c", "f", "e", "b", "d", "a"]
    await engine.stop()


async def test_global_and_per_task_limits_never_exceeded(make_engine, recorder: Recorder):
    engine = make_engine(max_running_tasks=2)
    sub = engine.bus.subscribe()
    await engine.start()
    ids = [
        (await engine.submit("SAMPLE", {"count": 8, "concurrency": 3, "sleep_s": 0.01})).task_id
        for _ in range(5)
    ]
    await engine.wait_idle()
    running, max_running = set(), 0
    for event in sub.drain():
        if event.type is EventType.TASK_STARTED:
            running.add(event.task_id)
            max_running = max(max_running, len(running))
        elif event.type.terminal:
            running.discard(event.task_id)
    assert max_running == 2
    assert all(recorder.max_in_flight_by_task[t] == 3 for t in ids)
    assert recorder.max_in_flight <= 2 * 3
    await engine.stop()


async def test_progress_equals_done_over_total_and_event_order(make_engine):
    engine = make_engine()
    sub = engine.bus.subscribe()
    await engine.start()
    task = await engine.submit(
        "SAMPLE", {"count": 7, "batchSize": 2, "concurrency": 2, "sleep_s": 0.001}
    )
    done = await engine.wait(task.task_id)
    events = await drain_all(sub)
    kinds = task_events(events, task.task_id)
    assert (
        kinds[0] == "task_created" and kinds[1] == "task_started" and kinds[-1] == "task_completed"
    )
    assert set(kinds[2:-1]) <= {"task_progress"}
    for event in events:
        if event.task_id == task.task_id and event.task_json() is not None:
            items = event.task_json()["items"]  # type: ignore[index]
            finished = items["done"] + items["failed"] + items["skipped"]
            expected = round(100 * finished / items["total"], 1) if items["total"] else 0.0
            if event.type is EventType.TASK_PROGRESS:
                assert event.progress == expected
    assert done.status is TaskStatus.COMPLETED
    assert (done.counts.total, done.counts.done, done.progress) == (7, 7, 100.0)
    await engine.stop()


async def test_transient_failures_back_off_exponentially(store, recorder, clock: FakeClock):
    from tests.engine.sample_types import sample_registry
    from tui_updater.config import EngineSettings
    from tui_updater.engine.engine import Engine

    engine = Engine(
        store,
        sample_registry(recorder),
        None,
        EngineSettings(retry_base_delay_s=1.0, retry_max_delay_s=60.0, item_max_attempts=5),
        clock=clock,
        rng=MaxRandom(),
    )
    await engine.start()
    task = await engine.submit("SAMPLE", {"count": 1, "transient_failures": {"k0": 3}})
    done = await engine.wait(task.task_id)
    assert done.status is TaskStatus.COMPLETED
    assert clock.sleeps == [1.0, 2.0, 4.0]
    assert recorder.attempts[(task.task_id, "k0")] == 4
    await engine.stop()


async def test_retry_after_is_honoured(make_engine, recorder, clock: FakeClock):
    engine = make_engine()
    await engine.start()
    task = await engine.submit(
        "SAMPLE", {"count": 1, "transient_failures": {"k0": 2}, "retry_after_s": 7.5}
    )
    await engine.wait(task.task_id)
    assert clock.sleeps == [7.5, 7.5]
    await engine.stop()


async def test_permanent_failure_is_not_retried(make_engine, recorder, clock: FakeClock):
    engine = make_engine(task_max_attempts=3)
    await engine.start()
    task = await engine.submit("SAMPLE", {"count": 2, "permanent": ["k1"]})
    done = await engine.wait(task.task_id)
    assert done.status is TaskStatus.FAILED
    assert done.attempt == 1
    assert recorder.attempts[(task.task_id, "k1")] == 1
    assert clock.sleeps == []
    items = {i.key: i for i in await engine.store.list_items(task.task_id)}
    assert items["k1"].status is ItemStatus.FAILED and "k1 is broken" in (items["k1"].error or "")
    await engine.stop()


async def test_auto_retry_reruns_only_failed_items(make_engine, recorder):
    engine = make_engine(item_max_attempts=2, task_max_attempts=3)
    sub = engine.bus.subscribe()
    await engine.start()
    task = await engine.submit("SAMPLE", {"count": 4, "transient_failures": {"k2": 3}})
    done = await engine.wait(task.task_id)
    assert done.status is TaskStatus.COMPLETED
    assert done.attempt == 2
    obtained = [key for tid, key in recorder.obtained if tid == task.task_id]
    assert sorted(obtained) == ["k0", "k1", "k2", "k3"]  # each obtained once: only k2 reran
    applied = [key for tid, key in recorder.applied if tid == task.task_id]
    assert sorted(applied) == ["k0", "k1", "k2", "k3"]
    assert "task_retrying" in task_events(sub.drain(), task.task_id)
    await engine.stop()


async def test_manual_retry_of_a_failed_task(make_engine, recorder):
    engine = make_engine(task_max_attempts=1)
    await engine.start()
    task = await engine.submit("SAMPLE", {"count": 3, "permanent": ["k0"]})
    assert (await engine.wait(task.task_id)).status is TaskStatus.FAILED
    with pytest.raises(TaskStateError):
        await engine.cancel(task.task_id)
    retried = await engine.retry(task.task_id)
    assert retried.status is TaskStatus.PENDING and retried.attempt == 2
    again = await engine.wait(task.task_id)
    assert again.status is TaskStatus.FAILED  # still broken, and only k0 ran again
    assert recorder.attempts[(task.task_id, "k0")] == 2
    assert recorder.attempts[(task.task_id, "k1")] == 1
    await engine.stop()


async def test_cancel_stops_in_flight_work_with_no_later_side_effect(make_engine, recorder):
    engine = make_engine()
    await engine.start()
    task = await engine.submit(
        "SAMPLE", {"count": 6, "concurrency": 2, "batchSize": 1, "sleep_s": 30}
    )
    while recorder.in_flight < 2:
        await asyncio.sleep(0.005)
    cancelled = await engine.cancel(task.task_id)
    assert cancelled.status is TaskStatus.CANCELLED
    assert len(recorder.cancelled) == 2
    await asyncio.sleep(0.05)
    assert recorder.applied == [] and recorder.obtained == []
    stored = await engine.store.get_task(task.task_id)
    assert stored is not None and stored.status is TaskStatus.CANCELLED
    await engine.stop()


async def test_pause_holds_new_work_and_resume_releases_it(make_engine, recorder):
    engine = make_engine()
    await engine.start()
    await engine.pause()
    task = await engine.submit("SAMPLE", {"count": 2})
    await asyncio.sleep(0.05)
    assert (
        recorder.started == []
        and (await engine.get_task(task.task_id)).status is TaskStatus.PENDING
    )
    await engine.resume()
    assert (await engine.wait(task.task_id)).status is TaskStatus.COMPLETED
    await engine.stop()


async def test_delete_removes_task_items_and_logs(make_engine):
    engine = make_engine()
    sub = engine.bus.subscribe()
    await engine.start()
    task = await engine.submit("SAMPLE", {"count": 2})
    await engine.wait(task.task_id)
    await engine.delete(task.task_id)
    with pytest.raises(TaskNotFound):
        await engine.get_task(task.task_id)
    assert await engine.store.list_items(task.task_id) == []
    assert task_events(sub.drain(), task.task_id)[-1] == "task_deleted"
    await engine.stop()


async def test_pruning_removes_old_finished_tasks(store, make_engine):
    engine = make_engine(retention_days=30)
    await engine.start()
    old = await engine.submit("SAMPLE", {"count": 1})
    fresh = await engine.submit("SAMPLE", {"count": 1})
    await engine.wait_idle()
    finished = await engine.get_task(old.task_id)
    await store.save(tasks=[finished.evolve(finished_at_ms=now_ms() - 31 * 86_400_000)])
    await engine.stop()
    again = make_engine(retention_days=30)
    await again.start()
    ids = {t.task_id for t in await store.list_tasks()}
    assert old.task_id not in ids and fresh.task_id in ids
    await again.stop()


async def test_bad_input_is_refused_naming_the_field(make_engine):
    engine = make_engine()
    await engine.start()
    with pytest.raises(UnknownTaskType) as unknown:
        await engine.submit("NOPE", {})
    assert "SAMPLE" in str(unknown.value)
    with pytest.raises(InvalidParameters) as extra:
        await engine.submit("SAMPLE", {"bogus": 1})
    assert extra.value.field == "bogus"
    with pytest.raises(InvalidParameters) as ranged:
        await engine.submit("SAMPLE", {"count": -1})
    assert ranged.value.field == "count"
    with pytest.raises(InvalidParameters) as priority:
        await engine.submit("SAMPLE", {}, "SOON")
    assert priority.value.field == "priority"
    assert await engine.store.list_tasks() == []
    await engine.stop()


async def test_stop_interrupts_and_next_start_resumes(store, recorder, clock):
    from tests.engine.sample_types import sample_registry
    from tui_updater.config import EngineSettings
    from tui_updater.engine.engine import Engine

    first = Engine(store, sample_registry(recorder), None, EngineSettings(), clock=clock)
    await first.start()
    task = await first.submit(
        "SAMPLE", {"count": 4, "concurrency": 1, "batchSize": 1, "sleep_s": 0.02}
    )
    while len(recorder.applied) < 1:
        await asyncio.sleep(0.005)
    await first.stop()
    assert (await store.get_task(task.task_id)).status is TaskStatus.PENDING  # type: ignore[union-attr]
    applied_before = list(recorder.applied)
    second = Engine(store, sample_registry(recorder), None, EngineSettings(), clock=clock)
    await second.start()
    done = await second.wait(task.task_id)
    assert done.status is TaskStatus.COMPLETED
    keys = [key for _, key in recorder.applied]
    assert sorted(keys) == ["k0", "k1", "k2", "k3"]  # each applied once across both runs
    assert applied_before == recorder.applied[: len(applied_before)]
    await second.stop()


async def test_a_bug_in_a_task_type_fails_the_task_readably(make_engine):
    engine = make_engine()
    await engine.start()
    task = await engine.submit(
        "SAMPLE", {"count": 5, "concurrency": 2, "sleep_s": 0.001, "crash": ["k2"]}
    )
    done = await engine.wait(task.task_id)
    assert done.status is TaskStatus.FAILED
    assert done.error == "RuntimeError: bug while handling k2"
    follow_up = await engine.submit("SAMPLE", {"count": 1})
    assert (
        await engine.wait(follow_up.task_id)
    ).status is TaskStatus.COMPLETED  # the engine goes on
    await engine.stop()


async def test_a_pause_outlives_a_restart(store, make_engine, recorder):
    first = make_engine()
    await first.start()
    await first.pause()
    await first.stop()
    second = make_engine()
    await second.start()
    assert second.paused
    task = await second.submit("SAMPLE", {"count": 1})
    await asyncio.sleep(0.02)
    assert recorder.started == []
    await second.resume()
    assert (await second.wait(task.task_id)).status is TaskStatus.COMPLETED
    await second.stop()
    third = make_engine()
    await third.start()
    assert not third.paused
    await third.stop()


async def test_progress_reports_the_item_count_before_the_first_batch(make_engine):
    engine = make_engine()
    sub = engine.bus.subscribe()
    await engine.start()
    task = await engine.submit(
        "SAMPLE", {"count": 5, "batchSize": 5, "concurrency": 1, "sleep_s": 0.05}
    )
    seen_total = 0
    for _ in range(100):
        for event in sub.drain():
            record = event.task_record()
            if (
                event.task_id == task.task_id
                and record is not None
                and record.status is TaskStatus.RUNNING
            ):
                seen_total = max(seen_total, record.counts.total)
        if seen_total:
            break
        await asyncio.sleep(0.01)
    assert seen_total == 5
    assert (await engine.get_task(task.task_id)).counts.done < 5  # seen while the first batch ran
    await engine.cancel(task.task_id)
    await engine.stop()


async def test_task_failed_names_the_cause_of_one_failure(make_engine):
    engine = make_engine(task_max_attempts=1)
    sub = engine.bus.subscribe()
    await engine.start()
    task = await engine.submit("SAMPLE", {"count": 3, "permanent": ["k1"]})
    done = await engine.wait(task.task_id)
    assert done.status is TaskStatus.FAILED and done.error == "k1 is broken"
    failed = [e for e in sub.drain() if e.type is EventType.TASK_FAILED]
    assert [e.error for e in failed] == ["k1 is broken"]
    assert (await engine.store.get_task(task.task_id)).error == "k1 is broken"  # type: ignore[union-attr]
    await engine.stop()


async def test_task_failed_counts_several_failures_and_names_the_first(make_engine):
    engine = make_engine(task_max_attempts=1)
    await engine.start()
    task = await engine.submit("SAMPLE", {"count": 4, "permanent": ["k3", "k1"], "concurrency": 1})
    done = await engine.wait(task.task_id)
    assert done.error == "2 of 4 items failed; first: item 1: k1 is broken"
    await engine.stop()


async def test_spend_is_live_in_progress_and_sums_across_attempts(make_engine):
    engine = make_engine(task_max_attempts=1)
    sub = engine.bus.subscribe()
    await engine.start()
    params = {"count": 6, "batchSize": 2, "concurrency": 1, "tokens": 10, "permanent": ["k5"]}
    task = await engine.submit("SAMPLE", params)
    first = await engine.wait(task.task_id)
    spent = [
        event.task_record().usage.prompt_tokens  # type: ignore[union-attr]
        for event in await drain_all(sub)
        if event.task_id == task.task_id and event.type is EventType.TASK_PROGRESS
    ]
    # Each batch's progress carries what was spent so far, before the task ends.
    assert spent[0] >= 20 and spent == sorted(spent) and spent[-1] == 50
    assert (first.usage.prompt_tokens, first.usage.requests) == (50, 5)
    await engine.retry(task.task_id)  # only k5 runs again (and fails again): 0 tokens more
    again = await engine.wait(task.task_id)
    assert (again.usage.prompt_tokens, again.usage.requests) == (50, 5)
    await engine.stop()
