from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.characters.memjournal import InMemoryJournal
from tui_updater.characters.db import CharacterDb
from tui_updater.characters.demo import create_demo_db
from tui_updater.config import CharacterSettings


class FakeClock:
    def __init__(self, now_ms: int = 1_750_000_000_123) -> None:
        self.now_ms = now_ms

    def __call__(self) -> int:
        return self.now_ms


@pytest.fixture
def journal() -> InMemoryJournal:
    return InMemoryJournal()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def demo_path(tmp_path: Path) -> Path:
    return create_demo_db(tmp_path / "dev.db")


@pytest.fixture
async def demo(
    demo_path: Path, journal: InMemoryJournal, clock: FakeClock
) -> AsyncIterator[CharacterDb]:
    db = await CharacterDb.open(demo_path, CharacterSettings(), journal, clock=clock)
    yield db
    await db.close()
