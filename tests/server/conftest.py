"""Builders for server tests: services over the real engine, ASGI clients, live uvicorn servers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from tests.engine.sample_types import Recorder, sample_registry
from tui_updater.config import EngineSettings, ServerSettings, Settings
from tui_updater.core.models import BackupInfo
from tui_updater.core.service import ServiceInfo
from tui_updater.engine.engine import Engine
from tui_updater.engine.service import LocalService
from tui_updater.runtime import Runtime
from tui_updater.server.app import create_app
from tui_updater.server.embedded import RunningServer, start_server
from tui_updater.store.sqlite import SqliteTaskStore


class NoBackups:
    def list(self) -> list[BackupInfo]:
        return []

    async def restore(self, name: str, db_path: Path) -> dict[str, Any]:
        raise AssertionError("not used")


class NoCharacters:
    async def summary(self) -> dict[str, Any]:
        return {"total": 0}


SAMPLE_INFO = ServiceInfo("sample.db", False, "offline", False, "offline", "offline", "test")


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def sample_service(tmp_path: Path, recorder: Recorder) -> AsyncIterator[LocalService]:
    """A LocalService over the real engine and store, with the test-only SAMPLE task type."""
    store = SqliteTaskStore(tmp_path / "tasks.db", synchronous="NORMAL")
    await store.open()
    engine = Engine(
        store,
        sample_registry(recorder),
        None,
        EngineSettings(retry_base_delay_s=0.01, retry_max_delay_s=0.02),
    )
    await engine.start()
    yield LocalService(
        engine,
        SAMPLE_INFO,
        backups=NoBackups(),
        characters=NoCharacters(),
        db_path=tmp_path / "dev.db",
    )
    await engine.stop()
    await store.close()


def demo_settings(tmp_path: Path, **server: Any) -> Settings:
    settings = Settings.for_tests(tmp_path, demo=True)
    return settings.evolve(
        db_path=settings.data_dir / "demo" / "dev.db", server=ServerSettings(**server)
    )


@pytest.fixture
async def demo_runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    """The real runtime (all four task types, offline provider) on the demo database."""
    runtime = await Runtime.open(demo_settings(tmp_path), synchronous="NORMAL")
    yield runtime
    await runtime.close()


@pytest.fixture
def asgi_client() -> Callable[..., httpx.AsyncClient]:
    """An httpx client calling an app in-process; Host defaults to 127.0.0.1."""

    def make(
        app: Starlette, *, base_url: str = "http://127.0.0.1:3002", **kwargs: Any
    ) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=base_url, **kwargs
        )

    return make


@pytest.fixture
async def live_server() -> AsyncIterator[Callable[[Starlette], Awaitable[RunningServer]]]:
    """Start apps on real uvicorn servers on 127.0.0.1, port 0; stopped at teardown."""
    running: list[RunningServer] = []

    async def start(app: Starlette) -> RunningServer:
        server = await start_server(app, "127.0.0.1", 0)
        running.append(server)
        return server

    yield start
    for server in running:
        with contextlib.suppress(Exception):
            await server.stop()


def app_for(service: Any, tmp_path: Path, **server: Any) -> Starlette:
    migrations = tmp_path / "migrations"
    migrations.mkdir(exist_ok=True)
    return create_app(service, ServerSettings(**server), migrations_dir=migrations)


async def wait_until(predicate: Callable[[], bool], *, timeout_s: float = 5.0) -> None:
    """Poll ``predicate`` until it holds (for states kept by other tasks)."""
    async with asyncio.timeout(timeout_s):
        while True:
            if predicate():
                return
            await asyncio.sleep(0.01)
