"""Avatar files are data: never written over an existing file, journaled with the row, removed
by revert; a full or read-only avatar dir stops the task."""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path

import pytest

from tests.characters.dbfiles import execute, row
from tui_updater.characters.demo import create_demo_db
from tui_updater.config import Settings
from tui_updater.core.models import ItemStatus, TaskStatus
from tui_updater.errors import OutputUnwritable, PermanentError
from tui_updater.runtime import Runtime
from tui_updater.tasks.avatar_files import store_avatar, unwritable


def avatars(db: Path) -> dict[str, str | None]:
    conn = sqlite3.connect(db)
    try:
        return {str(k): v for k, v in conn.execute('SELECT id, avatar FROM "Character"')}
    finally:
        conn.close()


def test_store_never_replaces_a_file(tmp_path: Path) -> None:
    site = tmp_path / "1-avatar.png"
    site.write_bytes(b"the site's own image")
    with pytest.raises(PermanentError, match="not overwritten"):
        store_avatar(tmp_path, site.name, b"ours")
    assert site.read_bytes() == b"the site's own image"
    path = store_avatar(tmp_path, "1-avatar-task_x-abc.png", b"ours")
    assert store_avatar(tmp_path, path.name, b"ours") == path  # our own earlier write: kept
    assert sorted(p.name for p in tmp_path.iterdir()) == ["1-avatar-task_x-abc.png", site.name]


def test_full_and_read_only_directories_stop_the_task(tmp_path: Path) -> None:
    full = unwritable(tmp_path, OSError(errno.ENOSPC, "No space left on device"))
    assert isinstance(full, OutputUnwritable)
    assert str(full) == f"cannot write avatars to {tmp_path}: disk full"
    read_only = unwritable(tmp_path, OSError(errno.EROFS, "Read-only file system"))
    assert read_only is not None and "read-only" in str(read_only)
    assert unwritable(tmp_path, OSError(errno.EIO, "I/O error")) is None


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only directory")
async def test_a_read_only_avatar_dir_fails_the_task_naming_it(tmp_path: Path) -> None:
    db = create_demo_db(tmp_path / "dev.db")
    settings = Settings.for_tests(tmp_path, db_path=db)
    settings.avatar_dir.chmod(0o555)
    runtime = await Runtime.open(settings, synchronous="NORMAL")
    try:
        task = await runtime.engine.submit("CHARACTER_AVATAR", {})
        done = await runtime.engine.wait(task.task_id)
    finally:
        await runtime.close()
        settings.avatar_dir.chmod(0o755)
    assert done.status is TaskStatus.FAILED
    assert f"cannot write avatars to {settings.avatar_dir}" in (done.error or done.message)


async def test_existing_files_are_kept_and_revert_removes_the_tasks_own(tmp_path: Path) -> None:
    db = create_demo_db(tmp_path / "dev.db")
    settings = Settings.for_tests(tmp_path, db_path=db)
    before = avatars(db)
    # The site's own files under the names it uses, for every character (with or without one).
    for cid in before:
        (settings.avatar_dir / f"{cid}-avatar.png").write_bytes(f"site {cid}".encode())
    site_files = {p.name: p.read_bytes() for p in settings.avatar_dir.iterdir()}
    with_avatar = next(cid for cid, value in before.items() if value)
    # A live character that has an avatar: overwrite replaces it, revert puts it back.
    execute(db, """UPDATE "Character" SET "isDeleted" = 0 WHERE id = ?""", (with_avatar,))
    before = avatars(db)
    runtime = await Runtime.open(settings, synchronous="NORMAL")
    try:
        task = await runtime.engine.submit(
            "CHARACTER_AVATAR", {"characterIds": list(before), "overwrite": True}
        )
        done = await runtime.engine.wait(task.task_id)
        items = await runtime.engine.store.list_items(task.task_id)
        after_run = avatars(db)
        created = {p.name for p in settings.avatar_dir.iterdir()} - set(site_files)
        report = await runtime.engine.revert(task.task_id)
    finally:
        await runtime.close()
    assert done.status is TaskStatus.COMPLETED
    done_keys = [i.key for i in items if i.status is ItemStatus.DONE]
    assert with_avatar in done_keys
    assert len(created) == len(done_keys)  # one new file per character, none replaced
    for cid in done_keys:
        assert Path(str(after_run[cid])).name in created
    assert {p: (settings.avatar_dir / p).read_bytes() for p in site_files} == site_files
    assert report["skipped"] == []
    assert avatars(db) == before  # the previous avatar values are back
    assert row(db, "Character", "id", with_avatar)["avatar"] == before[with_avatar]
    remaining = {p.name for p in settings.avatar_dir.iterdir()}
    assert remaining == set(site_files)  # the task's files are gone, the site's untouched
