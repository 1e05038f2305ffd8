"""The header and the task detail say which character database: full path, site name if set."""

from __future__ import annotations

from tui_updater.core.models import Priority, TaskRecord, TaskStatus
from tui_updater.core.service import ServiceInfo
from tui_updater.tui.widgets.header import header_text
from tui_updater.tui.widgets.task_summary import title_text


def _info(**extra: object) -> ServiceInfo:
    base = ServiceInfo("/srv/site-a/prisma/dev.db", False, "offline", False, "c", "i", "v")
    return ServiceInfo.from_json({**base.to_json(), **extra})


def test_header_shows_the_whole_path_and_the_site_name_when_configured() -> None:
    assert "/srv/site-a/prisma/dev.db" in header_text(_info(), None, None).plain
    named = header_text(_info(siteName="Site A"), None, None).plain
    assert "Site A /srv/site-a/prisma/dev.db" in named


def test_task_detail_names_its_database() -> None:
    task = TaskRecord(
        task_id="task_1",
        type="MBTI_ASSIGNMENT",
        priority=Priority.NORMAL,
        status=TaskStatus.PENDING,
        data={},
        created_at_ms=1,
        database="/srv/site-b/prisma/dev.db",
    )
    assert "database /srv/site-b/prisma/dev.db" in title_text(task).plain
    assert "database" not in title_text(task.evolve(database=None)).plain
