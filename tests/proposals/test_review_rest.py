"""Review mode end to end over REST: a real server on loopback and the --connect client
(RemoteService over httpx). The site's database is compared whole, before and after."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.proposals.conftest import (
    finished_review_task,
    first_ids,
    site_edit,
    site_rows,
    site_value,
)
from tests.server.conftest import app_for
from tui_updater.core.models import TaskStatus
from tui_updater.errors import InvalidParameters, ProposalNotFound, TaskStateError
from tui_updater.runtime import Runtime
from tui_updater.server.client import RemoteService


@pytest.fixture
async def remote(demo_runtime: Runtime, tmp_path: Path, live_server: Any) -> AsyncIterator[Any]:
    server = await live_server(app_for(demo_runtime.service, tmp_path))
    client = RemoteService(f"http://127.0.0.1:{server.port}")
    yield client
    await client.aclose()


async def test_review_task_writes_nothing_until_accept_then_exactly_what_was_accepted(
    demo_runtime: Runtime, remote: RemoteService
) -> None:
    db = demo_runtime.settings.db_path
    ids = first_ids(db, 4)
    before = site_rows(db)
    task = await finished_review_task(demo_runtime, ids)
    assert task.status is TaskStatus.COMPLETED
    assert site_rows(db) == before  # nothing touched the site's database

    seen = await remote.get_task(task.task_id)
    assert seen.review_pending == 4 and seen.to_json()["reviewPending"] == 4
    proposals = await remote.list_proposals(task.task_id)
    assert [p.character_id for p in proposals] == ids
    assert all(p.status == "PENDING" for p in proposals)
    for p in proposals:
        assert p.current == {"scenario": site_value(db, p.character_id, "scenario")}
        assert p.proposed("scenario") != p.expected("scenario")
    first, second, third, fourth = proposals

    (accepted,) = await remote.accept_proposals(task.task_id, [first.proposal_id or 0])
    assert accepted.status == "ACCEPTED"
    assert site_value(db, first.character_id, "scenario") == first.proposed("scenario")
    after_one = site_rows(db)
    changed = [row for row in after_one["Character"] if row not in before["Character"]]
    assert len(changed) == 1 and str(changed[0][0]) == first.character_id
    assert {k: v for k, v in after_one.items() if k != "Character"} == {
        k: v for k, v in before.items() if k != "Character"
    }

    edited = await remote.edit_proposal(
        task.task_id, second.proposal_id or 0, {"scenario": "  An operator's own scenario.  "}
    )
    assert edited.edited and edited.proposed("scenario") == "An operator's own scenario."
    assert site_value(db, second.character_id, "scenario") == second.expected("scenario")

    site_edit(db, third.character_id, "scenario", "The site changed this meanwhile.")
    (lost,) = await remote.accept_proposals(task.task_id, [third.proposal_id or 0])
    assert lost.status == "CONFLICT" and "changed meanwhile" in (lost.error or "")
    assert site_value(db, third.character_id, "scenario") == "The site changed this meanwhile."

    (rejected,) = await remote.reject_proposals(task.task_id, [fourth.proposal_id or 0])
    assert rejected.status == "REJECTED"
    assert site_value(db, fourth.character_id, "scenario") == fourth.expected("scenario")
    assert (await remote.get_task(task.task_id)).review_pending == 1

    settled = await remote.accept_proposals(task.task_id)  # all that still wait: the edited one
    assert [(p.proposal_id, p.status) for p in settled] == [(second.proposal_id, "ACCEPTED")]
    assert site_value(db, second.character_id, "scenario") == "An operator's own scenario."
    final = await remote.get_task(task.task_id)
    assert final.review_pending == 0 and final.status is TaskStatus.COMPLETED
    states = {p.proposal_id: p.status for p in await remote.list_proposals(task.task_id)}
    assert list(states.values()) == ["ACCEPTED", "ACCEPTED", "CONFLICT", "REJECTED"]

    # Accepted changes are the task's journaled changes: history shows them, revert undoes them.
    detail = await remote.character(first.character_id)
    assert any(
        change.task_id == task.task_id and change.column == "scenario" for change in detail.history
    )
    report = await remote.revert(task.task_id)
    assert report["reverted"] == 2
    assert site_value(db, first.character_id, "scenario") == first.expected("scenario")
    assert site_value(db, second.character_id, "scenario") == second.expected("scenario")


async def test_settled_unknown_and_invalid_proposals_are_refused_by_name(
    demo_runtime: Runtime, remote: RemoteService, tmp_path: Path, live_server: Any
) -> None:
    task = await finished_review_task(demo_runtime, first_ids(demo_runtime.settings.db_path, 1))
    (proposal,) = await remote.list_proposals(task.task_id)
    pid = proposal.proposal_id or 0
    with pytest.raises(InvalidParameters) as bad:
        await remote.edit_proposal(task.task_id, pid, {"scenario": "   "})
    assert bad.value.field == "changes.scenario"
    with pytest.raises(InvalidParameters) as unknown_field:
        await remote.edit_proposal(task.task_id, pid, {"name": "x"})
    assert unknown_field.value.field == "changes.name"
    with pytest.raises(ProposalNotFound):
        await remote.accept_proposals(task.task_id, [pid + 1000])
    await remote.reject_proposals(task.task_id, [pid])
    with pytest.raises(TaskStateError, match="already REJECTED"):
        await remote.accept_proposals(task.task_id, [pid])

    server = await live_server(app_for(demo_runtime.service, tmp_path))
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as http:
        base = f"/api/tasks/{task.task_id}/proposals"
        assert (await http.get(base, params={"status": "REJECTED"})).json()[0]["proposalId"] == pid
        wrong = await http.post(f"{base}/accept-all", json={"proposalIds": ["1"]})
        assert wrong.status_code == 422 and "proposalIds" in wrong.text
        assert (await http.post(f"{base}/abc/accept")).status_code == 422
        assert (await http.get(base, params={"status": "MAYBE"})).status_code == 422


async def test_a_task_without_review_writes_as_before(demo_runtime: Runtime) -> None:
    db = demo_runtime.settings.db_path
    (character_id,) = first_ids(db, 1)
    task = await demo_runtime.service.submit(
        "CHARACTER_SETTINGS",
        {"characterIds": [character_id], "updateFields": ["scenario"], "overwrite": True},
    )
    done = await demo_runtime.engine.wait(task.task_id)
    assert done.review_pending == 0 and done.result and done.result["updated"] == 1
    assert await demo_runtime.service.list_proposals(task.task_id) == []
    assert await demo_runtime.service.accept_proposals(task.task_id) == []
