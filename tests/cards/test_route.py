"""POST /api/characters/export over the network: cards land under the server's cards/ only."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.server.conftest import app_for, demo_settings
from tui_updater.core.service import CharacterQuery
from tui_updater.runtime import Runtime
from tui_updater.server.embedded import start_server


async def test_a_request_names_only_a_folder_under_cards(tmp_path: Path) -> None:
    runtime = await Runtime.open(demo_settings(tmp_path), synchronous="NORMAL")
    server = await start_server(app_for(runtime.service, tmp_path), "127.0.0.1", 0)
    try:
        ids = (await runtime.service.character_ids(CharacterQuery()))[:2]
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as api:
            for bad in ("/tmp/elsewhere", "../outside", "a/../../b"):
                refused = await api.post(
                    "/api/characters/export", json={"ids": ids, "directory": bad}
                )
                assert refused.status_code == 403, refused.text
                assert refused.json()["error"]["code"] == "forbidden_path"
            wrong = await api.post("/api/characters/export", json={"ids": ids, "format": "v9"})
            assert wrong.status_code == 422 and "format" in wrong.text
            done = await api.post(
                "/api/characters/export", json={"ids": ids, "format": "v2", "directory": "net"}
            )
            assert done.status_code == 200, done.text
        report = done.json()
        assert report["exported"] == 2
        assert report["directory"] == str(runtime.settings.data_dir / "cards" / "net")
    finally:
        await server.stop()
        await runtime.close()
