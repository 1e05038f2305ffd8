"""Review-mode helpers: the site database's whole content, read straight from the file."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from tests.server.conftest import demo_runtime, live_server  # noqa: F401 (fixtures shared)
from tui_updater.core.models import TaskRecord
from tui_updater.runtime import Runtime


def site_rows(db_path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of the site's database, in a stable order."""
    conn = sqlite3.connect(db_path)
    try:
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name"
            )
        ]
        return {
            table: sorted(conn.execute(f'SELECT * FROM "{table}"').fetchall(), key=repr)
            for table in tables
        }
    finally:
        conn.close()


def site_value(db_path: Path, character_id: str, column: str) -> Any:
    conn = sqlite3.connect(db_path)
    try:
        row = conn.execute(
            f'SELECT "{column}" FROM "Character" WHERE id=?', (character_id,)
        ).fetchone()
        return row[0]
    finally:
        conn.close()


def site_edit(db_path: Path, character_id: str, column: str, value: Any) -> None:
    """What the site itself does: an UPDATE from another connection."""
    conn = sqlite3.connect(db_path)
    try:
        conn.execute(f'UPDATE "Character" SET "{column}"=? WHERE id=?', (value, character_id))
        conn.commit()
    finally:
        conn.close()


def first_ids(db_path: Path, count: int) -> list[str]:
    conn = sqlite3.connect(db_path)
    try:
        rows = conn.execute(
            'SELECT id FROM "Character" WHERE "isDeleted" = 0 ORDER BY id LIMIT ?', (count,)
        ).fetchall()
        return [str(r[0]) for r in rows]
    finally:
        conn.close()


async def finished_review_task(runtime: Runtime, ids: list[str]) -> TaskRecord:
    """A review-mode settings task over ``ids`` (scenario rewritten), run to its end."""
    task = await runtime.service.submit(
        "CHARACTER_SETTINGS",
        {"characterIds": ids, "updateFields": ["scenario"], "overwrite": True, "review": True},
    )
    return await runtime.engine.wait(task.task_id)
