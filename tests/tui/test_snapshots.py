"""Snapshots of the main screen, form, detail, characters, backups and help (fixed data and clock)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.tui.fake_service import FakeService, fixed_clock
from tui_updater.tui.app import TavernApp
from tui_updater.tui.screens.form import TaskForm

SIZE = (120, 40)


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Log lines show local clock time: pin the zone so snapshots match everywhere."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def make_app() -> TavernApp:
    return TavernApp(FakeService(), clock=fixed_clock)


async def settle(pilot: Any) -> None:
    await pilot.pause(0.5)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause(0.1)


def test_main_screen(snap_compare: Any) -> None:
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=settle)


def test_task_form(snap_compare: Any) -> None:
    async def open_form(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press("s")
        await pilot.pause(0.6)
        assert isinstance(pilot.app.screen, TaskForm)
        await pilot.app.screen.workers.wait_for_complete()
        await pilot.pause(0.1)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=open_form)


def test_task_detail(snap_compare: Any) -> None:
    async def open_detail(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press("down", "down", "enter")
        await pilot.pause(0.3)
        await pilot.app.screen.workers.wait_for_complete()
        await pilot.pause(0.1)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=open_detail)


def test_characters_screen(snap_compare: Any) -> None:
    async def open_characters(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press("c")
        await pilot.pause(0.2)
        await pilot.app.screen.workers.wait_for_complete()

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=open_characters)


def test_backups_screen(snap_compare: Any) -> None:
    async def open_backups(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press("b")
        await pilot.pause(0.2)
        await pilot.app.screen.workers.wait_for_complete()

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=open_backups)


def test_help_screen(snap_compare: Any) -> None:
    assert snap_compare(make_app(), terminal_size=SIZE, press=["question_mark"], run_before=settle)
