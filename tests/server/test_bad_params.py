"""Bad task parameters over real HTTP: strict JSON types, an empty id list, ids an INTEGER id
column cannot hold; each a 422 naming the field, and nothing written."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.characters.dbfiles import integer_db, row
from tests.server.conftest import app_for
from tui_updater.config import Settings
from tui_updater.runtime import Runtime


@pytest.fixture
async def integer_runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    """The real runtime (offline provider) on a database whose character ids are INTEGERs."""
    settings = Settings.for_tests(tmp_path).evolve(db_path=integer_db(tmp_path / "int.db"))
    runtime = await Runtime.open(settings, synchronous="NORMAL")
    yield runtime
    await runtime.close()


@pytest.fixture
async def api(
    integer_runtime: Runtime, tmp_path: Path, live_server: Any
) -> AsyncIterator[httpx.AsyncClient]:
    server = await live_server(app_for(integer_runtime.service, tmp_path))
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}", timeout=30) as client:
        yield client


async def create(api: httpx.AsyncClient, type_name: str, data: dict[str, Any]) -> httpx.Response:
    return await api.post("/api/tasks", json={"type": type_name, "data": data})


def refused_field(response: httpx.Response) -> str:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_parameters"
    return str(error["details"]["field"])


@pytest.mark.parametrize(
    ("type_name", "data", "field"),
    [
        ("MBTI_ASSIGNMENT", {"batchSize": "5"}, "batchSize"),
        ("MBTI_ASSIGNMENT", {"forceUpdate": "yes"}, "forceUpdate"),
        ("MBTI_ASSIGNMENT", {"concurrency": True}, "concurrency"),
        ("CHARACTER_SETTINGS", {"overwrite": 1}, "overwrite"),
        ("CHARACTER_AVATAR", {"size": 512.0}, "size"),
        ("DATABASE_UPGRADE", {"migrationScript": "SELECT 1;", "dryRun": "off"}, "dryRun"),
        ("DATABASE_UPGRADE", {"migrationScript": "SELECT 1;", "backupBeforeUpgrade": 0}, "backupBeforeUpgrade"),
    ],
)  # fmt: skip
async def test_json_values_of_the_wrong_type_are_refused(
    api: httpx.AsyncClient, type_name: str, data: dict[str, Any], field: str
) -> None:
    assert refused_field(await create(api, type_name, data)) == field
    assert (await api.get("/api/tasks")).json() == []


async def test_an_empty_id_list_is_refused_not_read_as_every_character(
    api: httpx.AsyncClient, tmp_path: Path
) -> None:
    before = row(tmp_path / "int.db", "characters", "id", 1)
    response = await create(api, "CHARACTER_SETTINGS", {"characterIds": [], "overwrite": True})
    assert refused_field(response) == "characterIds"
    assert (await api.get("/api/tasks")).json() == []
    assert row(tmp_path / "int.db", "characters", "id", 1) == before


@pytest.mark.parametrize("bad_id", [10**30, -(2**63) - 1, 2**63, "99999999999999999999", "1e3"])
async def test_ids_an_integer_column_cannot_hold_are_a_422(
    api: httpx.AsyncClient, bad_id: int | str
) -> None:
    response = await create(api, "MBTI_ASSIGNMENT", {"characterIds": [bad_id]})
    assert refused_field(response) == "characterIds"
    assert "64-bit" in response.json()["error"]["message"]


async def test_ids_are_compared_as_the_integer_column_stores_them(api: httpx.AsyncClient) -> None:
    response = await create(api, "MBTI_ASSIGNMENT", {"characterIds": ["01", " 2", 1]})
    assert response.status_code == 201, response.text
    unknown = await create(api, "MBTI_ASSIGNMENT", {"characterIds": ["007"]})
    assert refused_field(unknown) == "characterIds"
    assert "unknown ids: 007" in unknown.json()["error"]["message"]
