"""Schedules through the whole runtime: a watch rule on a manual clock, real SQLite files, the
offline provider; the rule survives a restart and a missed run runs once."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tui_updater.characters.demo import create_demo_db
from tui_updater.config import Settings
from tui_updater.core.models import TaskStatus
from tui_updater.core.schedules import ScheduleRecord
from tui_updater.engine.clock import ManualClock
from tui_updater.engine.schedules import Scheduler
from tui_updater.errors import InvalidParameters, ScheduleNotFound
from tui_updater.runtime import Runtime

AVATAR_RULE = {"type": "CHARACTER_AVATAR", "name": "avatars for new characters", "everyMinutes": 1}


def site_without_work(tmp_path: Path) -> Settings:
    """The demo site with every avatar filled: a watch rule has nothing to do until a new
    character arrives."""
    db = create_demo_db(tmp_path / "dev.db")
    conn = sqlite3.connect(db)
    with conn:
        conn.execute(
            """UPDATE "Character" SET avatar = '/uploads/old.png', "avatarStatus" = 'COMPLETED'"""
        )
    conn.close()
    return Settings.for_tests(tmp_path, db_path=db)


def add_characters(db: Path, *names: str) -> list[str]:
    conn = sqlite3.connect(db)
    ids = []
    with conn:
        user = conn.execute('SELECT "userId" FROM "Character" LIMIT 1').fetchone()[0]
        for name in names:
            cid = f"new{name.lower()}0000000000000000"[:25]
            conn.execute(
                'INSERT INTO "Character" (id, "userId", name, description, updated_at) '
                "VALUES (?, ?, ?, ?, ?)",
                (cid, user, name, f"{name} arrives in town.", 1717286400000),
            )
            ids.append(cid)
    conn.close()
    return ids


def avatars(db: Path, ids: list[str]) -> dict[str, str | None]:
    conn = sqlite3.connect(db)
    try:
        marks = ",".join("?" * len(ids))
        rows = conn.execute(f'SELECT id, avatar FROM "Character" WHERE id IN ({marks})', ids)
        return dict(rows.fetchall())
    finally:
        conn.close()


def scheduler_of(runtime: Runtime) -> Scheduler:
    assert runtime.scheduler is not None
    return runtime.scheduler


async def added(runtime: Runtime, body: dict[str, object]) -> ScheduleRecord:
    """Add a schedule once the scheduler's start-up check is done, and wait for the check the
    addition wakes it for."""
    scheduler = scheduler_of(runtime)
    await scheduler.wait_cycle(0)
    before = scheduler.cycles
    schedule = await runtime.service.add_schedule(body)
    await scheduler.wait_cycle(before)
    await runtime.engine.wait_idle()
    return schedule


async def period(runtime: Runtime, clock: ManualClock, seconds: float = 60) -> None:
    """Let ``seconds`` pass, wait for the scheduler's check, then for any task it created."""
    scheduler = scheduler_of(runtime)
    before = scheduler.cycles
    clock.advance(seconds)
    await scheduler.wait_cycle(before)
    await runtime.engine.wait_idle()


async def test_watch_rule_fills_new_characters_and_survives_a_restart(tmp_path: Path):
    settings = site_without_work(tmp_path)
    clock = ManualClock()
    runtime = await Runtime.open(settings, clock=clock, synchronous="NORMAL", control=False)
    try:
        service = runtime.service
        rule = await added(runtime, AVATAR_RULE)
        assert rule.next_run_ms == clock.wall_ms()  # a watch rule looks at once
        for _ in range(3):  # nothing to do: no task, however often it looks
            await period(runtime, clock)
        assert await service.count_tasks() == 0
        (checked,) = await service.list_schedules()
        assert checked.message == "nothing to do"
        assert checked.last_run_ms is not None and checked.tasks_created == 0

        first = add_characters(settings.db_path, "Aria", "Bram")
        clock.advance(30)  # half a period: not due yet
        assert await service.count_tasks() == 0
        await period(runtime, clock, 30)
        assert all(
            value and "-avatar" in value for value in avatars(settings.db_path, first).values()
        )
        (task,) = await service.list_tasks()
        assert task.status is TaskStatus.COMPLETED and task.counts.done == 2
        await period(runtime, clock)  # their avatars are there now: nothing more to do
        assert await service.count_tasks() == 1
        (after,) = await service.list_schedules()
        assert after.tasks_created == 1 and after.last_task_id == task.task_id
        assert list(after.created_tasks) == [task.task_id]
    finally:
        await runtime.close()

    clock.advance(5 * 60)  # five periods pass while no engine runs
    later = add_characters(settings.db_path, "Cato")
    runtime = await Runtime.open(settings, clock=clock, synchronous="NORMAL", control=False)
    try:
        scheduler = scheduler_of(runtime)
        await scheduler.wait_cycle(0)  # the check on start: the missed run, once
        await runtime.engine.wait_idle()
        assert avatars(settings.db_path, later)[later[0]]
        assert await runtime.service.count_tasks() == 2  # one for the missed slots, not five
        (rule,) = await runtime.service.list_schedules()
        assert rule.tasks_created == 2 and rule.next_run_ms == clock.wall_ms() + 60_000
    finally:
        await runtime.close()


