"""Proposals are durable: they outlive the engine, and a crash between storing a batch's
proposals and its outcomes stores them once."""

from __future__ import annotations

from pathlib import Path

from tests.proposals.conftest import finished_review_task, first_ids, site_rows, site_value
from tests.server.conftest import demo_settings
from tui_updater.core.proposals import ProposalRecord
from tui_updater.runtime import Runtime
from tui_updater.store.sqlite import SqliteTaskStore


async def test_pending_proposals_survive_a_restart_and_can_be_accepted_after_it(
    tmp_path: Path,
) -> None:
    settings = demo_settings(tmp_path)
    runtime = await Runtime.open(settings, synchronous="NORMAL")
    try:
        ids = first_ids(settings.db_path, 3)
        before = site_rows(settings.db_path)
        task = await finished_review_task(runtime, ids)
        made = await runtime.service.list_proposals(task.task_id)
    finally:
        await runtime.close()

    runtime = await Runtime.open(settings, synchronous="NORMAL")
    try:
        again = await runtime.service.list_proposals(task.task_id)
        assert [(p.proposal_id, p.changes, p.status) for p in again] == [
            (p.proposal_id, p.changes, p.status) for p in made
        ]
        assert (await runtime.service.get_task(task.task_id)).review_pending == 3
        assert site_rows(settings.db_path) == before
        (accepted,) = await runtime.service.accept_proposals(
            task.task_id, [again[0].proposal_id or 0]
        )
        assert accepted.status == "ACCEPTED"
        assert site_value(settings.db_path, ids[0], "scenario") == again[0].proposed("scenario")
        assert (await runtime.service.get_task(task.task_id)).review_pending == 2
    finally:
        await runtime.close()


async def test_an_items_proposal_is_stored_once(tmp_path: Path) -> None:
    store = SqliteTaskStore(tmp_path / "tasks.db", synchronous="NORMAL")
    await store.open()
    try:
        proposal = ProposalRecord(
            task_id="task_1",
            item_key="7",
            character_id="7",
            label="Ann",
            changes={"scenario": [None, "A"]},
        )
        await store.add_proposals([proposal])
        await store.add_proposals([proposal.evolve(changes={"scenario": [None, "B"]})])
        (kept,) = await store.proposals("task_1")
        assert kept.changes == {"scenario": [None, "A"]} and kept.proposal_id == 1
        assert await store.delete_task("task_1") is False
        assert await store.proposals("task_1") == []
    finally:
        await store.close()
