"""One contract for every UpdaterService: the local engine, the remote client through a real
server on loopback, and the dashboard tests' fake. Same operations, same results, same errors.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.server.conftest import app_for, demo_settings
from tests.tui.fake_service import FakeService
from tui_updater.core.events import Event, EventType
from tui_updater.core.models import Priority, TaskStatus
from tui_updater.core.proposals import ProposalView
from tui_updater.core.service import CharacterQuery, UpdaterService
from tui_updater.errors import (
    CharacterNotFound,
    InvalidParameters,
    ProposalNotFound,
    ScheduleNotFound,
    TaskNotFound,
    TaskStateError,
    UnknownTaskType,
)
from tui_updater.runtime import Runtime
from tui_updater.server.client import RemoteService
from tui_updater.server.embedded import start_server
from tui_updater.tasks.mbti import MbtiParams

SETTINGS_DATA = {"updateFields": ["scenario"]}


@pytest.fixture(params=["local", "remote", "fake"])
async def service(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[UpdaterService]:
    """A service with no tasks and a paused queue, so submitted tasks stay PENDING."""
    if request.param == "fake":
        fake = FakeService(tasks=[])
        await fake.pause()
        yield fake
        return
    runtime = await Runtime.open(demo_settings(tmp_path), synchronous="NORMAL")
    await runtime.service.pause()
    if request.param == "local":
        yield runtime.service
        await runtime.close()
        return
    server = await start_server(app_for(runtime.service, tmp_path), "127.0.0.1", 0)
    remote = RemoteService(f"http://127.0.0.1:{server.port}", backoff_initial_s=0.05)
    yield remote
    await remote.aclose()
    await server.stop()
    await runtime.close()


async def events_until(subscription: Any, task_id: str, kind: EventType) -> list[Event]:
    seen: list[Event] = []
    async with asyncio.timeout(10):
        async for batch in subscription.batches():
            seen += [event for event in batch if event.task_id == task_id]
            if any(event.type is kind for event in seen):
                return seen
    return seen


class TestUpdaterServiceContract:
    async def test_types_carry_their_aliases_and_schema(self, service: UpdaterService) -> None:
        types = {info.name: info for info in await service.task_types()}
        mbti = types["MBTI_ASSIGNMENT"]
        assert mbti.aliases == ("assign-mbti", "mbti-assignment")
        assert mbti.params_schema == MbtiParams.model_json_schema()
        assert types["DATABASE_UPGRADE"].aliases == ("database-upgrade", "upgrade-database")

    async def test_one_type_by_its_name_or_an_alias(self, service: UpdaterService) -> None:
        listed = {info.name: info for info in await service.task_types()}
        for asked in ("MBTI_ASSIGNMENT", "assign-mbti", "mbti_assignment", " Mbti-Assignment "):
            assert await service.task_type(asked) == listed["MBTI_ASSIGNMENT"]
        with pytest.raises(UnknownTaskType, match=r"known types: .*MBTI_ASSIGNMENT"):
            await service.task_type("NOPE")

    async def test_submit_then_read_back(self, service: UpdaterService) -> None:
        task = await service.submit("mbti-assignment", {"forceUpdate": True}, "high")
        assert (task.type, task.priority, task.status) == (
            "MBTI_ASSIGNMENT",
            Priority.HIGH,
            TaskStatus.PENDING,
        )
        assert task.data["forceUpdate"] is True and task.task_id.startswith("task_")
        again = await service.get_task(task.task_id)
        assert (again.task_id, again.status, again.priority) == (
            task.task_id,
            TaskStatus.PENDING,
            Priority.HIGH,
        )
        assert [t.task_id for t in await service.list_tasks()] == [task.task_id]
        assert await service.count_tasks(status="PENDING") == 1
        assert await service.count_tasks(status="RUNNING") == 0
        assert await service.list_items(task.task_id) == []
        assert await service.list_items(task.task_id, status="FAILED") == []
        status = await service.queue_status()
        assert status.paused and status.total == 1

    async def test_bad_input_is_refused_naming_the_field(self, service: UpdaterService) -> None:
        with pytest.raises(UnknownTaskType) as unknown:
            await service.submit("NOPE", {})
        assert "MBTI_ASSIGNMENT" in unknown.value.known
        cases: list[tuple[str, Any]] = [
            ("forceUpdate", service.submit("MBTI_ASSIGNMENT", {"forceUpdate": "maybe"})),
            ("priority", service.submit("MBTI_ASSIGNMENT", {}, "SOON")),
            ("status", service.list_tasks(status="DONE")),
            ("status", service.count_tasks(status="FAILED,LATE")),
            ("sort", service.list_tasks(sort="size")),
            ("level", service.logs(level="LOUD")),
            ("action", service.bulk("explode")),
        ]
        for field, call in cases:
            with pytest.raises(InvalidParameters) as bad:
                await call
            assert bad.value.field == field
        task = await service.submit("MBTI_ASSIGNMENT", {})
        with pytest.raises(InvalidParameters) as bad_item:
            await service.list_items(task.task_id, status="NOPE")
        assert bad_item.value.field == "status"
        with pytest.raises(InvalidParameters) as bad_priority:
            await service.set_priority(task.task_id, 9)
        assert bad_priority.value.field == "priority"

    async def test_unknown_task_is_not_found_everywhere(self, service: UpdaterService) -> None:
        missing = "task_0000000000000_missing"
        for call in (
            service.get_task(missing),
            service.cancel(missing),
            service.retry(missing),
            service.revert(missing),
            service.delete(missing),
            service.set_priority(missing, "HIGH"),
            service.list_items(missing),
            service.task_logs(missing),
        ):
            with pytest.raises(TaskNotFound):
                await call

    async def test_wrong_state_is_refused(self, service: UpdaterService) -> None:
        task = await service.submit("MBTI_ASSIGNMENT", {})
        for call in (service.retry(task.task_id), service.revert(task.task_id)):
            with pytest.raises(TaskStateError):
                await call
        cancelled = await service.cancel(task.task_id)
        assert cancelled.status is TaskStatus.CANCELLED
        assert cancelled.message == "cancelled before it started"
        for call in (service.cancel(task.task_id), service.set_priority(task.task_id, "LOW")):
            with pytest.raises(TaskStateError):
                await call
        retried = await service.retry(task.task_id)
        assert (retried.status, retried.attempt) == (TaskStatus.PENDING, 2)
        await service.delete(task.task_id)
        with pytest.raises(TaskNotFound):
            await service.get_task(task.task_id)

    async def test_priority_of_a_pending_task_changes(self, service: UpdaterService) -> None:
        task = await service.submit("MBTI_ASSIGNMENT", {}, Priority.LOW)
        changed = await service.set_priority(task.task_id, "urgent")
        assert changed.priority is Priority.URGENT and changed.status is TaskStatus.PENDING
        assert (await service.get_task(task.task_id)).priority is Priority.URGENT

    async def test_filters_sort_and_paging(self, service: UpdaterService) -> None:
        low = await service.submit("MBTI_ASSIGNMENT", {}, "LOW")
        high = await service.submit("CHARACTER_SETTINGS", SETTINGS_DATA, "HIGH")
        normal = await service.submit("MBTI_ASSIGNMENT", {}, "NORMAL")
        await service.cancel(normal.task_id)

        def ids(tasks: list[Any]) -> list[str]:
            return [t.task_id for t in tasks]

        assert ids(await service.list_tasks()) == [normal.task_id, high.task_id, low.task_id]
        assert ids(await service.list_tasks(sort="createdAt")) == [
            low.task_id,
            high.task_id,
            normal.task_id,
        ]
        assert ids(await service.list_tasks(sort="-priority")) == [
            high.task_id,
            normal.task_id,
            low.task_id,
        ]
        assert ids(await service.list_tasks(status="CANCELLED")) == [normal.task_id]
        assert len(await service.list_tasks(status="PENDING,CANCELLED")) == 3
        assert ids(await service.list_tasks(status=["PENDING"], type_name="MBTI_ASSIGNMENT")) == [
            low.task_id
        ]
        assert ids(await service.list_tasks(limit=1, offset=1)) == [high.task_id]
        assert await service.count_tasks(type_name="MBTI_ASSIGNMENT") == 2
        assert await service.count_tasks(type_name="MBTI_ASSIGNMENT,CHARACTER_SETTINGS") == 3

    async def test_bulk_actions(self, service: UpdaterService) -> None:
        first = await service.submit("MBTI_ASSIGNMENT", {})
        second = await service.submit("MBTI_ASSIGNMENT", {})
        nothing = await service.bulk("retry")  # default: FAILED tasks; there are none
        assert (nothing.done, nothing.skipped) == ((), ())
        cancelled = await service.bulk("cancel", type_name="MBTI_ASSIGNMENT")
        assert cancelled.done == (first.task_id, second.task_id)
        assert cancelled.to_json()["matched"] == 2
        retried = await service.bulk("retry", status="CANCELLED")
        assert retried.done == (first.task_id, second.task_id)
        assert (await service.get_task(first.task_id)).status is TaskStatus.PENDING
        deleted = await service.bulk("delete", status=["PENDING"])
        assert deleted.done == (first.task_id, second.task_id)
        assert await service.list_tasks() == []

    async def test_logs_across_tasks(self, service: UpdaterService) -> None:
        task = await service.submit("MBTI_ASSIGNMENT", {})
        lines = await service.logs(task_id=task.task_id)
        assert any(
            f"created task MBTI_ASSIGNMENT (ID: {task.task_id}" in line.message for line in lines
        )
        assert all(line.task_id == task.task_id for line in lines)
        assert task.task_id in {line.task_id for line in await service.logs()}
        assert await service.logs(task_id=task.task_id, level="ERROR") == []
        assert await service.logs(since_ms=2**50) == []
        assert await service.task_logs(task.task_id)

    async def test_events_follow_the_operations(self, service: UpdaterService) -> None:
        subscription = service.subscribe()
        try:
            task = await service.submit("MBTI_ASSIGNMENT", {})
            await service.cancel(task.task_id)
            events = await events_until(subscription, task.task_id, EventType.TASK_CANCELLED)
        finally:
            subscription.close()
        kinds = [event.type for event in events]
        assert kinds[0] is EventType.TASK_CREATED and kinds[-1] is EventType.TASK_CANCELLED
        assert events[-1].status == "CANCELLED"

    async def test_queue_pause_and_resume(self, service: UpdaterService) -> None:
        await service.resume()
        assert not (await service.queue_status()).paused
        await service.pause()
        await service.pause()  # twice is harmless
        assert (await service.queue_status()).paused


class TestCharacterBrowsingContract:
    async def test_pages_cover_the_table_in_order(self, service: UpdaterService) -> None:
        summary = await service.characters_summary()
        first = await service.list_characters(CharacterQuery(limit=10))
        assert first.total == summary["total"] and len(first.rows) == 10
        names = [row.name for row in first.rows]
        assert names == sorted(names)
        second = await service.list_characters(CharacterQuery(limit=10, offset=10))
        assert second.offset == 10 and not {r.character_id for r in first.rows} & {
            r.character_id for r in second.rows
        }
        assert second.rows[0].name >= first.rows[-1].name
        descending = await service.list_characters(CharacterQuery(sort="-name", limit=3))
        assert [r.name for r in descending.rows] == sorted(
            (r.name for r in descending.rows), reverse=True
        )
        everyone = await service.character_ids(CharacterQuery(limit=1))
        assert len(everyone) == summary["total"]

    async def test_filters_and_search(self, service: UpdaterService) -> None:
        summary = await service.characters_summary()
        no_avatar = await service.list_characters(
            CharacterQuery(filters=("missingAvatar",), limit=1000)
        )
        assert no_avatar.total == summary["missing"]["avatar"]
        assert all(not row.has_avatar and "avatar" in row.empty_fields for row in no_avatar.rows)
        both = await service.list_characters(
            CharacterQuery(filters=("missingAvatar", "noMbti"), limit=1000)
        )
        assert all(row.mbti_type is None for row in both.rows)
        assert both.total <= no_avatar.total
        ids = await service.character_ids(CharacterQuery(filters=("missingAvatar",)))
        assert sorted(ids) == sorted(row.character_id for row in no_avatar.rows)
        target = no_avatar.rows[0]
        found = await service.list_characters(CharacterQuery(search=target.name.lower()))
        assert target.character_id in {row.character_id for row in found.rows}
        nobody = await service.list_characters(CharacterQuery(search="%no such name%"))
        assert nobody.total == 0 and nobody.rows == ()
        if target.language is not None:
            same = await service.list_characters(
                CharacterQuery(language=target.language, limit=1000)
            )
            assert {row.language for row in same.rows} == {target.language}

    async def test_bad_query_names_the_field(self, service: UpdaterService) -> None:
        for field, kwargs in (
            ("filter", {"filters": "shiny"}),
            ("sort", {"sort": "height"}),
            ("limit", {"limit": 0}),
        ):
            with pytest.raises(InvalidParameters) as bad:
                CharacterQuery.parse(**kwargs)  # type: ignore[arg-type]
            assert bad.value.field == field

    async def test_one_character_with_its_history(self, service: UpdaterService) -> None:
        page = await service.list_characters(CharacterQuery(limit=1))
        row = page.rows[0]
        detail = await service.character(row.character_id)
        assert detail.character_id == row.character_id and detail.name == row.name
        assert row.name in detail.fields.values()
        assert all(entry.entry_id > 0 and entry.task_id for entry in detail.history)
        with pytest.raises(CharacterNotFound, match="no-such-character"):  # HTTP 404
            await service.character("no-such-character")
        with pytest.raises(InvalidParameters) as no_entry:
            await service.revert_change(987654321)
        assert no_entry.value.field == "entryId"


async def finished_review_task(service: UpdaterService) -> str:
    """A finished review-mode settings task with two pending proposals."""
    ids = (await service.character_ids(CharacterQuery()))[:2]
    data = {"characterIds": ids, "updateFields": ["scenario"], "overwrite": True, "review": True}
    task = await service.submit("CHARACTER_SETTINGS", data)
    if isinstance(service, FakeService):
        done = task.evolve(status=TaskStatus.COMPLETED, progress=100.0)
        service.tasks[task.task_id] = done
        service.proposals.seed(
            done,
            [
                ProposalView(
                    task_id=task.task_id,
                    item_key=key,
                    character_id=key,
                    label=f"Character {key}",
                    changes={"scenario": ["", f"Scenario {key}"]},
                    proposal_id=number,
                    current={"scenario": ""},
                )
                for number, key in enumerate(ids, start=1)
            ],
        )
        return task.task_id
    await service.resume()
    async with asyncio.timeout(30):
        while not (await service.get_task(task.task_id)).status.finished:
            await asyncio.sleep(0.05)
    return task.task_id


class TestReviewContract:
    async def test_review_states_results_and_errors(self, service: UpdaterService) -> None:
        task_id = await finished_review_task(service)
        assert (await service.get_task(task_id)).review_pending == 2
        first, second = await service.list_proposals(task_id, status="PENDING")
        assert first.status == "PENDING" and set(first.changes) == {"scenario"}
        edited = await service.edit_proposal(
            task_id, first.proposal_id or 0, {"scenario": "  Mine.  "}
        )
        assert edited.edited and edited.proposed("scenario") == "Mine."
        with pytest.raises(InvalidParameters) as empty:
            await service.edit_proposal(task_id, first.proposal_id or 0, {"scenario": " "})
        assert empty.value.field == "changes.scenario"
        (accepted,) = await service.accept_proposals(task_id, [first.proposal_id or 0])
        assert accepted.status == "ACCEPTED" and accepted.proposed("scenario") == "Mine."
        with pytest.raises(TaskStateError):
            await service.accept_proposals(task_id, [first.proposal_id or 0])
        with pytest.raises(ProposalNotFound):
            await service.reject_proposals(task_id, [999_999])
        rejected = await service.reject_proposals(task_id)
        assert [(p.proposal_id, p.status) for p in rejected] == [(second.proposal_id, "REJECTED")]
        assert (await service.get_task(task_id)).review_pending == 0
        assert await service.list_proposals(task_id, status="PENDING") == []
        assert len(await service.list_proposals(task_id)) == 2
        with pytest.raises(InvalidParameters) as bad_status:
            await service.list_proposals(task_id, status="MAYBE")
        assert bad_status.value.field == "status"

    async def test_unfinished_and_unknown_tasks_are_refused(self, service: UpdaterService) -> None:
        task = await service.submit("CHARACTER_SETTINGS", {**SETTINGS_DATA, "review": True})
        assert await service.list_proposals(task.task_id) == []
        for call in (
            service.accept_proposals(task.task_id),
            service.reject_proposals(task.task_id, [1]),
            service.edit_proposal(task.task_id, 1, {"scenario": "x"}),
        ):
            with pytest.raises(TaskStateError):
                await call
        with pytest.raises(TaskNotFound):
            await service.list_proposals("task_0_0000000000")
        with pytest.raises(InvalidParameters) as strict:
            await service.submit("CHARACTER_SETTINGS", {"review": "yes"})
        assert strict.value.field == "review"

    async def test_export_cards_reports_the_files(self, service: UpdaterService) -> None:
        page = await service.list_characters(CharacterQuery(limit=2))
        ids = [row.character_id for row in page.rows]
        report = await service.export_cards([*ids, "no-such-character"], "v3", "contract")
        assert report["exported"] == 2 and len(report["files"]) == 2
        assert report["directory"].endswith("cards/contract")
        assert all(f.endswith(".png") for f in report["files"])
        assert report["unknownIds"] == ["no-such-character"]
        as_json = await service.export_cards(ids[:1], "json")
        assert as_json["files"][0].endswith(".json")
        with pytest.raises(InvalidParameters) as bad:
            await service.export_cards(ids, "v4")
        assert bad.value.field == "format"

    async def test_retry_takes_a_new_budget(self, service: UpdaterService) -> None:
        task = await service.submit("MBTI_ASSIGNMENT", {"maxTokens": 100})
        await service.cancel(task.task_id)
        with pytest.raises(InvalidParameters) as bad:
            await service.retry(task.task_id, {"maxTokens": -1})
        assert bad.value.field == "maxTokens"
        retried = await service.retry(task.task_id, {"maxTokens": 5000})
        assert retried.data["maxTokens"] == 5000 and retried.status is TaskStatus.PENDING
        assert (await service.get_task(task.task_id)).data["maxTokens"] == 5000

    async def test_estimate_is_candidates_times_tokens_per_item(
        self, service: UpdaterService
    ) -> None:
        estimate = await service.estimate("MBTI_ASSIGNMENT", {})
        assert estimate.candidates > 0 and estimate.tokens_per_item > 0
        assert estimate.tokens == estimate.candidates * estimate.tokens_per_item
        assert estimate.source == "default"  # no past task has spent anything yet
        with pytest.raises(InvalidParameters) as bad:
            await service.estimate("MBTI_ASSIGNMENT", {"maxTokens": "many"})
        assert bad.value.field == "maxTokens"

    async def test_schedules_add_list_change_remove(self, service: UpdaterService) -> None:
        added = await service.add_schedule(
            {"type": "mbti-assignment", "cron": "0 3 * * *", "maxTokens": 9000, "name": "night"}
        )
        assert (added.type, added.cron, added.max_tokens, added.enabled) == (
            "MBTI_ASSIGNMENT",
            "0 3 * * *",
            9000,
            True,
        )
        assert added.next_run_ms is not None and added.next_run_ms % 86_400_000 == 3 * 3_600_000
        assert [s.schedule_id for s in await service.list_schedules()] == [added.schedule_id]
        off = await service.update_schedule(added.schedule_id, {"enabled": False})
        assert not off.enabled and off.cron == "0 3 * * *"
        watch = await service.update_schedule(added.schedule_id, {"everyMinutes": 10})
        assert (watch.cron, watch.every_minutes) == (None, 10)
        await service.remove_schedule(added.schedule_id)
        assert await service.list_schedules() == []
        for call in (
            service.remove_schedule(added.schedule_id),
            service.update_schedule(added.schedule_id, {"enabled": True}),
        ):
            with pytest.raises(ScheduleNotFound):
                await call

    async def test_bad_schedules_name_the_field(self, service: UpdaterService) -> None:
        for body, field in (
            ({"type": "MBTI_ASSIGNMENT", "cron": "61 * * * *"}, "cron"),
            ({"type": "NO_SUCH_TYPE", "everyMinutes": 5}, "type"),
            ({"type": "MBTI_ASSIGNMENT", "everyMinutes": 5, "maxTokens": -2}, "maxTokens"),
            ({"type": "MBTI_ASSIGNMENT", "everyMinutes": 5, "maxCost": 0}, "maxCost"),
            ({"type": "MBTI_ASSIGNMENT", "everyMinutes": 5, "data": {"x": 1}}, "data.x"),
            ({"type": "MBTI_ASSIGNMENT", "cron": "0 3 * * *", "everyMinutes": 5}, "cron"),
        ):
            with pytest.raises(InvalidParameters) as bad:
                await service.add_schedule(body)
            assert bad.value.field == field, body
        assert await service.list_schedules() == []
