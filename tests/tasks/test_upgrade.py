"""DATABASE_UPGRADE driven through its TaskType methods on real SQLite files."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.characters.memjournal import InMemoryJournal
from tui_updater.characters import migration, sqlitecopy
from tui_updater.characters.access import SharedExclusiveLock
from tui_updater.characters.backups import BackupStore
from tui_updater.config import Settings
from tui_updater.core.models import ItemRecord, ItemStatus
from tui_updater.errors import InvalidParameters, TransientError
from tui_updater.tasks import upgrade
from tui_updater.tasks.base import TaskContext
from tui_updater.tasks.resources import TaskResources
from tui_updater.tasks.upgrade import DatabaseUpgradeTask

SCHEMA = """
CREATE TABLE "Character" (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, description TEXT NOT NULL DEFAULT '',
    mbtiType TEXT, avatar TEXT, avatarStatus TEXT DEFAULT 'PENDING',
    created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL
);
CREATE TABLE "Chat" (id INTEGER PRIMARY KEY, characterId TEXT REFERENCES "Character"(id));
INSERT INTO "Character" (id, name, mbtiType, created_at, updated_at)
    VALUES ('c1', 'Alice', 'INTP', 1, 1), ('c2', 'Bob', NULL, 1, 1);
INSERT INTO "Chat" (characterId) VALUES ('c1');
"""

GOOD_SCRIPT = """
ALTER TABLE "Character" ADD COLUMN greeting TEXT DEFAULT 'hello; world';
CREATE TRIGGER greet AFTER INSERT ON "Character" BEGIN
    UPDATE "Character" SET greeting = 'hi; ' || NEW.name WHERE id = NEW.id;
END;
INSERT INTO "Character" (id, name, created_at, updated_at) VALUES ('c3', 'Cleo', 2, 2);
"""


@dataclass
class JournalOnly:
    """What DATABASE_UPGRADE uses of the character database: its journal (in tasks.db) and the
    lock that keeps the tool's own writes out while it runs."""

    journal: InMemoryJournal = field(default_factory=InMemoryJournal)
    access: SharedExclusiveLock = field(default_factory=SharedExclusiveLock)


@dataclass
class Harness:
    settings: Settings
    task: DatabaseUpgradeTask = field(default_factory=DatabaseUpgradeTask)
    logs: list[tuple[str, str]] = field(default_factory=list)
    characters: JournalOnly = field(default_factory=JournalOnly)

    @property
    def db(self) -> Path:
        return self.settings.db_path

    @property
    def ctx(self) -> TaskContext:
        store = BackupStore(self.settings.backup_dir, keep=self.settings.backups_keep)
        resources = TaskResources(
            settings=self.settings,
            provider=None,  # type: ignore[arg-type]
            characters=self.characters,
            backups=store,
        )
        return TaskContext(
            "task_1", resources=resources, log=lambda lvl, msg: self.logs.append((lvl, msg))
        )

    async def obtain(self, data: dict[str, Any]) -> tuple[Any, ItemRecord, dict[str, Any]]:
        params = self.task.parse_params(data)
        await self.task.check(self.ctx, params)
        (spec,) = await self.task.select(self.ctx, params)
        item = ItemRecord("task_1", 0, spec.key, spec.label)
        return params, item, await self.task.obtain(self.ctx, params, item)

    async def apply(self, params: Any, item: ItemRecord, result: dict[str, Any]) -> ItemRecord:
        (outcome,) = await self.task.apply(self.ctx, params, [(item, result)])
        assert outcome.key == item.key
        return item.evolve(
            status=outcome.status, error=outcome.error, result=outcome.result or result
        )

    async def run(self, data: dict[str, Any]) -> tuple[ItemRecord, dict[str, Any]]:
        params, item, result = await self.obtain(data)
        finished = await self.apply(params, item, result)
        return finished, self.task.summarize(params, [finished])

    def backups(self) -> list[Path]:
        return sorted(self.settings.backup_dir.glob("*.db"))