async def test_no_second_task_while_the_previous_one_is_unfinished(tmp_path: Path):
    settings = site_without_work(tmp_path)
    clock = ManualClock()
    runtime = await Runtime.open(settings, clock=clock, synchronous="NORMAL", control=False)
    try:
        await runtime.service.pause()  # the first task stays PENDING
        await added(runtime, AVATAR_RULE)
        add_characters(settings.db_path, "Dara")
        scheduler = scheduler_of(runtime)
        before = scheduler.cycles
        clock.advance(60)
        await scheduler.wait_cycle(before)
        assert await runtime.service.count_tasks() == 1
        before = scheduler.cycles
        clock.advance(60)
        await scheduler.wait_cycle(before)
        assert await runtime.service.count_tasks() == 1
        (rule,) = await runtime.service.list_schedules()
        assert "has not finished" in rule.message
        await runtime.service.resume()
        await runtime.engine.wait_idle()
    finally:
        await runtime.close()


async def test_disable_enable_remove(tmp_path: Path):
    settings = site_without_work(tmp_path)
    clock = ManualClock()
    runtime = await Runtime.open(settings, clock=clock, synchronous="NORMAL", control=False)
    try:
        service = runtime.service
        rule = await added(runtime, {**AVATAR_RULE, "enabled": False})
        add_characters(settings.db_path, "Eve")
        clock.advance(60)  # nothing sleeps on the clock: a disabled rule is never due
        assert await service.count_tasks() == 0
        scheduler = scheduler_of(runtime)
        before = scheduler.cycles
        enabled = await service.update_schedule(rule.schedule_id, {"enabled": True})
        assert enabled.enabled
        await scheduler.wait_cycle(before)  # enabling a watch rule looks at once
        await runtime.engine.wait_idle()
        assert await service.count_tasks() == 1
        cron = await service.update_schedule(rule.schedule_id, {"cron": "0 3 * * *"})
        assert cron.every_minutes is None and cron.cron == "0 3 * * *"
        assert cron.next_run_ms is not None and cron.next_run_ms % 86_400_000 == 3 * 3_600_000
        await service.remove_schedule(rule.schedule_id)
        assert await service.list_schedules() == []
        with pytest.raises(ScheduleNotFound):
            await service.remove_schedule(rule.schedule_id)
    finally:
        await runtime.close()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "CHARACTER_AVATAR", "cron": "61 * * * *"}, "cron"),
        ({"type": "CHARACTER_AVATAR", "cron": "not cron"}, "cron"),
        ({"type": "NO_SUCH_TYPE", "everyMinutes": 5}, "type"),
        ({"type": "CHARACTER_AVATAR", "everyMinutes": 5, "maxTokens": -5}, "maxTokens"),
        ({"type": "CHARACTER_AVATAR", "everyMinutes": 0}, "everyMinutes"),
        ({"type": "CHARACTER_AVATAR"}, "cron"),
        ({"type": "CHARACTER_AVATAR", "everyMinutes": 5, "data": {"size": "big"}}, "data.size"),
        (
            {"type": "CHARACTER_AVATAR", "everyMinutes": 5, "data": {"maxTokens": -1}},
            "data.maxTokens",
        ),
        ({"type": "CHARACTER_AVATAR", "everyMinutes": 5, "colour": "red"}, "colour"),
    ],
)
async def test_bad_schedules_are_refused_naming_the_field(
    tmp_path: Path, body: dict[str, object], field: str
):
    settings = site_without_work(tmp_path)
    runtime = await Runtime.open(settings, clock=ManualClock(), synchronous="NORMAL", control=False)
    try:
        with pytest.raises(InvalidParameters) as refused:
            await runtime.service.add_schedule(body)
        assert refused.value.field == field
        assert await runtime.service.list_schedules() == []
    finally:
        await runtime.close()
