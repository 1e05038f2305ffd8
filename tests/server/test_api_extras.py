"""What users of Flower and Bull Board expect, through real HTTP on loopback: counts, sort,
multi-value filters, item filters, bulk actions, priority changes, the global log; and the
method, header and value rules the OpenAPI document states."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server.conftest import app_for
from tui_updater.runtime import Runtime

UPGRADE_FAILS = {"migrationScript": "ALTER TABLE NoSuchTable ADD COLUMN x TEXT;"}


@pytest.fixture
async def http(demo_runtime: Runtime, tmp_path: Path, live_server: Any) -> AsyncIterator[Any]:
    """A client of a real uvicorn server over the demo runtime, its queue paused."""
    await demo_runtime.service.pause()
    server = await live_server(app_for(demo_runtime.service, tmp_path))
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
        yield client


async def create(http: httpx.AsyncClient, type_name: str, data: Any, priority: Any = 2) -> str:
    answer = await http.post(
        "/api/tasks", json={"type": type_name, "priority": priority, "data": data}
    )
    assert answer.status_code == 201, answer.text
    task_id: str = answer.json()["taskId"]
    assert answer.headers["Location"] == f"/api/tasks/{task_id}"
    return task_id


def ids(answer: httpx.Response) -> list[str]:
    assert answer.status_code == 200, answer.text
    return [task["taskId"] for task in answer.json()]


async def test_counts_sort_and_multi_value_filters(http: httpx.AsyncClient) -> None:
    low = await create(http, "MBTI_ASSIGNMENT", {}, "LOW")
    high = await create(http, "CHARACTER_SETTINGS", {"updateFields": ["scenario"]}, 3.0)
    normal = await create(http, "MBTI_ASSIGNMENT", {}, "normal")
    assert (await http.post(f"/api/tasks/{normal}/cancel")).status_code == 200

    page = await http.get("/api/tasks", params={"limit": 1, "offset": 1})
    assert ids(page) == [high] and page.headers["X-Total-Count"] == "3"
    assert ids(await http.get("/api/tasks", params={"sort": "-priority"})) == [high, normal, low]
    assert ids(await http.get("/api/tasks", params={"sort": "createdAt"})) == [low, high, normal]
    both = await http.get(
        "/api/tasks", params={"status": "PENDING,CANCELLED", "type": "MBTI_ASSIGNMENT"}
    )
    assert ids(both) == [normal, low] and both.headers["X-Total-Count"] == "2"
    assert (await http.get(f"/api/tasks/{high}")).json()["priorityValue"] == 3


async def test_values_the_schema_forbids_are_refused(http: httpx.AsyncClient) -> None:
    for params in (
        {"status": ""},
        {"status": "FAILED,"},
        {"status": "failed"},
        {"sort": "size"},
        {"limit": 100_001},
    ):
        answer = await http.get("/api/tasks", params=params)
        assert answer.status_code == 422, (params, answer.text)
        assert answer.json()["error"]["details"]["field"] in params
    bodies: list[dict[str, Any]] = [
        {"type": "MBTI_ASSIGNMENT", "data": None},
        {"type": "MBTI_ASSIGNMENT", "data": {"forceUpdate": 0}},
        {"type": "MBTI_ASSIGNMENT", "data": {"batchSize": "4"}},
        {"type": "MBTI_ASSIGNMENT", "priority": "Highest"},
        {"type": "MBTI_ASSIGNMENT", "priority": 2.5},
        {"type": "MBTI_ASSIGNMENT", "data": {}, "options": {}},
    ]
    for body in bodies:
        answer = await http.post("/api/tasks", json=body)
        assert answer.status_code == 422, (body, answer.text)
    null_body = await http.post(
        "/api/quick/mbti-assignment", content=b"null", headers={"Content-Type": "application/json"}
    )
    assert null_body.status_code == 400
    assert (await http.post("/api/tasks", json={"type": "mbti_assignment"})).status_code == 400
    # A priority name in any case, as PRODUCT.md promises.
    mixed = await http.post("/api/tasks", json={"type": "MBTI_ASSIGNMENT", "priority": "High"})
    assert mixed.status_code == 201, mixed.text
    assert mixed.json()["priority"] == "HIGH"


async def test_quick_operations_take_their_aliases_and_a_priority(http: httpx.AsyncClient) -> None:
    for alias, type_name in (
        ("mbti-assignment", "MBTI_ASSIGNMENT"),
        ("assign-mbti", "MBTI_ASSIGNMENT"),
        ("upgrade-database", "DATABASE_UPGRADE"),
    ):
        body: dict[str, Any] = (
            {"priority": 4.0, "forceUpdate": True}
            if type_name == "MBTI_ASSIGNMENT"
            else {"priority": "high", **UPGRADE_FAILS}
        )
        answer = await http.post(f"/api/quick/{alias}", json=body)
        assert answer.status_code == 201, answer.text
        task = answer.json()
        assert task["type"] == type_name and task["priority"] in ("URGENT", "HIGH")
        assert answer.headers["Location"] == f"/api/tasks/{task['taskId']}"
    assert (await http.post("/api/quick/nothing-like-it", json={})).status_code == 404


async def test_every_method_of_a_path_is_in_allow(http: httpx.AsyncClient) -> None:
    task_id = await create(http, "MBTI_ASSIGNMENT", {})
    answer = await http.put(f"/api/tasks/{task_id}")
    assert answer.status_code == 405
    assert set(answer.headers["Allow"].split(", ")) >= {"GET", "PATCH", "DELETE"}
    for path, allowed in (
        ("/api/tasks", {"GET", "POST"}),
        ("/api/tasks/types", {"GET"}),
        ("/api/tasks/bulk/retry", {"POST"}),
    ):
        answer = await http.delete(path)
        assert answer.status_code == 405, (path, answer.text)
        assert set(answer.headers["Allow"].split(", ")) - {"HEAD"} == allowed
        assert answer.json()["error"]["code"] == "method_not_allowed"


async def test_patch_changes_a_pending_priority_only(
    http: httpx.AsyncClient, demo_runtime: Runtime
) -> None:
    task_id = await create(http, "MBTI_ASSIGNMENT", {}, "LOW")
    changed = await http.patch(f"/api/tasks/{task_id}", json={"priority": "URGENT"})
    assert changed.status_code == 200 and changed.json()["priority"] == "URGENT"
    assert (
        await http.patch(f"/api/tasks/{task_id}", json={"status": "RUNNING"})
    ).status_code == 422
    assert (await http.patch(f"/api/tasks/{task_id}", json={})).status_code == 422
    assert (await http.patch("/api/tasks/task_missing", json={"priority": 1})).status_code == 404
    await http.post(f"/api/tasks/{task_id}/cancel")
    refused = await http.patch(f"/api/tasks/{task_id}", json={"priority": 1})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "task_state"


async def test_urgent_after_a_patch_runs_first(
    http: httpx.AsyncClient, demo_runtime: Runtime
) -> None:
    first = await create(http, "MBTI_ASSIGNMENT", {}, "HIGH")
    second = await create(http, "MBTI_ASSIGNMENT", {"forceUpdate": True}, "LOW")
    await http.patch(f"/api/tasks/{second}", json={"priority": "URGENT"})
    await http.patch(f"/api/tasks/{first}", json={"priority": "LOW"})
    subscription = demo_runtime.service.subscribe()
    await http.post("/api/queue/resume")
    started: list[str] = []
    async for batch in subscription.batches():
        started += [e.task_id or "" for e in batch if e.type.value == "task_started"]
        if len(started) == 2:
            break
    subscription.close()
    assert started == [second, first]


async def test_bulk_actions_and_item_filters(
    http: httpx.AsyncClient, demo_runtime: Runtime
) -> None:
    failed = await create(http, "DATABASE_UPGRADE", UPGRADE_FAILS)
    await http.post("/api/queue/resume")
    await demo_runtime.engine.wait(failed)
    await http.post("/api/queue/pause")
    pending = await create(http, "MBTI_ASSIGNMENT", {})
    items = await http.get(f"/api/tasks/{failed}/items", params={"status": "FAILED"})
    assert [item["status"] for item in items.json()] == ["FAILED"]
    assert "NoSuchTable" in items.json()[0]["error"]
    assert (await http.get(f"/api/tasks/{failed}/items", params={"status": "DONE"})).json() == []

    retried = (await http.post("/api/tasks/bulk/retry")).json()
    assert retried == {"action": "retry", "matched": 1, "done": [failed], "skipped": []}
    cancelled = (
        await http.post("/api/tasks/bulk/cancel", json={"type": ["MBTI_ASSIGNMENT"]})
    ).json()
    assert cancelled["done"] == [pending]
    refused = (
        await http.post("/api/tasks/bulk/retry", json={"status": ["PENDING", "CANCELLED"]})
    ).json()
    assert refused["done"] == [pending] and [s["taskId"] for s in refused["skipped"]] == [failed]
    assert "only FAILED or CANCELLED" in refused["skipped"][0]["reason"]
    assert (await http.post("/api/tasks/bulk/cancel", json={"status": "DONE"})).status_code == 422
    assert (await http.post("/api/tasks/bulk/cancel", json={"state": "x"})).status_code == 422
    await http.post("/api/tasks/bulk/cancel")
    deleted = (await http.post("/api/tasks/bulk/delete")).json()
    assert sorted(deleted["done"]) == sorted([failed, pending])
    assert (await http.get("/api/tasks")).headers["X-Total-Count"] == "0"


async def test_global_log_filters(http: httpx.AsyncClient) -> None:
    first = await create(http, "MBTI_ASSIGNMENT", {})
    second = await create(http, "MBTI_ASSIGNMENT", {})
    await http.patch(f"/api/tasks/{second}", json={"priority": "HIGH"})
    lines = (await http.get("/api/logs")).json()
    assert {first, second} <= {line["taskId"] for line in lines}
    assert [line["timestamp"] for line in lines] == sorted(line["timestamp"] for line in lines)
    mine = (await http.get("/api/logs", params={"taskId": second})).json()
    assert mine and all(line["taskId"] == second for line in mine)
    assert any("priority set to HIGH" in line["message"] for line in mine)
    assert (await http.get("/api/logs", params={"level": "ERROR"})).json() == []
    latest = lines[-1]["timestamp"]
    assert all(
        line["timestamp"] >= latest
        for line in (await http.get("/api/logs", params={"since": latest})).json()
    )
    assert (await http.get("/api/logs", params={"level": "LOUD"})).status_code == 422
    assert (await http.get("/api/logs", params={"since": "yesterday"})).status_code == 422


async def test_an_unknown_character_is_404_and_a_repeated_parameter_is_refused(
    http: httpx.AsyncClient,
) -> None:
    # Both found by schemathesis: a missing resource is not bad input, and a parameter the
    # schema gives one value must not silently take the last of several.
    missing = await http.get("/api/characters/0")
    assert missing.status_code == 404, missing.text
    assert missing.json()["error"]["code"] == "character_not_found"
    twice = await http.get("/api/logs", params=[("since", "x"), ("since", "")])
    assert twice.status_code == 422, twice.text
    assert twice.json()["error"]["details"]["field"] == "since"
    empty = await http.get("/api/logs", params={"since": ""})
    assert empty.status_code == 422, empty.text
