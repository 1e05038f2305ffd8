from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.engine.sample_types import Recorder, sample_registry
from tui_updater.config import EngineSettings
from tui_updater.engine.clock import FakeClock
from tui_updater.engine.engine import Engine
from tui_updater.store.sqlite import SqliteTaskStore


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteTaskStore]:
    store = SqliteTaskStore(tmp_path / "tasks.db", synchronous="NORMAL")
    await store.open()
    yield store
    await store.close()


@pytest.fixture
def make_engine(store: SqliteTaskStore, recorder: Recorder, clock: FakeClock):
    engines: list[Engine] = []

    def make(**settings: object) -> Engine:
        engine = Engine(
            store, sample_registry(recorder), None, EngineSettings(**settings), clock=clock
        )  # type: ignore[arg-type]
        engines.append(engine)
        return engine

    yield make
