"""The OpenAPI document is valid and says what the server does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from openapi_spec_validator import validate

from tests.server.conftest import app_for
from tui_updater.runtime import Runtime
from tui_updater.server.routes import MAX_LIST_LIMIT


async def document(demo_runtime: Runtime, tmp_path: Path, asgi_client: Any) -> dict[str, Any]:
    async with asgi_client(app_for(demo_runtime.service, tmp_path)) as client:
        answer: httpx.Response = await client.get("/openapi.json")
    assert answer.status_code == 200
    spec: dict[str, Any] = answer.json()
    return spec


async def test_document_is_valid_openapi(
    demo_runtime: Runtime, tmp_path: Path, asgi_client: Any
) -> None:
    spec = await document(demo_runtime, tmp_path, asgi_client)
    validate(spec)  # raises on any violation of OpenAPI 3.1
    assert spec["openapi"] == "3.1.0"


async def test_document_states_the_servers_rules(
    demo_runtime: Runtime, tmp_path: Path, asgi_client: Any
) -> None:
    spec = await document(demo_runtime, tmp_path, asgi_client)
    paths = spec["paths"]
    listing = {p["name"]: p for p in paths["/api/tasks"]["get"]["parameters"]}
    assert listing["limit"]["schema"]["maximum"] == MAX_LIST_LIMIT
    assert listing["status"]["schema"]["minItems"] == 1 and listing["status"]["explode"] is False
    assert "X-Total-Count" in paths["/api/tasks"]["get"]["responses"]["200"]["headers"]
    assert "Location" in paths["/api/tasks"]["post"]["responses"]["201"]["headers"]
    # Every alias the registry gives a type is a quick path with that type's own parameters.
    quick = {p for p in paths if p.startswith("/api/quick/")}
    assert {
        "/api/quick/mbti-assignment",
        "/api/quick/database-upgrade",
        "/api/quick/assign-mbti",
    } <= quick
    body = paths["/api/quick/database-upgrade"]["post"]["requestBody"]["content"][
        "application/json"
    ]["schema"]
    assert body["required"] == ["migrationScript"] and "priority" in body["properties"]
    assert body["additionalProperties"] is False and "forceUpdate" not in body["properties"]
    assert {"patch", "get", "delete"} <= set(paths["/api/tasks/{task_id}"])
    assert {
        "/api/tasks/bulk/retry",
        "/api/tasks/bulk/cancel",
        "/api/tasks/bulk/delete",
        "/api/logs",
    } <= set(paths)
    task = spec["components"]["schemas"]["Task"]
    assert task["properties"]["status"]["enum"] == [
        "PENDING",
        "RUNNING",
        "COMPLETED",
        "FAILED",
        "CANCELLED",
    ]