@pytest.fixture
def harness(tmp_path: Path) -> Harness:
    settings = Settings.for_tests(tmp_path)
    conn = sqlite3.connect(settings.db_path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.executescript(SCHEMA)
    conn.close()
    return Harness(settings)


def dump(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def execute(path: Path, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(sql).fetchall()
        conn.commit()
        return rows
    finally:
        conn.close()


async def test_applies_a_script_with_a_trigger_and_semicolons_in_strings(harness: Harness) -> None:
    item, summary = await harness.run({"migrationScript": GOOD_SCRIPT})

    assert item.status is ItemStatus.DONE, item.error
    assert summary["success"] is True and summary["statementsExecuted"] == 3
    assert summary["schemaDiff"]["columnsAdded"] == [
        {"table": "Character", "column": "greeting", "type": "TEXT DEFAULT 'hello; world'"}
    ]
    assert summary["schemaDiff"]["tablesAdded"] == []
    assert summary["validation"] == {"integrity": "ok", "foreignKeys": "ok", "characterTable": "ok"}
    assert summary["backup"]["path"] == str(harness.backups()[0])
    assert summary["dryRun"] is False and summary["restored"] is False
    assert execute(harness.db, 'SELECT id, greeting FROM "Character" ORDER BY id') == [
        ("c1", "hello; world"),
        ("c2", "hello; world"),
        ("c3", "hi; Cleo"),
    ]
    messages = " ".join(msg for _lvl, msg in harness.logs)
    for step in ("backing up", "rehearsing", "applying", "validating"):
        assert step in messages


async def test_reads_the_script_from_the_migrations_dir(harness: Harness) -> None:
    (harness.settings.migrations_dir / "002_greeting.sql").write_text(GOOD_SCRIPT, "utf-8")

    item, summary = await harness.run({"migrationScript": "002_greeting.sql"})

    assert item.status is ItemStatus.DONE and item.label.startswith("002_greeting.sql")
    assert summary["source"] == str(harness.settings.migrations_dir / "002_greeting.sql")


async def test_third_statement_failing_leaves_the_database_identical(harness: Harness) -> None:
    before = dump(harness.db)
    script = (
        'ALTER TABLE "Character" ADD COLUMN x TEXT;\n'
        "UPDATE \"Character\" SET x = 'y';\n"
        "INSERT INTO \"Character\" (id) VALUES ('c9');\n"
    )

    item, summary = await harness.run({"migrationScript": script})

    assert item.status is ItemStatus.FAILED
    assert summary["success"] is False and summary["statementNumber"] == 3
    assert "statement 3 failed: NOT NULL constraint failed: Character.name" in summary["message"]
    assert dump(harness.db) == before
    # The rehearsal failed, so the live database was never touched and needed no backup.
    assert harness.backups() == [] and summary["backup"] is None


async def test_foreign_key_violation_in_the_live_apply_rolls_back(harness: Harness) -> None:
    script = "DELETE FROM \"Character\" WHERE id = 'c2';"
    params, item, result = await harness.obtain({"migrationScript": script})
    # After the rehearsal the site starts a chat with c2, which the script deletes.
    execute(harness.db, "INSERT INTO \"Chat\" (characterId) VALUES ('c2')")
    before = dump(harness.db)

    finished = await harness.apply(params, item, result)
    summary = harness.task.summarize(params, [finished])

    assert finished.status is ItemStatus.FAILED
    assert "rolled back" in summary["message"] and "Chat → Character" in summary["message"]
    assert summary["restored"] is False
    assert dump(harness.db) == before


async def test_statement_failure_in_the_live_apply_names_the_statement(harness: Harness) -> None:
    script = (
        'CREATE TABLE "Note" (id TEXT PRIMARY KEY);\nINSERT INTO "Note" VALUES (\'n1\');\n'
        "INSERT INTO \"Character\" (id, name, created_at, updated_at) VALUES ('c7', 'Neo', 3, 3);"
    )
    params, item, result = await harness.obtain({"migrationScript": script})
    execute(
        harness.db,
        "INSERT INTO \"Character\" (id, name, created_at, updated_at) VALUES ('c7', 'x', 1, 1)",
    )
    before = dump(harness.db)

    finished = await harness.apply(params, item, result)
    summary = harness.task.summarize(params, [finished])

    assert finished.status is ItemStatus.FAILED
    assert summary["statementNumber"] == 3
    assert "UNIQUE constraint failed: Character.id" in summary["message"]
    assert dump(harness.db) == before


@pytest.mark.parametrize(
    ("script", "reason"),
    [
        ('ALTER TABLE "Character" DROP COLUMN mbtiType;', "mbtiType"),
        ('ALTER TABLE "Character" DROP COLUMN name;', "'name'"),
        ("DELETE FROM \"Character\" WHERE id = 'c1';", "foreign-key violations"),
    ],
)
async def test_a_script_that_breaks_validation_never_reaches_the_live_db(
    harness: Harness, script: str, reason: str
) -> None:
    before = dump(harness.db)

    item, summary = await harness.run({"migrationScript": script})

    assert item.status is ItemStatus.FAILED
    assert "rehearsal failed" in summary["message"] and reason in summary["message"]
    assert dump(harness.db) == before


async def test_problem_seen_only_after_commit_restores_the_backup(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Simulate checks that cannot see the problem before COMMIT (rehearsal and pre-commit
    # validation off); the post-commit validation must then restore the backup.
    def unchecked(function: Any) -> Any:
        return lambda *args, **kwargs: function(*args, **{**kwargs, "validate": False})

    monkeypatch.setattr(upgrade, "rehearse", unchecked(migration.rehearse))
    monkeypatch.setattr(upgrade, "apply_live", unchecked(migration.apply_live))
    before = dump(harness.db)

    item, summary = await harness.run(
        {"migrationScript": 'ALTER TABLE "Character" DROP COLUMN mbtiType;'}
    )

    assert item.status is ItemStatus.FAILED
    assert summary["restored"] is True
    assert (
        "validation failed after commit" in summary["message"] and "mbtiType" in summary["message"]
    )
    assert summary["validation"]["characterTable"] != "ok"
    assert dump(harness.db) == before
    assert len(harness.backups()) == 1  # no extra safety backup of the broken state


async def test_a_schema_corrupted_by_the_script_is_restored_from_the_backup(
    harness: Harness,
) -> None:
    before = dump(harness.db)
    script = (
        "PRAGMA writable_schema=ON;\n"
        "UPDATE sqlite_master SET sql = 'CREATE TABLE \"Chat\" (' WHERE name = 'Chat';\n"
    )

    item, summary = await harness.run({"migrationScript": script})

    assert item.status is ItemStatus.FAILED
    assert "post-commit check failed: malformed database schema" in summary["message"]
    assert f"restored from {summary['backup']['name']}" in summary["message"]
    assert summary["restored"] is True
    assert dump(harness.db) == before
    assert execute(harness.db, "PRAGMA quick_check") == [("ok",)]


async def test_dry_run_reports_the_diff_and_changes_nothing(harness: Harness) -> None:
    before = dump(harness.db)

    item, summary = await harness.run({"migrationScript": GOOD_SCRIPT, "dryRun": True})

    assert item.status is ItemStatus.DONE
    assert summary["dryRun"] is True and summary["success"] is True
    assert [c["column"] for c in summary["schemaDiff"]["columnsAdded"]] == ["greeting"]
    assert "triggersAdded" in summary["schemaDiff"]
    assert summary["backup"] is None and harness.backups() == []
    assert dump(harness.db) == before


async def test_restart_after_commit_reports_already_applied(harness: Harness) -> None:
    params, item, result = await harness.obtain({"migrationScript": GOOD_SCRIPT})
    first = await harness.apply(params, item, result)
    after_first = dump(harness.db)

    # A crash after COMMIT but before the outcome was stored: the engine applies again.
    again = await harness.apply(params, item, result)

    assert first.status is again.status is ItemStatus.DONE
    summary = harness.task.summarize(params, [again])
    assert summary["alreadyApplied"] is True and "already been applied" in summary["message"]
    assert dump(harness.db) == after_first


async def test_migrated_schema_without_a_record_is_not_claimed(harness: Harness) -> None:
    params, item, result = await harness.obtain({"migrationScript": GOOD_SCRIPT})
    other_run = Harness(harness.settings)  # same database, another task's journal
    assert (await other_run.apply(params, item, result)).status is ItemStatus.DONE
    before = dump(harness.db)

    finished = await harness.apply(params, item, result)

    assert finished.status is ItemStatus.FAILED
    assert "this task never applied it" in (finished.error or "")
    assert dump(harness.db) == before


async def test_schema_changed_since_rehearsal_fails_without_applying(harness: Harness) -> None:
    params, item, result = await harness.obtain({"migrationScript": GOOD_SCRIPT})
    execute(harness.db, "CREATE TABLE sneaky(x)")
    before = dump(harness.db)

    finished = await harness.apply(params, item, result)

    assert finished.status is ItemStatus.FAILED
    assert "changed since the rehearsal" in (finished.error or "")
    assert dump(harness.db) == before


async def test_a_locked_database_is_a_transient_failure(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    params, item, result = await harness.obtain({"migrationScript": GOOD_SCRIPT})
    monkeypatch.setattr(sqlitecopy, "BUSY_TIMEOUT_MS", 50)
    holder = sqlite3.connect(harness.db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(TransientError, match="could not lock"):
            await harness.task.apply(harness.ctx, params, [(item, result)])
    finally:
        holder.execute("ROLLBACK")
        holder.close()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"migrationScript": "missing.sql"}, "does not exist"),
        ({"migrationScript": "-- nothing\n"}, "no SQL statements"),
        ({"migrationScript": "   "}, "must not be blank"),
        ({"migrationScript": "SELECT 1;", "extra": 1}, "unknown field"),
        ({"migrationScript": "CREATE TABLE t(x);\nCOMMIT;\nCREATE TABLE u(y);"}, "not allowed"),
    ],
)
async def test_check_refuses_bad_parameters_naming_the_field(
    harness: Harness, data: dict[str, Any], expected: str
) -> None:
    with pytest.raises(InvalidParameters) as info:
        params = harness.task.parse_params(data)
        await harness.task.check(harness.ctx, params)
    assert info.value.field in ("migrationScript", "extra")
    assert expected in str(info.value)


def test_summary_of_a_task_that_never_obtained(harness: Harness) -> None:
    params = harness.task.parse_params({"migrationScript": "SELECT 1;"})
    item = ItemRecord("task_1", 0, "migration", "x", status=ItemStatus.FAILED, error="boom")

    summary = harness.task.summarize(params, [item])

    assert summary["success"] is False and summary["message"] == "boom"
    assert summary["schemaDiff"]["tablesAdded"] == [] and summary["backup"] is None
