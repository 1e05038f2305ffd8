"""Builders for dashboard tests: the real demo runtime, a sample-type engine, and a wait helper."""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.engine.sample_types import Recorder, sample_registry
from tui_updater.config import EngineSettings, Settings
from tui_updater.core.models import BackupInfo
from tui_updater.core.service import ServiceInfo
from tui_updater.engine.engine import Engine
from tui_updater.engine.service import LocalService
from tui_updater.runtime import Runtime
from tui_updater.store.sqlite import SqliteTaskStore

SIZE = (120, 40)


@pytest.fixture(autouse=True)
def _thaw_heap() -> Iterator[None]:
    """A dashboard freezes the heap it built (``core.heap.settle_heap``): one test's app must not stay
    out of the collector's reach for the rest of the session."""
    yield
    gc.unfreeze()


def demo_settings(root: Path) -> Settings:
    """Settings on a fresh demo database under ``root`` with the offline provider."""
    data = root / "data"
    return Settings.for_tests(root, demo=True, db_path=data / "demo" / "dev.db", data_dir=data)


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    rt = await Runtime.open(demo_settings(tmp_path))
    yield rt
    await rt.close()


class FakeBackups:
    """Two backups in memory; restore records the name."""

    def __init__(self) -> None:
        self.restored: list[str] = []

    def list(self) -> list[BackupInfo]:
        return [BackupInfo("dev-backup-1.db", "/b/dev-backup-1.db", 1_700_000_000_000, 4096, "dev")]

    async def restore(self, name: str, db_path: Path) -> dict[str, Any]:
        self.restored.append(name)
        return {"restored": name, "safetyBackup": None, "integrity": "ok"}


class FakeSummary:
    async def summary(self) -> dict[str, Any]:
        return {
            "table": "Character",
            "total": 3,
            "missing": {"avatar": 2},
            "mbtiDistribution": {"INTJ": 1},
        }


@pytest.fixture
async def sample_service(tmp_path: Path) -> AsyncIterator[tuple[LocalService, Recorder]]:
    """A LocalService over the real engine with the test-only SAMPLE type."""
    store = SqliteTaskStore(tmp_path / "tasks.db", synchronous="NORMAL")
    await store.open()
    recorder = Recorder()
    settings = EngineSettings(
        item_max_attempts=1, task_max_attempts=1, retry_base_delay_s=0.01, retry_max_delay_s=0.02
    )
    engine = Engine(store, sample_registry(recorder), None, settings)
    info = ServiceInfo("/data/dev.db", False, "offline", False, "offline", "offline", "0.0-test")
    service = LocalService(
        engine, info, backups=FakeBackups(), characters=FakeSummary(), db_path=tmp_path / "dev.db"
    )
    await engine.start()
    yield service, recorder
    await engine.stop()
    await store.close()


async def wait_for(
    pilot: Any, predicate: Callable[[], bool], *, timeout_s: float = 10.0, what: str = "condition"
) -> None:
    """Let the app run until ``predicate()`` holds (fails the test after ``timeout_s``)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.05)


def text_of(widget: Any) -> str:
    """The plain text a Static shows (markup, Rich Text, tables and groups alike)."""
    import io

    from rich.console import Console

    content = widget.content
    if isinstance(content, str):
        from rich.text import Text

        content = Text.from_markup(content)
    console = Console(width=200, file=io.StringIO(), record=True, color_system=None)
    console.print(content)
    return console.export_text()


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Log lines show local clock time: pin the zone so snapshots match everywhere."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()
