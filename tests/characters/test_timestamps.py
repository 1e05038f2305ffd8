"""The updated-at format per row, decided by the UPDATE itself (characters/timestamps.py)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.characters.conftest import FakeClock
from tests.characters.taskkit import StubProvider, harness, run_items
from tui_updater.characters.demo import create_demo_db
from tui_updater.characters.schema import read_schema
from tui_updater.characters.timestamps import stamp_assignment
from tui_updater.config import CharacterSettings
from tui_updater.core.models import ItemStatus
from tui_updater.tasks.mbti import MbtiAssignmentTask

NOW = 1_750_000_000_123  # 2025-06-15T15:06:40.123Z


@pytest.fixture
def conn() -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(":memory:", isolation_level=None)
    yield connection
    connection.close()


def _table(conn: sqlite3.Connection, declared: str, values: list[Any]) -> None:
    conn.execute(
        f'CREATE TABLE "Character" ("id" TEXT PRIMARY KEY, "name" TEXT, "updated_at" {declared})'
    )
    for number, value in enumerate(values, 1):
        conn.execute('INSERT INTO "Character" VALUES (?, ?, ?)', (str(number), "n", value))


def _stamp(conn: sqlite3.Connection, row_id: str) -> Any:
    schema = read_schema(conn, CharacterSettings())
    conn.execute(f'UPDATE "Character" SET {stamp_assignment(schema)} WHERE "id" = ?', (NOW, row_id))
    return conn.execute(
        'SELECT "updated_at" FROM "Character" WHERE "id" = ?', (row_id,)
    ).fetchone()[0]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (1_700_000_000_000, NOW),
        (1_700_000_000, NOW // 1000),
        (1.7e12, NOW),
        ("2024-01-01T00:00:00.000Z", "2025-06-15T15:06:40.123Z"),
        ("2024-01-01T00:00:00.000+00:00", "2025-06-15T15:06:40.123+00:00"),
        ("2024-01-01 00:00:00", "2025-06-15 15:06:40"),
        ("2024-01-01T00:00:00Z", "2025-06-15T15:06:40Z"),
    ],
)
def test_a_value_keeps_its_own_format(conn: sqlite3.Connection, old: Any, new: Any) -> None:
    _table(conn, "DATETIME", [old])
    stored = _stamp(conn, "1")
    assert stored == new and type(stored) is type(new)


def test_a_mixed_column_keeps_each_rows_format(conn: sqlite3.Connection) -> None:
    # A site upgraded from Prisma 6 (epoch ms) to Prisma 7 (ISO text): most rows are integers.
    _table(conn, "DATETIME", [1_700_000_000_000] * 5 + ["2026-12-01T12:05:12.807+00:00"])
    assert _stamp(conn, "6") == "2025-06-15T15:06:40.123+00:00"
    assert _stamp(conn, "1") == NOW


def test_a_null_takes_the_newest_rows_format(conn: sqlite3.Connection) -> None:
    _table(conn, "DATETIME", [1_700_000_000_000, "2026-12-01T12:05:12.807+00:00", None])
    assert _stamp(conn, "3") == "2025-06-15T15:06:40.123+00:00"
    conn.execute('INSERT INTO "Character" VALUES (?, ?, ?)', ("4", "n", 1_700_000_000_000))
    conn.execute('INSERT INTO "Character" VALUES (?, ?, ?)', ("5", "n", None))
    assert _stamp(conn, "5") == NOW  # the newest row now is an integer one


@pytest.mark.parametrize(
    ("declared", "new"),
    [
        ("DATETIME", "2025-06-15T15:06:40.123+00:00"),
        ("TEXT", "2025-06-15T15:06:40.123+00:00"),
        ("INTEGER", NOW),
    ],
)
def test_a_column_without_values_follows_its_declared_type(
    conn: sqlite3.Connection, declared: str, new: Any
) -> None:
    _table(conn, declared, [None])
    assert _stamp(conn, "1") == new


async def test_a_task_after_rows_were_added_under_a_running_tool(tmp_path: Path) -> None:
    """An empty Prisma 7 table when the tool opens the database (as ``--serve`` does); the site
    then adds rows on its own connection; a task writes: each row keeps its own format."""
    db_path = create_demo_db(tmp_path / "dev.db")
    site = sqlite3.connect(db_path, isolation_level=None)
    site.execute('CREATE TABLE "site_rows" AS SELECT * FROM "Character"')
    site.execute('DELETE FROM "Character"')
    h = await harness(tmp_path, db_path, StubProvider(mbti="INTJ"))
    try:
        site.execute('INSERT INTO "Character" SELECT * FROM "site_rows"')
        site.execute('UPDATE "Character" SET "mbtiType" = NULL')
        site.execute(
            'UPDATE "Character" SET "updated_at" = '
            "strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now') WHERE rowid % 3 != 0"
        )
        site.execute(  # one row as a Prisma 6 site wrote it: epoch ms
            'UPDATE "Character" SET "updated_at" = 1760000000000 WHERE rowid % 3 = 0'
        )
        formats = dict(site.execute('SELECT "id", typeof("updated_at") FROM "Character"'))
        assert set(formats.values()) == {"text", "integer"}
        items = await run_items(MbtiAssignmentTask(), h, MbtiAssignmentTask().parse_params({}))
        assert items and all(i.status is ItemStatus.DONE for i in items)
    finally:
        await h.db.close()
    stored = dict(site.execute('SELECT "id", "updated_at" FROM "Character"').fetchall())
    site.close()
    written = {i.key for i in items}
    assert len(written) > 3 and {formats[k] for k in written} == {"text", "integer"}
    for row_id in written:
        value = stored[row_id]
        if formats[row_id] == "integer":
            assert value == FakeClock().now_ms
        else:
            assert value == "2025-06-15T15:06:40.123+00:00"


def test_instant_of_reads_every_stored_format() -> None:
    from tui_updater.characters.timestamps import instant_of

    ms = 1_764_590_712_807  # 2025-12-01T12:05:12.807Z
    assert instant_of(ms) == ms
    assert instant_of(ms // 1000) == (ms // 1000) * 1000
    assert instant_of("2025-12-01T12:05:12.807+00:00") == ms
    assert instant_of("2025-12-01T12:05:12.807Z") == ms
    assert instant_of("2025-12-01 12:05:12") == (ms // 1000) * 1000
    assert instant_of(None) is None and instant_of("soon") is None and instant_of(True) is None


def test_a_write_stamps_a_whole_second_away_from_what_it_replaces() -> None:
    # ISO text without milliseconds: a stamp in the same second would read back identical to the
    # value it replaced, and a write the site later undid would look never written.
    from types import SimpleNamespace

    from tui_updater.characters.writer import CharacterWriter

    now = 1_764_590_712_807
    db = SimpleNamespace(clock=lambda: now)
    schema = SimpleNamespace(has=lambda name: name == "updatedAt")
    writer = CharacterWriter(db)  # type: ignore[arg-type]
    stamp = writer._fresh_stamp(schema, {"2025-12-01 12:05:12"})  # type: ignore[arg-type]
    assert stamp is not None and stamp // 1000 != now // 1000
    assert writer._fresh_stamp(schema, {"2020-01-01 00:00:00"}) == now  # type: ignore[arg-type]
