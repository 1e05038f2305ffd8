"""Snapshot of the review screen at 80×24 (fixed data and clock): proposals in every state,
one marked, the highlighted one's word diff with the site's own edit flagged."""

from __future__ import annotations

from typing import Any

import pytest

from tests.tui.conftest import wait_for
from tests.tui.fake_service import T0_MS, FakeService, fixed_clock
from tui_updater.core.models import ItemCounts, Priority, TaskRecord, TaskStatus
from tui_updater.core.proposals import ProposalStatus, ProposalView
from tui_updater.tui.app import TavernApp
from tui_updater.tui.screens.review import ReviewScreen

NARROW = (80, 24)
TASK = TaskRecord(
    "task_1767229300000_0000000004", "CHARACTER_SETTINGS", Priority.NORMAL, TaskStatus.COMPLETED,
    {"updateFields": ["scenario"], "overwrite": True, "review": True}, T0_MS + 900_000,
    progress=100.0, message="completed; 3 proposal(s) wait", started_at_ms=T0_MS + 901_000,
    finished_at_ms=T0_MS + 930_000, counts=ItemCounts(4, 4, 0, 0),
)  # fmt: skip

pytestmark = pytest.mark.usefixtures("utc")  # tests/tui/conftest.py


def proposal(number: int, name: str, old: str, new: str, **extra: Any) -> ProposalView:
    return ProposalView(
        task_id=TASK.task_id,
        item_key=f"c00{number}",
        character_id=f"c00{number}",
        label=name,
        changes={"scenario": [old, new]},
        proposal_id=number,
        current={"scenario": extra.pop("current", old)},
        **extra,
    )


def review_app() -> TavernApp:
    service = FakeService([TASK])
    service.proposals.seed(
        TASK,
        [
            proposal(1, "Aria Moonfall", "", "A quiet harbour town at dusk.",
                     status=ProposalStatus.ACCEPTED),
            proposal(2, "Bram Ironhand", "A forge in the mountains.",
                     "A roaring forge high in the northern mountains, where Bram works alone.",
                     current="A forge in the mountains, rebuilt by the villagers."),
            proposal(3, "Cass Vell", "", "The night market of a floating city.", edited=True),
            proposal(4, "Dov Ashgrove", "An old library.", "An old library that hides a gate.",
                     status=ProposalStatus.REJECTED),
        ],
    )  # fmt: skip
    return TavernApp(service, clock=fixed_clock)


def test_review_screen(snap_compare: Any) -> None:
    async def open_review(pilot: Any) -> None:
        app = pilot.app
        await wait_for(pilot, lambda: app.table.row_count == 1, what="task shown")
        task = app.task_records[TASK.task_id]
        app.push_screen(ReviewScreen(app.service, task))
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, ReviewScreen) and len(app.screen.proposals) == 4,
            what="review",
        )
        await pilot.press("down", "down", "space", "up", "up")  # mark the third, show the second
        await pilot.pause(0.1)

    assert snap_compare(review_app(), terminal_size=NARROW, run_before=open_review)
