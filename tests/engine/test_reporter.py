"""Progress reporting: throttled progress is merged, never lost, and always precedes the end."""

from __future__ import annotations

from typing import Any

import pytest

from tests.engine.sample_types import Recorder
from tui_updater.core.events import Event, EventType
from tui_updater.core.models import ItemCounts
from tui_updater.engine.bus import EventBus
from tui_updater.engine.clock import FakeClock
from tui_updater.engine.reporter import Reporter
from tui_updater.store.sqlite import SqliteTaskStore


def story(events: list[Event], task_id: str) -> list[tuple[str, float | None]]:
    return [
        (e.type.value, e.progress)
        for e in events
        if e.task_id == task_id and e.type is not EventType.LOG
    ]


@pytest.mark.parametrize(
    ("params", "terminal"),
    [
        ({"count": 3, "batchSize": 3, "concurrency": 1}, "task_completed"),  # the README's task
        ({"count": 3, "batchSize": 3, "concurrency": 3}, "task_completed"),
        ({"count": 1, "batchSize": 1, "concurrency": 1}, "task_completed"),
        ({"count": 5, "batchSize": 2, "concurrency": 2}, "task_completed"),
        ({"count": 3, "batchSize": 3, "permanent": ["k1"]}, "task_failed"),
        ({"count": 1, "permanent": ["k0"]}, "task_failed"),
    ],
)
async def test_every_task_reports_its_final_progress_before_its_terminal_event(
    make_engine: Any, recorder: Recorder, params: dict[str, Any], terminal: str
) -> None:
    engine = make_engine()
    sub = engine.bus.subscribe()
    await engine.start()
    task = await engine.submit("SAMPLE", params)
    await engine.wait(task.task_id)
    events = story(sub.drain(), task.task_id)
    await engine.stop()
    kinds = [kind for kind, _ in events]
    assert kinds[:2] == ["task_created", "task_started"] and kinds[-1] == terminal
    assert events[-2] == ("task_progress", 100.0), events
    assert set(kinds[2:-1]) == {"task_progress"}


async def test_a_waiting_progress_is_merged_and_published_before_the_terminal_event(
    make_engine: Any, store: SqliteTaskStore
) -> None:
    engine = make_engine()
    await engine.start()
    await engine.pause()
    task = await engine.submit("SAMPLE", {"count": 4})  # a real record; it never runs
    bus = EventBus()
    sub = bus.subscribe()
    clock = FakeClock()  # time stands still: every progress after the first is throttled
    reporter = Reporter(bus, store, clock, is_running=lambda task_id: True, spawn=lambda c: None)

    def at(done: int) -> Any:
        counts = ItemCounts(total=4, done=done)
        return task.evolve(counts=counts, progress=counts.progress())

    reporter.progress(at(1))  # published at once
    reporter.progress(at(2))  # waits for its turn…
    reporter.progress(at(3))  # …and is replaced by the newer one
    assert [e.progress for e in sub.drain()] == [25.0]
    reporter.terminal(EventType.TASK_CANCELLED, at(3))
    assert [(e.type.value, e.progress) for e in sub.drain()] == [
        ("task_progress", 75.0),
        ("task_cancelled", 75.0),
    ]
    reporter.progress(at(1))
    assert [e.progress for e in sub.drain()] == [25.0]
    reporter.progress(at(4))  # every item finished: not held back by the throttle
    assert [e.progress for e in sub.drain()] == [100.0]
    await reporter.stop()
    await engine.stop()


async def test_with_nobody_subscribed_no_event_is_built_yet_logs_are_stored(
    make_engine: Any, store: SqliteTaskStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[EventType] = []
    real_publish = EventBus.publish

    def publish(bus: EventBus, event: Event) -> None:
        built.append(event.type)
        real_publish(bus, event)

    monkeypatch.setattr(EventBus, "publish", publish)
    engine = make_engine()
    await engine.start()
    assert not engine.bus.wanted
    unseen = await engine.submit("SAMPLE", {"count": 2})
    await engine.wait(unseen.task_id)
    assert built == []
    await engine.flush_logs()
    assert any("task completed" in log.message for log in await store.task_logs(unseen.task_id))

    sub = engine.bus.subscribe()  # from now on every event is built and delivered
    assert engine.bus.wanted
    seen = await engine.submit("SAMPLE", {"count": 2})
    await engine.wait(seen.task_id)
    kinds = [kind for kind, _ in story(sub.drain(), seen.task_id)]
    assert kinds[0] == "task_created" and kinds[-1] == "task_completed"
    assert EventType.LOG in built
    sub.close()
    assert not engine.bus.wanted
    await engine.stop()
