"""TaskSlot: every legal transition lands where the table says; every other one is refused."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest

from tui_updater.core.models import Priority, TaskRecord, TaskStatus
from tui_updater.engine.lifecycle import TRANSITIONS, IllegalTransition, TaskSlot, TaskState

ARCHITECTURE = Path(__file__).resolve().parents[2] / "docs" / "ARCHITECTURE.md"
RECORD = TaskRecord("t1", "SAMPLE", Priority.NORMAL, TaskStatus.PENDING, {}, 0)


class FakeRun:
    """Stands in for a TaskRun: the slot only reads its record."""

    task = RECORD


def arguments(method: str) -> tuple[Any, ...]:
    """Call arguments for each transition method (the slot stores them, never uses them)."""
    if method == "start":
        return (FakeRun(), None)
    if method == "wait_retry":
        return (RECORD, None)
    if method in ("requeue", "interrupt", "reprioritize"):
        return (RECORD, (-2, 0))
    if method == "finish":
        return (RECORD,)
    return ()


def slot_in(state: TaskState, moves: list[tuple[TaskState, TaskState]]) -> TaskSlot:
    slot = TaskSlot(RECORD, observer=lambda _slot, before, after: moves.append((before, after)))
    slot.state = state  # the state under test, whatever path would lead there
    return slot


METHODS = sorted({method for _, method, _ in TRANSITIONS})
LEGAL = {(before, method): after for before, method, after in TRANSITIONS}


@pytest.mark.parametrize("state", list(TaskState), ids=lambda s: s.name)
@pytest.mark.parametrize("method", METHODS)
async def test_each_transition_is_legal_exactly_where_the_table_says(
    state: TaskState, method: str
) -> None:
    moves: list[tuple[TaskState, TaskState]] = []
    slot = slot_in(state, moves)
    if (state, method) in LEGAL:
        getattr(slot, method)(*arguments(method))
        assert slot.state is LEGAL[state, method]
        assert moves == [(state, LEGAL[state, method])]
    else:
        with pytest.raises(IllegalTransition, match=method):
            getattr(slot, method)(*arguments(method))
        assert slot.state is state and moves == []  # refused: nothing changed


async def test_finishing_releases_waiters_with_the_final_record() -> None:
    slot = slot_in(TaskState.RECORDING, [])
    waiter = asyncio.create_task(slot.wait_finished())
    await asyncio.sleep(0)
    assert not waiter.done()
    final = RECORD.evolve(status=TaskStatus.COMPLETED)
    slot.finish(final)
    await asyncio.wait_for(waiter, 1)
    assert slot.record is final and slot.run is None and slot.task is None


async def test_waiting_on_a_finished_slot_returns_at_once() -> None:
    slot = slot_in(TaskState.RECORDING, [])
    slot.finish(RECORD.evolve(status=TaskStatus.COMPLETED))  # nobody was waiting
    await asyncio.wait_for(slot.wait_finished(), 1)
    assert slot.state is TaskState.FINISHED


async def test_a_slot_with_a_run_reports_the_run_s_record() -> None:
    slot = slot_in(TaskState.QUEUED, [])
    run = FakeRun()
    run.task = RECORD.evolve(status=TaskStatus.RUNNING, progress=40.0)
    slot.start(run, None)  # type: ignore[arg-type]
    assert slot.record.progress == 40.0 and slot.params is None


def test_architecture_doc_shows_the_transition_table() -> None:
    rows = re.findall(r"^\| (\w+) \| `(\w+)` \| (\w+) \|$", ARCHITECTURE.read_text(), re.M)
    assert rows == [(a.name, method, b.name) for a, method, b in TRANSITIONS]
