"""What a task changed, through the local service and the remote client over a real server: the
journal paged and filtered, one change reverted (partly), the whole task reverted (REVERTED)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.server.conftest import app_for, demo_settings
from tests.tui.fake_service import FakeService
from tui_updater.core.changes import ChangeQuery
from tui_updater.core.models import TaskRecord, TaskStatus
from tui_updater.core.service import CharacterQuery, UpdaterService
from tui_updater.errors import InvalidParameters, TaskNotFound
from tui_updater.runtime import Runtime
from tui_updater.server.client import RemoteService
from tui_updater.server.embedded import start_server

MISSING = "task_1000000000000_0000000000"


@pytest.fixture(params=["local", "remote"])
async def served(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[UpdaterService, Runtime, str | None]]:
    """A service over the demo database with a running queue, and the server's URL if remote."""
    runtime = await Runtime.open(demo_settings(tmp_path), synchronous="NORMAL")
    if request.param == "local":
        yield runtime.service, runtime, None
        await runtime.close()
        return
    server = await start_server(app_for(runtime.service, tmp_path), "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.port}"
    remote = RemoteService(url, backoff_initial_s=0.05)
    yield remote, runtime, url
    await remote.aclose()
    await server.stop()
    await runtime.close()


async def finished(service: UpdaterService, task_id: str) -> TaskRecord:
    async with asyncio.timeout(30):
        while True:
            task = await service.get_task(task_id)
            if task.status.finished:
                return task
            await asyncio.sleep(0.02)


async def test_changes_page_filter_revert_one_then_all(
    served: tuple[UpdaterService, Runtime, str | None],
) -> None:
    service, runtime, url = served
    page = await service.list_characters(CharacterQuery(filters=("noMbti",), limit=3))
    targets = [row.character_id for row in page.rows]
    names = {row.character_id: row.name for row in page.rows}
    assert len(targets) == 3
    task = await service.submit("mbti-assignment", {"characterIds": targets})
    assert (await finished(service, task.task_id)).status is TaskStatus.COMPLETED

    changes = await service.task_changes(task.task_id, ChangeQuery())
    assert changes.total == 3 and changes.fields == ("mbtiType",)
    assert changes.by_state == {"applied": 3}
    assert {(c.character_id, c.name) for c in changes.rows} == set(names.items())
    assert all(c.field == "mbtiType" and c.old_value is None and c.new_value for c in changes.rows)

    # paging in the database, in the order the changes were planned
    second = await service.task_changes(task.task_id, ChangeQuery(limit=1, offset=1))
    assert second.total == 3 and second.offset == 1 and second.rows == changes.rows[1:2]
    # search by the character's name, and by a value it was given
    first = changes.rows[0]
    by_name = await service.task_changes(task.task_id, ChangeQuery(search=first.name.upper()))
    assert first in by_name.rows
    by_value = await service.task_changes(task.task_id, ChangeQuery(search=str(first.new_value)))
    assert first in by_value.rows
    nothing = await service.task_changes(task.task_id, ChangeQuery(field="description"))
    assert nothing.total == 0 and nothing.rows == () and nothing.fields == ("mbtiType",)

    # one change reverted: the task is partly reverted, not REVERTED
    assert (await service.revert_change(first.entry_id))["reverted"] is True
    after_one = await service.task_changes(task.task_id, ChangeQuery(state="reverted"))
    assert [c.entry_id for c in after_one.rows] == [first.entry_id]
    assert after_one.by_state == {"applied": 2, "reverted": 1}
    assert (await service.get_task(task.task_id)).reverted_at_ms is None

    # the whole task: status stays COMPLETED, revertedAt says it was undone
    await service.revert(task.task_id)
    reverted = await service.get_task(task.task_id)
    assert reverted.status is TaskStatus.COMPLETED and reverted.reverted_at_ms is not None
    assert (await service.task_changes(task.task_id, ChangeQuery())).by_state == {"reverted": 3}
    listed = {t.task_id: t for t in await service.list_tasks()}
    assert listed[task.task_id].reverted_at_ms == reverted.reverted_at_ms
    with sqlite3.connect(runtime.settings.db_path) as conn:
        marks = conn.execute(
            f'SELECT "mbtiType" FROM "Character" WHERE id IN ({",".join("?" * len(targets))})',
            targets,
        ).fetchall()
    assert all(mbti is None for (mbti,) in marks)
    if url is not None:  # the JSON carries it under its own key
        async with httpx.AsyncClient(base_url=url) as http:
            body = (await http.get(f"/api/tasks/{task.task_id}")).json()
            assert body["status"] == "COMPLETED" and body["revertedAt"] == reverted.reverted_at_ms
            raw = (await http.get(f"/api/tasks/{task.task_id}/changes?state=reverted")).json()
            assert raw["total"] == 3 and raw["byState"] == {"reverted": 3}
            assert {row["characterId"] for row in raw["rows"]} == set(targets)


async def test_the_fake_pages_as_the_store_does() -> None:
    """The dashboard tests' fake: same filters, same counts, same refusals."""
    fake = FakeService()
    mbti = "task_1767229000000_0000000001"
    page = await fake.task_changes(mbti, ChangeQuery())
    assert page.total == 4 and page.by_state == {"applied": 2, "reverted": 1, "conflict": 1}
    assert (await fake.task_changes(mbti, ChangeQuery(state="conflict"))).total == 1
    assert (await fake.task_changes(mbti, ChangeQuery(search="aria"))).rows[0].name == "Aria"
    assert (await fake.task_changes(mbti, ChangeQuery(limit=2, offset=3))).rows[0].name == "Abel"
    with pytest.raises(TaskNotFound):
        await fake.task_changes(MISSING, ChangeQuery())


async def test_unknown_task_and_bad_query(
    served: tuple[UpdaterService, Runtime, str | None],
) -> None:
    service, _runtime, url = served
    with pytest.raises(TaskNotFound):
        await service.task_changes(MISSING, ChangeQuery())
    with pytest.raises(InvalidParameters, match="state"):
        ChangeQuery.parse(state="undone")
    with pytest.raises(InvalidParameters, match="limit"):
        ChangeQuery.parse(limit=0)
    await service.pause()  # the task stays PENDING: it has written nothing
    pending = await service.submit("mbti-assignment", {}, "low")
    empty = await service.task_changes(pending.task_id, ChangeQuery())
    assert empty.total == 0 and empty.rows == () and empty.by_state == {}
    if url is not None:  # the server names the field it refuses
        async with httpx.AsyncClient(base_url=url) as http:
            answer = await http.get(f"/api/tasks/{pending.task_id}/changes?state=undone")
            assert answer.status_code == 422 and "state" in answer.text
            answer = await http.get(f"/api/tasks/{pending.task_id}/changes?limit=5000")
            assert answer.status_code == 422 and "limit" in answer.text
            answer = await http.get(f"/api/tasks/{MISSING}/changes")
            assert answer.status_code == 404
