"""Character claims in tasks.db: one task per cell, released with the item, the task, the store."""

from __future__ import annotations

from pathlib import Path

from tui_updater.core.models import ItemRecord, ItemStatus, Priority, TaskRecord, TaskStatus, now_ms
from tui_updater.core.store import ClaimRequest
from tui_updater.store.sqlite import SqliteTaskStore

SCOPE = "/sites/a/dev.db"


def running(task_id: str) -> TaskRecord:
    return TaskRecord(
        task_id, "CHARACTER_AVATAR", Priority.NORMAL, TaskStatus.RUNNING, {}, now_ms()
    )


def wants(key: str, *columns: str) -> ClaimRequest:
    return ClaimRequest(key, key, columns)


async def test_a_cell_has_one_owner_until_its_item_ends(tmp_path: Path) -> None:
    store = SqliteTaskStore(tmp_path / "tasks.db")
    await store.open()
    try:
        await store.save(tasks=[running("task_a"), running("task_b")])
        assert await store.claim("task_a", SCOPE, [wants("1", "avatar", "avatarStatus")]) == {}
        assert await store.claim("task_a", SCOPE, [wants("1", "avatar")]) == {}  # its own again
        refused = await store.claim(
            "task_b", SCOPE, [wants("1", "avatarStatus"), wants("2", "avatar"), wants("1x", "a")]
        )
        assert refused == {"1": "task_a"}
        # Other fields of the same character, or the same id in another database, are free.
        assert await store.claim("task_b", SCOPE, [wants("1", "mbtiType")]) == {}
        assert await store.claim("task_b", "/sites/b/dev.db", [wants("1", "avatar")]) == {}
        item = ItemRecord("task_a", 0, "1", "one")
        await store.save(new_items=[item])
        assert await store.claim("task_b", SCOPE, [wants("1", "avatar")]) == {"1": "task_a"}
        await store.save(items=[item.evolve(status=ItemStatus.DONE)])
        assert await store.claim("task_b", SCOPE, [wants("1", "avatar")]) == {}
    finally:
        await store.close()


async def test_claims_end_with_a_task_not_running_and_on_open(tmp_path: Path) -> None:
    path = tmp_path / "tasks.db"
    store = SqliteTaskStore(path)
    await store.open()
    try:
        await store.save(tasks=[running("task_a"), running("task_b"), running("task_c")])
        await store.claim("task_a", SCOPE, [wants("1", "avatar")])
        await store.claim("task_b", SCOPE, [wants("2", "avatar")])
        await store.claim("task_c", SCOPE, [wants("3", "avatar")])
        await store.save(tasks=[running("task_a").evolve(status=TaskStatus.CANCELLED)])
        assert await store.claim("task_x", SCOPE, [wants("1", "avatar")]) == {}
        await store.delete_task("task_b")
        assert await store.claim("task_y", SCOPE, [wants("2", "avatar")]) == {}
        await store.release_claims("task_x")
    finally:
        await store.close()
    # task_c is RUNNING (a dead run's, until the engine resumes it); task_y's task never was.
    store = SqliteTaskStore(path)
    await store.open()
    try:
        assert await store.claim("task_z", SCOPE, [wants("2", "avatar")]) == {}
        assert await store.claim("task_z", SCOPE, [wants("3", "avatar")]) == {"3": "task_c"}
        await store.save(tasks=[running("task_c").evolve(status=TaskStatus.PENDING)])
        assert await store.claim("task_z", SCOPE, [wants("3", "avatar")]) == {}
    finally:
        await store.close()


async def test_a_batch_of_claims_is_refused_cell_by_cell(tmp_path: Path) -> None:
    store = SqliteTaskStore(tmp_path / "tasks.db")
    await store.open()
    try:
        await store.save(tasks=[running("task_a"), running("task_b")])
        held = [wants(str(n), "scenario") for n in range(0, 600, 3)]  # every third character
        assert await store.claim("task_a", SCOPE, held) == {}
        batch = [wants(str(n), "speakingStyle", "scenario") for n in range(600)]
        refused = await store.claim("task_b", SCOPE, batch)
        assert refused == {str(n): "task_a" for n in range(0, 600, 3)}
        # What was granted is held: task_a now finds task_b's cells taken, and only those.
        again = await store.claim("task_a", SCOPE, [wants("1", "speakingStyle"), wants("3", "x")])
        assert again == {"1": "task_b"}
    finally:
        await store.close()
