"""Every security rule of the server: Host, Origin, token, content type, body size, script paths."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import Field
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.server.conftest import app_for
from tui_updater.config import ServerSettings
from tui_updater.core.capabilities import LOCAL_PATH_KEY
from tui_updater.core.service import TaskTypeInfo
from tui_updater.engine.service import LocalService
from tui_updater.errors import ConfigError
from tui_updater.server.errors import ApiError
from tui_updater.server.security import (
    check_bind,
    host_name,
    is_loopback_host,
    restrict_local_paths,
)
from tui_updater.tasks.base import TaskParams
from tui_updater.tasks.upgrade import DatabaseUpgradeParams

JSON = {"Content-Type": "application/json"}
TASK = {"type": "SAMPLE", "data": {"count": 1}}


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "127.0.0.2", "::1", "[::1]"])
def test_loopback_names(host: str) -> None:
    assert is_loopback_host(host)


@pytest.mark.parametrize(
    "host", ["0.0.0.0", "192.168.1.4", "example.com", "localhost.evil.com", "::"]
)
def test_non_loopback_names(host: str) -> None:
    assert not is_loopback_host(host)


def test_host_header_name_strips_port() -> None:
    assert host_name("[::1]:3002") == "::1"
    assert host_name("localhost:3002") == "localhost"
    assert host_name("127.0.0.1") == "127.0.0.1"


def test_non_loopback_bind_needs_a_token() -> None:
    with pytest.raises(ConfigError, match="token"):
        check_bind(ServerSettings(host="0.0.0.0"))
    check_bind(ServerSettings(host="0.0.0.0", token="s3cret-token"))
    check_bind(ServerSettings(host="127.0.0.1"))


@pytest.mark.parametrize("host", ["localhost:3002", "127.0.0.1:3002", "[::1]:3002", "localhost"])
async def test_loopback_host_headers_are_served(
    sample_service: LocalService, tmp_path: Path, asgi_client: Any, host: str
) -> None:
    async with asgi_client(app_for(sample_service, tmp_path)) as client:
        assert (await client.get("/api/tasks", headers={"Host": host})).status_code == 200


@pytest.mark.parametrize(
    "host", ["evil.example:3002", "192.168.0.10:3002", "attacker.localhost.com"]
)
async def test_foreign_host_refused(
    sample_service: LocalService, tmp_path: Path, asgi_client: Any, host: str
) -> None:
    async with asgi_client(app_for(sample_service, tmp_path)) as client:
        response = await client.get("/api/tasks", headers={"Host": host})
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden_host"


async def test_foreign_origin_refused_on_rest(
    sample_service: LocalService, tmp_path: Path, asgi_client: Any
) -> None:
    async with asgi_client(
        app_for(sample_service, tmp_path, allow_origins=("http://localhost:5173",))
    ) as client:
        refused = await client.post(
            "/api/tasks", json=TASK, headers={"Origin": "http://evil.example"}
        )
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden_origin"
        allowed = await client.post(
            "/api/tasks", json=TASK, headers={"Origin": "http://localhost:5173"}
        )
        assert allowed.status_code == 201
        assert allowed.headers["access-control-allow-origin"] == "http://localhost:5173"
        no_origin = await client.get("/api/tasks")
        assert no_origin.status_code == 200


async def test_foreign_origin_and_host_refused_on_websocket_handshake(
    sample_service: LocalService, tmp_path: Path, live_server: Any
) -> None:
    server = await live_server(app_for(sample_service, tmp_path))
    url = f"ws://127.0.0.1:{server.port}/ws"
    with pytest.raises(InvalidStatus) as refused:
        async with connect(url, origin="http://evil.example", proxy=None):  # type: ignore[arg-type]
            pass
    assert refused.value.response.status_code == 403
    assert await raw_handshake_status(server.port, host="evil.example:3002") == 403
    assert await raw_handshake_status(server.port, host="localhost:3002") == 101
    async with connect(url, proxy=None) as ws:
        assert '"snapshot"' in str(await ws.recv())


async def test_non_json_body_refused(
    sample_service: LocalService, tmp_path: Path, asgi_client: Any
) -> None:
    async with asgi_client(app_for(sample_service, tmp_path)) as client:
        form = await client.post("/api/tasks", data={"type": "SAMPLE"})
        assert form.status_code == 415 and "application/json" in form.json()["error"]["message"]
        text = await client.post(
            "/api/tasks", content=b'{"type": "SAMPLE"}', headers={"Content-Type": "text/plain"}
        )
        assert text.status_code == 415
        none = await client.post("/api/tasks", content=b'{"type": "SAMPLE"}')
        assert none.status_code == 415
        charset = await client.post(
            "/api/tasks",
            content=b'{"type": "SAMPLE"}',
            headers={"Content-Type": "application/json; charset=utf-8"},
        )
        assert charset.status_code == 201
        assert (
            await client.post("/api/queue/pause")
        ).status_code == 200  # no body: no content type needed


async def test_oversize_body_refused(
    sample_service: LocalService, tmp_path: Path, asgi_client: Any
) -> None:
    async with asgi_client(app_for(sample_service, tmp_path, max_body_bytes=1000)) as client:
        big = {"type": "SAMPLE", "data": {"label": "x" * 2000}}
        response = await client.post("/api/tasks", json=big)
        assert (
            response.status_code == 413 and response.json()["error"]["code"] == "payload_too_large"
        )

        async def chunks() -> Any:  # no Content-Length: the limit applies while reading
            for _ in range(5):
                yield b" " * 400

        streamed = await client.post("/api/tasks", content=chunks(), headers=JSON)
        assert streamed.status_code == 413
        assert (await client.post("/api/tasks", json=TASK)).status_code == 201


async def test_with_token_every_route_needs_it(
    sample_service: LocalService, tmp_path: Path, asgi_client: Any, live_server: Any
) -> None:
    app = app_for(sample_service, tmp_path, host="0.0.0.0", token="tok-123")
    good = {"Authorization": "Bearer tok-123"}
    async with asgi_client(app) as client:
        routes = [
            ("GET", "/api/tasks"), ("POST", "/api/tasks"), ("GET", "/api/tasks/types"), ("GET", "/api/tasks/x"),
            ("DELETE", "/api/tasks/x"), ("POST", "/api/tasks/x/cancel"), ("POST", "/api/tasks/x/retry"),
            ("POST", "/api/tasks/x/revert"), ("GET", "/api/tasks/x/items"), ("GET", "/api/tasks/x/logs"),
            ("POST", "/api/quick/mbti-assignment"), ("POST", "/api/queue/pause"), ("POST", "/api/queue/resume"),
            ("GET", "/api/status"), ("GET", "/api/backups"), ("POST", "/api/backups/x.db/restore"),
            ("GET", "/api/characters/summary"), ("GET", "/openapi.json"), ("GET", "/nowhere"),
        ]  # fmt: skip
        for method, path in routes:
            missing = await client.request(method, path)
            assert missing.status_code == 401, (method, path)
            wrong = await client.request(method, path, headers={"Authorization": "Bearer tok-124"})
            assert wrong.status_code == 401, (method, path)
        assert (await client.get("/api/tasks", headers=good)).status_code == 200
        assert (await client.post("/api/tasks", json=TASK, headers=good)).status_code == 201
        # A non-loopback bind does not check Host names (the token does the work).
        assert (
            await client.get("/api/tasks", headers={**good, "Host": "server.lan:3002"})
        ).status_code == 200

    server = await live_server(app)
    url = f"ws://127.0.0.1:{server.port}/ws"
    with pytest.raises(InvalidStatus) as refused:
        async with connect(url, proxy=None):
            pass
    assert refused.value.response.status_code == 401
    async with connect(url, additional_headers=good, proxy=None) as ws:
        assert '"snapshot"' in str(await ws.recv())
    async with connect(url + "?token=tok-123", proxy=None) as ws:
        assert '"snapshot"' in str(await ws.recv())


def test_migration_path_outside_the_directory_refused(tmp_path: Path) -> None:
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    (migrations / "001_add.sql").write_text("ALTER TABLE Character ADD COLUMN z TEXT;")
    (tmp_path / "secret.sql").write_text("DROP TABLE Character;")
    (migrations / "link.sql").symlink_to(tmp_path / "secret.sql")

    types = [info_of("DATABASE_UPGRADE", DatabaseUpgradeParams)]
    inside = restrict_local_paths({"migrationScript": "001_add.sql"}, types, migrations)
    assert inside["migrationScript"] == str((migrations / "001_add.sql").resolve())
    sql = {"migrationScript": "ALTER TABLE Character ADD COLUMN y TEXT"}
    assert restrict_local_paths(sql, types, migrations) == sql
    for outside in ("../secret.sql", str(tmp_path / "secret.sql"), "/etc/passwd", "link.sql"):
        with pytest.raises(Exception) as refused:
            restrict_local_paths({"migrationScript": outside}, types, migrations)
        assert getattr(refused.value, "status_code", None) == 403 and "migrationScript" in str(
            refused.value
        )


class CardImportParams(TaskParams):
    cardFile: str = Field(json_schema_extra={LOCAL_PATH_KEY: True})
    migrationScript: str = ""  # the same name as the upgrade's field, but not marked


def info_of(name: str, params: type[TaskParams]) -> TaskTypeInfo:
    return TaskTypeInfo(name, name.title(), "", params.model_json_schema())


def test_the_schema_marks_decide_which_fields_are_paths(tmp_path: Path) -> None:
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    (migrations / "card.json").write_text("{}")
    types = [info_of("CARD_IMPORT", CardImportParams)]
    data = {"cardFile": "card.json", "migrationScript": "/etc/passwd"}
    assert restrict_local_paths(data, types, migrations) == {
        "cardFile": str((migrations / "card.json").resolve()),
        "migrationScript": "/etc/passwd",  # not marked in any schema given: not a path
    }
    with pytest.raises(ApiError) as refused:  # a pure path field: even "SELECT 1" is a path
        restrict_local_paths({"cardFile": "../x"}, types, migrations)
    assert refused.value.status_code == 403


async def test_migration_path_refused_over_http(
    demo_runtime: Any, tmp_path: Path, asgi_client: Any
) -> None:
    (tmp_path / "evil.sql").write_text("DROP TABLE Character;")
    migrations = demo_runtime.settings.migrations_dir
    (migrations / "ok.sql").write_text("ALTER TABLE Character ADD COLUMN fromfile TEXT;")
    from tui_updater.server.app import create_app

    app = create_app(demo_runtime.service, ServerSettings(), migrations_dir=migrations)
    async with asgi_client(app) as client:
        for path in ("../evil.sql", str(tmp_path / "evil.sql"), "/etc/passwd"):
            refused = await client.post(
                "/api/quick/database-upgrade", json={"migrationScript": path}
            )
            assert refused.status_code == 403, refused.text
            assert refused.json()["error"]["details"]["field"] == "migrationScript"
            via_tasks = await client.post(
                "/api/tasks", json={"type": "database-upgrade", "data": {"migrationScript": path}}
            )
            assert via_tasks.status_code == 403
        missing = await client.post(
            "/api/quick/database-upgrade", json={"migrationScript": "absent.sql"}
        )
        assert missing.status_code == 422 and "absent.sql" in missing.json()["error"]["message"]
        accepted = await client.post(
            "/api/quick/database-upgrade", json={"migrationScript": "ok.sql"}
        )
        assert accepted.status_code == 201, accepted.text
        assert accepted.json()["data"]["migrationScript"] == str((migrations / "ok.sql").resolve())


async def raw_handshake_status(port: int, *, host: str) -> int:
    """Send a WebSocket upgrade with a chosen Host header; return the HTTP status."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"GET /ws HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    status_line = await reader.readline()
    writer.close()
    return int(status_line.split()[1])


def test_response_is_json_error_shape() -> None:
    body = httpx.Response(
        403, json={"error": {"code": "x", "message": "m", "details": None}}
    ).json()
    assert set(body["error"]) == {"code", "message", "details"}
