"""DATABASE_UPGRADE beside Prisma: its migration history and its prisma/migrations folder.

The database is made as `prisma migrate deploy` makes it: Prisma's exact SQLite DDL for
``_prisma_migrations`` and its row per applied migration (uuid v4 id, sha256 hex checksum of the
migration.sql bytes, integer epoch-ms started/finished, NULL logs and rolled_back_at, 1 step).
``prisma_status`` decides as `migrate status`/`migrate deploy` do: a migration is applied when
a row of its name is finished and not rolled back; a finished row whose checksum differs is an
edited migration; a row neither finished nor rolled back is a failed one (P3009).
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.tasks.test_upgrade import Harness, dump, execute
from tui_updater.characters.migration import live_content_hash
from tui_updater.config import Settings
from tui_updater.core.journal import JournalState
from tui_updater.core.models import ItemStatus
from tui_updater.core.service import TaskTypeInfo
from tui_updater.server.security import restrict_local_paths
from tui_updater.tasks.upgrade import DatabaseUpgradeParams
from tui_updater.tasks.upgrade_record import latest_apply

PRISMA_HISTORY_DDL = """
CREATE TABLE "_prisma_migrations" (
    "id"                    TEXT PRIMARY KEY NOT NULL,
    "checksum"              TEXT NOT NULL,
    "finished_at"           DATETIME,
    "migration_name"        TEXT NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        DATETIME,
    "started_at"            DATETIME NOT NULL DEFAULT current_timestamp,
    "applied_steps_count"   INTEGER UNSIGNED NOT NULL DEFAULT 0
)
"""

INIT = """-- CreateTable
CREATE TABLE "Character" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "name" TEXT NOT NULL,
    "mbtiType" TEXT,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" DATETIME NOT NULL
);
"""
ADD_GREETING = '-- AlterTable\nALTER TABLE "Character" ADD COLUMN "greeting" TEXT;\n'
BROKEN = '-- AlterTable\nALTER TABLE "NoSuchTable" ADD COLUMN "x" TEXT;\n'
ADD_TAGS = (
    '-- AlterTable\nALTER TABLE "Character" ADD COLUMN "tags" TEXT NOT NULL DEFAULT \'[]\';\n'
)
UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def write_migration(folder: Path, name: str, sql: str) -> Path:
    directory = folder / name
    directory.mkdir(parents=True)
    (directory / "migration.sql").write_bytes(sql.encode())
    return directory


def deploy_like_prisma(db: Path, directory: Path) -> None:
    """What `prisma migrate deploy` does for one migration on SQLite."""
    script = (directory / "migration.sql").read_bytes()
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        started = 1_764_590_000_000
        conn.executescript(script.decode())
        conn.execute(
            'INSERT INTO "_prisma_migrations" ("id", "checksum", "started_at", "migration_name") '
            "VALUES (?, ?, ?, ?)",
            (str(uuid.uuid4()), hashlib.sha256(script).hexdigest(), started, directory.name),
        )
        conn.execute(
            'UPDATE "_prisma_migrations" SET "applied_steps_count" = 1, "finished_at" = ? '
            'WHERE "migration_name" = ?',
            (started + 12, directory.name),
        )
    finally:
        conn.close()


def prisma_status(db: Path, folder: Path) -> dict[str, list[str]]:
    rows = execute(
        db,
        'SELECT "migration_name", "checksum", "finished_at" IS NOT NULL FROM "_prisma_migrations" '
        'WHERE "rolled_back_at" IS NULL',
    )
    finished = {name: checksum for name, checksum, done in rows if done}
    local = sorted(p.name for p in folder.iterdir() if (p / "migration.sql").is_file())
    edited = [
        name
        for name in local
        if name in finished
        and finished[name]
        != hashlib.sha256((folder / name / "migration.sql").read_bytes()).hexdigest()
    ]
    return {
        "notApplied": [name for name in local if name not in finished],
        "failed": [name for name, _, done in rows if not done],
        "edited": edited,
    }


def history(db: Path) -> list[dict[str, Any]]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return [
            dict(row)
            | {f"typeof_{k}": row[f"t_{k}"] for k in ("finished_at", "started_at", "logs")}
            for row in conn.execute(
                'SELECT *, typeof("finished_at") AS t_finished_at, typeof("started_at") AS '
                't_started_at, typeof("logs") AS t_logs FROM "_prisma_migrations" ORDER BY rowid'
            )
        ]
    finally:
        conn.close()


@pytest.fixture
def prisma(tmp_path: Path) -> tuple[Harness, Path]:
    """A Prisma-managed database (init deployed) and its prisma/migrations folder."""
    settings = Settings.for_tests(tmp_path)
    folder = settings.migrations_dir / "prisma" / "migrations"
    init = write_migration(folder, "20260101000000_init", INIT)
    (folder / "migration_lock.toml").write_text('provider = "sqlite"\n')
    execute(settings.db_path, PRISMA_HISTORY_DDL)
    execute(settings.db_path, "PRAGMA journal_mode=WAL")
    deploy_like_prisma(settings.db_path, init)
    execute(
        settings.db_path,
        "INSERT INTO \"Character\" (id, name, updated_at) VALUES ('c1', 'Alice', 1764590000000)",
    )
    return Harness(settings), folder


async def test_a_migration_directory_is_recorded_as_prisma_records_it(
    prisma: tuple[Harness, Path],
) -> None:
    harness, folder = prisma
    directory = write_migration(folder, "20260201000000_greeting", ADD_GREETING)
    assert prisma_status(harness.db, folder)["notApplied"] == ["20260201000000_greeting"]

    item, summary = await harness.run({"migrationScript": str(directory)})

    assert item.status is ItemStatus.DONE, item.error
    assert summary["migrationName"] == "20260201000000_greeting" and summary["prismaRecorded"]
    assert "recorded as 20260201000000_greeting" in summary["message"]
    assert prisma_status(harness.db, folder) == {"notApplied": [], "failed": [], "edited": []}
    prismas, ours = history(harness.db)
    assert UUID4.fullmatch(ours["id"]) and ours["id"] != prismas["id"]
    assert ours["checksum"] == hashlib.sha256(ADD_GREETING.encode()).hexdigest()
    assert ours["migration_name"] == "20260201000000_greeting"
    assert ours["started_at"] <= ours["finished_at"]
    assert ours["applied_steps_count"] == 1 and ours["rolled_back_at"] is None
    for key in ("finished_at", "started_at", "logs", "rolled_back_at", "applied_steps_count"):
        assert type(ours[key]) is type(prismas[key]), key  # the same storage as Prisma's row
    assert ours["typeof_finished_at"] == "integer" and ours["typeof_logs"] == "null"
    # The record the restart check reads covers the history row: it is part of the content.
    record = await latest_apply(harness.characters.journal, "task_1")
    assert record is not None and record.content_after == live_content_hash(harness.db)


async def test_a_recorded_migration_is_reported_and_not_run_again(
    prisma: tuple[Harness, Path],
) -> None:
    harness, folder = prisma
    directory = write_migration(folder, "20260201000000_greeting", ADD_GREETING)
    await harness.run({"migrationScript": str(directory)})
    before = dump(harness.db)

    again = Harness(harness.settings)  # another task, same migration
    item, summary = await again.run({"migrationScript": str(directory / "migration.sql")})

    assert item.status is ItemStatus.DONE, item.error
    assert summary["alreadyApplied"] is True and summary["statementsExecuted"] == 0
    assert "already applied (recorded in _prisma_migrations)" in summary["message"]
    assert dump(harness.db) == before and len(history(harness.db)) == 2


async def test_inline_sql_with_a_name_is_recorded_and_no_history_means_no_record(
    prisma: tuple[Harness, Path], tmp_path: Path
) -> None:
    harness, _folder = prisma
    item, _ = await harness.run({"migrationScript": ADD_GREETING, "migrationName": "20260301_x"})
    assert item.status is ItemStatus.DONE, item.error
    assert history(harness.db)[-1]["checksum"] == hashlib.sha256(ADD_GREETING.encode()).hexdigest()

    plain = Harness(Settings.for_tests(tmp_path / "plain"))
    execute(plain.db, INIT.split("-- CreateTable\n", 1)[1])
    item, summary = await plain.run({"migrationScript": ADD_GREETING, "migrationName": "x"})
    assert item.status is ItemStatus.DONE and summary["prismaRecorded"] is False
    tables = {row[0] for row in execute(plain.db, "SELECT name FROM sqlite_master")}
    assert "_prisma_migrations" not in tables  # Prisma's table is never created here


async def test_a_migration_prisma_recorded_as_failed_is_not_run(
    prisma: tuple[Harness, Path],
) -> None:
    harness, folder = prisma
    directory = write_migration(folder, "20260201000000_greeting", ADD_GREETING)
    execute(
        harness.db,
        'INSERT INTO "_prisma_migrations" ("id", "checksum", "started_at", "migration_name") '
        "VALUES ('f', 'c', 1, '20260201000000_greeting')",
    )
    before = dump(harness.db)
    item, _ = await harness.run({"migrationScript": str(directory)})
    assert item.status is ItemStatus.FAILED
    assert item.error is not None and "migrate resolve --rolled-back" in item.error
    assert dump(harness.db) == before


async def test_a_restart_after_commit_finds_it_applied_by_its_content(
    prisma: tuple[Harness, Path],
) -> None:
    harness, folder = prisma
    directory = write_migration(folder, "20260201000000_greeting", ADD_GREETING)
    await harness.run({"migrationScript": str(directory)})
    journal = harness.characters.journal
    (entry,) = [e for e in journal.rows if e.item_key == "migration"]
    assert entry.entry_id is not None
    await journal.mark([entry.entry_id], JournalState.PLANNED)  # died between COMMIT and mark

    item, summary = await harness.run({"migrationScript": str(directory)})

    assert item.status is ItemStatus.DONE, item.error
    assert summary["alreadyApplied"] is True and len(history(harness.db)) == 2


async def test_a_folder_of_three_stops_at_the_failing_second(
    prisma: tuple[Harness, Path], tmp_path: Path
) -> None:
    harness, folder = prisma
    write_migration(folder, "20260201000000_greeting", ADD_GREETING)
    write_migration(folder, "20260202000000_broken", BROKEN)
    write_migration(folder, "20260203000000_tags", ADD_TAGS)
    expected = tmp_path / "expected.db"
    source = sqlite3.connect(harness.db)
    target = sqlite3.connect(expected)
    source.backup(target)
    source.close()
    target.executescript(ADD_GREETING)  # the database as it is just before the second
    target.close()

    item, summary = await harness.run({"migrationScript": "prisma/migrations"})

    assert item.status is ItemStatus.FAILED and summary["success"] is False
    assert item.error is not None and item.error.startswith("migration 20260202000000_broken")
    assert "applied and recorded before it: 20260201000000_greeting" in item.error
    outcomes = {m["name"]: m["outcome"] for m in summary["migrations"]}
    assert outcomes == {
        "20260101000000_init": "alreadyApplied",
        "20260201000000_greeting": "applied",
        "20260202000000_broken": "rehearsalFailed",
        "20260203000000_tags": "notRun",
    }
    assert prisma_status(harness.db, folder)["notApplied"] == [
        "20260202000000_broken",
        "20260203000000_tags",
    ]
    assert prisma_status(harness.db, folder)["failed"] == []

    def without_history(lines: list[str]) -> list[str]:
        return [line for line in lines if '"_prisma_migrations"' not in line]

    assert without_history(dump(harness.db)) == without_history(dump(expected))
    assert len(harness.backups()) == 1


async def test_a_folder_dry_run_reports_the_pending_and_their_changes(
    prisma: tuple[Harness, Path],
) -> None:
    harness, folder = prisma
    write_migration(folder, "20260201000000_greeting", ADD_GREETING)
    write_migration(folder, "20260203000000_tags", ADD_TAGS)
    before = dump(harness.db)

    item, summary = await harness.run({"migrationScript": str(folder), "dryRun": True})

    assert item.status is ItemStatus.DONE, item.error
    assert dump(harness.db) == before and harness.backups() == []
    pending = [m for m in summary["migrations"] if m["outcome"] == "rehearsed"]
    assert [m["name"] for m in pending] == ["20260201000000_greeting", "20260203000000_tags"]
    assert [m["schemaDiff"]["columnsAdded"][0]["column"] for m in pending] == ["greeting", "tags"]
    assert "2 pending" in summary["message"]


async def test_a_folder_applies_every_pending_one_then_has_nothing_left(
    prisma: tuple[Harness, Path],
) -> None:
    harness, folder = prisma
    write_migration(folder, "20260201000000_greeting", ADD_GREETING)
    write_migration(folder, "20260203000000_tags", ADD_TAGS)

    item, summary = await harness.run({"migrationScript": str(folder)})

    assert item.status is ItemStatus.DONE, item.error
    assert summary["statementsExecuted"] == 2 and len(harness.backups()) == 1
    assert prisma_status(harness.db, folder) == {"notApplied": [], "failed": [], "edited": []}
    again = Harness(harness.settings)
    item, summary = await again.run({"migrationScript": str(folder)})
    assert item.status is ItemStatus.DONE and summary["statementsExecuted"] == 0
    assert "nothing to apply" in summary["message"]


def test_over_the_network_a_folder_must_be_inside_the_migrations_directory(tmp_path: Path) -> None:
    migrations = tmp_path / "migrations"
    write_migration(migrations / "prisma" / "migrations", "20260101000000_init", INIT)
    write_migration(tmp_path / "elsewhere", "20260101000000_drop", "DROP TABLE x;")
    schema = DatabaseUpgradeParams.model_json_schema()
    types = [TaskTypeInfo("DATABASE_UPGRADE", "Upgrade", "", schema)]
    inside = restrict_local_paths({"migrationScript": "prisma/migrations"}, types, migrations)
    assert inside["migrationScript"] == str((migrations / "prisma" / "migrations").resolve())
    with pytest.raises(Exception) as refused:
        restrict_local_paths({"migrationScript": str(tmp_path / "elsewhere")}, types, migrations)
    assert getattr(refused.value, "status_code", None) == 403


async def test_an_empty_migration_in_a_folder_is_recorded(prisma: tuple[Harness, Path]) -> None:
    harness, folder = prisma
    write_migration(folder, "20260201000000_nothing", "-- This is an empty migration.\n")
    item, summary = await harness.run({"migrationScript": str(folder)})
    assert item.status is ItemStatus.DONE, item.error
    assert prisma_status(harness.db, folder) == {"notApplied": [], "failed": [], "edited": []}


async def test_a_folder_resumed_after_a_commit_runs_nothing_twice(
    prisma: tuple[Harness, Path],
) -> None:
    harness, folder = prisma
    write_migration(folder, "20260201000000_greeting", ADD_GREETING)
    write_migration(folder, "20260203000000_tags", ADD_TAGS)
    await harness.run({"migrationScript": str(folder)})
    journal = harness.characters.journal
    last = [e for e in journal.rows if e.item_key == "migration"][-1]
    assert last.entry_id is not None
    await journal.mark([last.entry_id], JournalState.PLANNED)  # died between COMMIT and mark
    before = dump(harness.db)

    item, summary = await harness.run({"migrationScript": str(folder)})

    assert item.status is ItemStatus.DONE, item.error
    assert {m["outcome"] for m in summary["migrations"]} == {"alreadyApplied"}
    assert dump(harness.db) == before and len(history(harness.db)) == 3
    assert journal.rows[last.entry_id - 1].state is JournalState.APPLIED
