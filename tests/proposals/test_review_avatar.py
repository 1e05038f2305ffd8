"""Avatar review: the proposed image waits in the tool's data dir (never the site's avatar dir,
never the row) until accepted; accept places it and writes the row, a lost write or a reject
leaves no file behind."""

from __future__ import annotations

from pathlib import Path

from tests.proposals.conftest import site_edit, site_rows, site_value
from tui_updater.core.service import CharacterQuery
from tui_updater.runtime import Runtime


def files_in(directory: Path) -> set[str]:
    return {p.name for p in directory.rglob("*") if p.is_file()} if directory.exists() else set()


async def test_avatar_proposals_keep_their_image_apart_until_accepted(
    demo_runtime: Runtime,
) -> None:
    settings = demo_runtime.settings
    db, avatars = settings.db_path, Path(settings.avatar_dir)
    page = await demo_runtime.service.list_characters(
        CharacterQuery(filters=("missingAvatar",), limit=3)
    )
    ids = [row.character_id for row in page.rows]
    before_rows, before_files = site_rows(db), files_in(avatars)
    task = await demo_runtime.service.submit(
        "CHARACTER_AVATAR", {"characterIds": ids, "review": True}
    )
    done = await demo_runtime.engine.wait(task.task_id)
    assert done.review_pending == 3
    assert site_rows(db) == before_rows and files_in(avatars) == before_files
    first, second, third = await demo_runtime.service.list_proposals(task.task_id)
    waiting = [Path(p.files["avatar"]) for p in (first, second, third) if p.files]
    assert len(waiting) == 3 and all(path.is_file() for path in waiting)
    assert all(Path(settings.data_dir) in path.parents for path in waiting)
    assert all(avatars not in path.parents for path in waiting)
    assert first.changes["avatar"][0] in (None, "")

    (accepted,) = await demo_runtime.service.accept_proposals(
        task.task_id, [first.proposal_id or 0]
    )
    assert accepted.status == "ACCEPTED"
    public = first.proposed("avatar")
    assert site_value(db, first.character_id, "avatar") == public
    assert site_value(db, first.character_id, "avatarStatus") == "COMPLETED"
    assert files_in(avatars) == before_files | {Path(public).name}
    assert not waiting[0].exists()

    site_edit(db, second.character_id, "avatar", "/uploads/characters/avatars/site.png")
    (lost,) = await demo_runtime.service.accept_proposals(task.task_id, [second.proposal_id or 0])
    assert lost.status == "CONFLICT"
    assert site_value(db, second.character_id, "avatar") == "/uploads/characters/avatars/site.png"
    assert files_in(avatars) == before_files | {Path(public).name}
    assert not waiting[1].exists()

    await demo_runtime.service.reject_proposals(task.task_id, [third.proposal_id or 0])
    assert not waiting[2].exists()
    assert site_value(db, third.character_id, "avatar") == third.expected("avatar")

    report = await demo_runtime.service.revert(task.task_id)  # accepted is the task's own change
    assert report["reverted"] >= 1 and not (avatars / Path(public).name).exists()


async def test_deleting_a_task_removes_the_images_its_waiting_proposals_made(
    demo_runtime: Runtime,
) -> None:
    settings = demo_runtime.settings
    page = await demo_runtime.service.list_characters(
        CharacterQuery(filters=("missingAvatar",), limit=2)
    )
    ids = [row.character_id for row in page.rows]
    before_rows = site_rows(settings.db_path)
    task = await demo_runtime.service.submit(
        "CHARACTER_AVATAR", {"characterIds": ids, "review": True}
    )
    assert (await demo_runtime.engine.wait(task.task_id)).review_pending == 2
    waiting = [
        Path(p.files["avatar"])
        for p in await demo_runtime.service.list_proposals(task.task_id)
        if p.files
    ]
    assert len(waiting) == 2 and all(path.is_file() for path in waiting)

    await demo_runtime.service.delete(task.task_id)
    assert [path for path in waiting if path.exists()] == []
    assert site_rows(settings.db_path) == before_rows  # nothing was written by the deletion
