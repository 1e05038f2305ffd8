"""The state dir's owner in this process, a second opener attaching over its Unix socket."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tui_updater.commands.attach import own_or_attach
from tui_updater.config import Settings
from tui_updater.core.events import EventType
from tui_updater.ownership import StateDirOwned, read_owner
from tui_updater.runtime import Runtime


def demo_settings(tmp_path: Path) -> Settings:
    data = tmp_path / "data"
    return Settings.for_tests(tmp_path, demo=True, data_dir=data, db_path=data / "demo" / "dev.db")


async def test_a_second_opener_is_a_client_of_the_owner_over_its_socket(tmp_path: Path) -> None:
    settings = demo_settings(tmp_path)
    owner = await Runtime.open(settings, synchronous="NORMAL")
    try:
        published = read_owner(settings.state_dir)
        assert published is not None and published.socket == str(owner.owner.socket)  # type: ignore[union-attr]
        assert stat.S_IMODE(os.stat(published.socket).st_mode) == 0o600
        with pytest.raises(StateDirOwned) as refused:
            await Runtime.open(settings)
        assert f"pid {published.pid}" in str(refused.value)

        attached = await own_or_attach(settings, mode="dashboard")
        try:
            assert attached.runtime is None and attached.owner == published
            info = await attached.service.info()
            assert info.database == str(settings.db_path.resolve())
            subscription = attached.service.subscribe()  # the WebSocket, over the Unix socket
            try:
                task = await attached.service.submit("MBTI_ASSIGNMENT", {}, "NORMAL")
                assert owner.engine.live_task(task.task_id) is not None or (
                    await owner.engine.get_task(task.task_id)
                )
                seen: set[EventType] = set()
                async for batch in subscription.batches():
                    seen |= {e.type for e in batch if e.task_id == task.task_id}
                    if EventType.TASK_COMPLETED in seen:
                        break
            finally:
                subscription.close()
            stored = await owner.engine.wait(task.task_id)
            assert stored.database == str(settings.db_path.resolve())
            # The queue filtered by database, through REST ?database= on the socket.
            mine = await attached.service.list_tasks(database=stored.database)
            assert [t.task_id for t in mine] == [task.task_id]
            assert await attached.service.list_tasks(database="/elsewhere/dev.db") == []
            assert await attached.service.count_tasks(database=stored.database) == 1
        finally:
            await attached.aclose()
    finally:
        await owner.close()
    assert published.socket not in {str(p) for p in settings.state_dir.iterdir()}  # removed

    again = await own_or_attach(settings, mode="dashboard")  # the next opener owns it now
    try:
        assert again.runtime is not None
    finally:
        await again.aclose()
