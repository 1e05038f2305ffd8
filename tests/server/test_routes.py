"""The REST API against the real runtime on the demo database: the seed README's calls and errors."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server.conftest import app_for
from tui_updater.runtime import Runtime

JSON = {"Content-Type": "application/json"}


def character_ids(runtime: Runtime, count: int = 3) -> list[str]:
    with sqlite3.connect(runtime.settings.db_path) as conn:
        return [
            row[0]
            for row in conn.execute('SELECT id FROM "Character" ORDER BY id LIMIT ?', (count,))
        ]


@pytest.fixture
async def api(demo_runtime: Runtime, tmp_path: Path, asgi_client: Any) -> Any:
    app = app_for(demo_runtime.service, tmp_path)
    async with asgi_client(app) as client:
        yield client


async def wait_finished(api: httpx.AsyncClient, task_id: str) -> dict[str, Any]:
    for _ in range(500):
        task = (await api.get(f"/api/tasks/{task_id}")).json()
        if task["status"] in ("COMPLETED", "FAILED", "CANCELLED"):
            return task
        await asyncio.sleep(0.01)
    raise AssertionError(f"task {task_id} did not finish")


async def test_seed_readme_create_list_detail_delete(
    api: httpx.AsyncClient, demo_runtime: Runtime
) -> None:
    ids = character_ids(demo_runtime)
    body = {
        "type": "CHARACTER_AVATAR",
        "priority": "HIGH",
        "data": {"characterIds": ids, "batchSize": 3},
    }
    created = await api.post("/api/tasks", json=body)
    assert created.status_code == 201
    task = created.json()
    assert (
        task["taskId"].startswith("task_")
        and task["priority"] == "HIGH"
        and task["data"]["characterIds"] == ids
    )

    listed = await api.get("/api/tasks")
    assert listed.status_code == 200 and isinstance(listed.json(), list)
    assert task["taskId"] in [t["taskId"] for t in listed.json()]

    finished = await wait_finished(api, task["taskId"])
    assert finished["status"] == "COMPLETED" and finished["items"]["total"] == 3
    items = (await api.get(f"/api/tasks/{task['taskId']}/items")).json()
    assert sorted(i["key"] for i in items) == sorted(ids)
    logs = (await api.get(f"/api/tasks/{task['taskId']}/logs")).json()
    assert any("task" in line["message"] for line in logs)

    deleted = await api.delete(f"/api/tasks/{task['taskId']}")
    assert deleted.status_code == 200 and deleted.json()["taskId"] == task["taskId"]
    assert (await api.get(f"/api/tasks/{task['taskId']}")).status_code == 404


@pytest.mark.parametrize(
    ("route", "body", "type_name"),
    [
        ("character-avatars", {"batchSize": 3, "concurrency": 1}, "CHARACTER_AVATAR"),
        (
            "character-settings",
            {"updateFields": ["fullDescription", "speakingStyle"]},
            "CHARACTER_SETTINGS",
        ),
        ("mbti-assignment", {"forceUpdate": False}, "MBTI_ASSIGNMENT"),
        (
            "database-upgrade",
            {"migrationScript": "ALTER TABLE Character ADD COLUMN newField TEXT;"},
            "DATABASE_UPGRADE",
        ),
    ],
)
async def test_seed_readme_quick_operations(
    api: httpx.AsyncClient, route: str, body: dict[str, Any], type_name: str
) -> None:
    response = await api.post(f"/api/quick/{route}", json=body)
    assert response.status_code == 201, response.text
    task = response.json()
    assert task["taskId"].startswith("task_") and task["type"] == type_name
    assert (await wait_finished(api, task["taskId"]))["status"] == "COMPLETED"


async def test_quick_operation_accepts_priority_and_empty_body(api: httpx.AsyncClient) -> None:
    urgent = await api.post(
        "/api/quick/mbti-assignment", json={"forceUpdate": True, "priority": "urgent"}
    )
    assert urgent.status_code == 201 and urgent.json()["priority"] == "URGENT"
    empty = await api.post("/api/quick/mbti-assignment")
    assert empty.status_code == 201 and empty.json()["priority"] == "NORMAL"


async def test_list_filters_and_pagination(api: httpx.AsyncClient) -> None:
    for _ in range(3):
        assert (await api.post("/api/quick/mbti-assignment", json={})).status_code == 201
    assert (await api.post("/api/quick/character-settings", json={})).status_code == 201
    mbti = (await api.get("/api/tasks", params={"type": "MBTI_ASSIGNMENT"})).json()
    assert len(mbti) == 3 and {t["type"] for t in mbti} == {"MBTI_ASSIGNMENT"}
    page = (await api.get("/api/tasks", params={"limit": 2, "offset": 1})).json()
    assert len(page) == 2
    bad = await api.get("/api/tasks", params={"status": "DONE"})
    assert bad.status_code == 422 and "status" in bad.json()["error"]["message"]
    bad_limit = await api.get("/api/tasks", params={"limit": "lots"})
    assert bad_limit.status_code == 422 and bad_limit.json()["error"]["details"]["field"] == "limit"


async def test_errors_name_the_problem(api: httpx.AsyncClient) -> None:
    unknown_id = await api.get("/api/tasks/task_does_not_exist")
    assert (
        unknown_id.status_code == 404
        and "task_does_not_exist" in unknown_id.json()["error"]["message"]
    )
    assert (await api.delete("/api/tasks/task_nope")).status_code == 404
    assert (await api.post("/api/tasks/task_nope/cancel")).status_code == 404

    unknown_type = await api.post("/api/tasks", json={"type": "MAKE_COFFEE", "data": {}})
    assert unknown_type.status_code == 400
    error = unknown_type.json()["error"]
    assert (
        error["code"] == "unknown_task_type"
        and "MAKE_COFFEE" in error["message"]
        and "MBTI_ASSIGNMENT" in error["message"]
    )

    bad_priority = await api.post(
        "/api/tasks", json={"type": "MBTI_ASSIGNMENT", "priority": "SOON"}
    )
    assert bad_priority.status_code == 422
    assert (
        bad_priority.json()["error"]["details"]["field"] == "priority"
        and "SOON" in bad_priority.json()["error"]["message"]
    )

    malformed = await api.post("/api/tasks", content=b'{"type": "MBTI_ASSIGNMENT",', headers=JSON)
    assert malformed.status_code == 400 and malformed.json()["error"]["code"] == "malformed_json"

    bad_field = await api.post(
        "/api/tasks", json={"type": "MBTI_ASSIGNMENT", "data": {"forceUpdate": "maybe"}}
    )
    assert (
        bad_field.status_code == 422
        and bad_field.json()["error"]["details"]["field"] == "forceUpdate"
    )
    extra = await api.post("/api/quick/mbti-assignment", json={"colour": "red"})
    assert extra.status_code == 422 and "colour" in extra.json()["error"]["message"]
    missing_ids = await api.post(
        "/api/tasks", json={"type": "MBTI_ASSIGNMENT", "data": {"characterIds": [1, 2, 3]}}
    )
    assert (
        missing_ids.status_code == 422 and "characterIds" in missing_ids.json()["error"]["message"]
    )

    not_object = await api.post("/api/tasks", json=[1, 2])
    assert not_object.status_code == 400
    nan = await api.post(
        "/api/tasks", content=b'{"type": "MBTI_ASSIGNMENT", "priority": NaN}', headers=JSON
    )
    assert nan.status_code == 400
    no_route = await api.get("/api/nothing")
    assert no_route.status_code == 404 and no_route.json()["error"]["code"] == "not_found"
    wrong_method = await api.put("/api/tasks", json={})
    assert wrong_method.status_code == 405


async def test_actions_cancel_retry_revert_and_state_conflicts(
    api: httpx.AsyncClient, demo_runtime: Runtime
) -> None:
    assert (await api.post("/api/queue/pause")).json()["paused"] is True
    task = (await api.post("/api/quick/mbti-assignment", json={"forceUpdate": True})).json()
    cancelled = await api.post(f"/api/tasks/{task['taskId']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "CANCELLED"
    again = await api.post(f"/api/tasks/{task['taskId']}/cancel")
    assert again.status_code == 409 and again.json()["error"]["code"] == "task_state"
    retried = await api.post(f"/api/tasks/{task['taskId']}/retry")
    assert retried.status_code == 200 and retried.json()["status"] == "PENDING"
    assert (await api.post("/api/queue/resume")).json()["paused"] is False
    done = await wait_finished(api, task["taskId"])
    assert done["status"] == "COMPLETED"
    reverted = await api.post(f"/api/tasks/{task['taskId']}/revert")
    assert reverted.status_code == 200 and isinstance(reverted.json(), dict)


async def test_status_types_backups_summary_openapi(api: httpx.AsyncClient) -> None:
    status = (await api.get("/api/status")).json()
    assert {"system", "tasks", "queue", "provider", "service"} <= set(status)
    assert status["queue"]["maxConcurrent"] == 2 and status["provider"]["name"] == "offline"
    types = (await api.get("/api/tasks/types")).json()
    assert {t["type"] for t in types} == {
        "CHARACTER_AVATAR",
        "CHARACTER_SETTINGS",
        "MBTI_ASSIGNMENT",
        "DATABASE_UPGRADE",
        "CHARACTER_IMPORT",
    }
    assert all("properties" in t["options"] for t in types)
    preview = await api.post("/api/tasks/preview", json={"type": "MBTI_ASSIGNMENT", "data": {}})
    assert preview.status_code == 200 and preview.json()["count"] > 0
    summary = (await api.get("/api/characters/summary")).json()
    assert summary["total"] > 0

    upgrade = (
        await api.post(
            "/api/quick/database-upgrade",
            json={"migrationScript": "ALTER TABLE Character ADD COLUMN x1 TEXT;"},
        )
    ).json()
    assert (await wait_finished(api, upgrade["taskId"]))["status"] == "COMPLETED"
    backups = (await api.get("/api/backups")).json()
    assert backups and backups[0]["name"].endswith(".db")
    restored = await api.post(f"/api/backups/{backups[0]['name']}/restore")
    assert restored.status_code == 200, restored.text
    missing = await api.post("/api/backups/nope.db/restore")
    assert missing.status_code == 404 and "nope.db" in missing.json()["error"]["message"]

    doc = (await api.get("/openapi.json")).json()
    assert doc["openapi"].startswith("3.")
    assert "/api/tasks/{task_id}/cancel" in doc["paths"]
    assert "MBTI_ASSIGNMENT_params" in doc["components"]["schemas"]
    assert "forceUpdate" in doc["components"]["schemas"]["MBTI_ASSIGNMENT_params"]["properties"]


def test_odd_paths_get_json_404_not_a_redirect(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    import httpx

    from tests.server.conftest import demo_settings
    from tui_updater.runtime import Runtime
    from tui_updater.server.app import create_app

    async def check() -> None:
        runtime = await Runtime.open(demo_settings(tmp_path), synchronous="NORMAL")
        try:
            app = create_app(
                runtime.service,
                runtime.settings.server,
                migrations_dir=runtime.settings.migrations_dir,
            )
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:3002"
            ) as client:
                for path in ("/api/tasks/%2F", "/api/tasks/", "/api/status/"):
                    response = await client.get(path)
                    assert response.status_code == 404, (path, response.status_code)
                    assert response.json()["error"]["code"] == "not_found"
        finally:
            await runtime.close()

    asyncio.run(check())
