"""Migration scripts: splitting, loading, schema diff, rehearsal and the one-transaction apply."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from tui_updater.characters.migration import (
    apply_live,
    load_script,
    prepare_statements,
    rehearse,
    resolve_network_script,
    script_statements,
    split_statements,
)
from tui_updater.characters.schema_diff import diff_schemas, schema_fingerprint, snapshot_schema
from tui_updater.config import CharacterSettings
from tui_updater.errors import InvalidParameters, MigrationError

SCHEMA = """
CREATE TABLE "User" (id TEXT PRIMARY KEY, email TEXT);
CREATE TABLE "Character" (
    id TEXT PRIMARY KEY,
    userId TEXT REFERENCES "User"(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    personality TEXT,
    backstory TEXT,
    mbtiType TEXT,
    avatar TEXT,
    avatarStatus TEXT DEFAULT 'PENDING',
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL
);
CREATE TABLE "Chat" (id INTEGER PRIMARY KEY, characterId TEXT REFERENCES "Character"(id) ON DELETE CASCADE);
INSERT INTO "User" VALUES ('u1', 'a@example.com');
INSERT INTO "Character" (id, userId, name, description, mbtiType, created_at, updated_at)
    VALUES ('c1', 'u1', 'Alice', 'curious', 'INTP', 1700000000000, 1700000000000),
           ('c2', 'u1', '小明', '安静', NULL, 1700000000000, 1700000000000);
INSERT INTO "Chat" (characterId) VALUES ('c1'), ('c2');
"""

OVERRIDES = CharacterSettings()


def make_db(path: Path, *, wal: bool = True) -> Path:
    conn = sqlite3.connect(path, isolation_level=None)
    if wal:
        conn.execute("PRAGMA journal_mode=WAL")
    conn.executescript(SCHEMA)
    conn.close()
    return path


def dump(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def query(path: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


TRIGGER_SCRIPT = """
-- add a column; the default holds a ';' inside a string
ALTER TABLE "Character" ADD COLUMN greeting TEXT DEFAULT 'hi; there';
/* a block comment; with a semicolon */
CREATE TRIGGER character_touch AFTER UPDATE OF name ON "Character"
BEGIN
    UPDATE "Character" SET greeting = 'renamed; ' || NEW.name WHERE id = NEW.id;
    UPDATE "Character" SET avatarStatus = 'PENDING' WHERE id = NEW.id;
END;
UPDATE "Character" SET description = 'a;b' WHERE id = 'c1'; CREATE INDEX idx_name ON "Character"(name);
-- trailing comment only
"""


# --- splitting ------------------------------------------------------------------------------------


def test_split_handles_trigger_strings_comments_and_same_line_statements() -> None:
    statements = split_statements(TRIGGER_SCRIPT)

    assert len(statements) == 4
    assert statements[0].startswith("ALTER TABLE") and "'hi; there'" in statements[0]
    assert statements[1].startswith("CREATE TRIGGER") and statements[1].rstrip().endswith("END;")
    assert statements[2] == "UPDATE \"Character\" SET description = 'a;b' WHERE id = 'c1';"
    assert statements[3].startswith("CREATE INDEX idx_name")
    assert all(sqlite3.complete_statement(s) for s in statements)


def test_split_drops_blank_fragments_and_accepts_a_last_statement_without_semicolon() -> None:
    assert split_statements("-- nothing here\n;;\n/* still nothing */\n") == []
    assert split_statements("SELECT 1;\nSELECT 2 -- no semicolon") == [
        "SELECT 1;",
        "SELECT 2 -- no semicolon",
    ]


def test_split_reports_an_unterminated_statement() -> None:
    with pytest.raises(MigrationError) as info:
        split_statements("SELECT 1;\nINSERT INTO t VALUES ('open string;")
    assert info.value.statement_number == 2
    assert "incomplete" in str(info.value)


def test_prepare_unwraps_begin_commit_and_refuses_other_transaction_control() -> None:
    wrapped = split_statements("BEGIN TRANSACTION;\nCREATE TABLE t(x);\nCOMMIT;")
    assert prepare_statements(wrapped) == ["CREATE TABLE t(x);"]
    with pytest.raises(MigrationError, match="statement 2"):
        prepare_statements(split_statements("CREATE TABLE t(x);\nCOMMIT;\nDROP TABLE t;"))
    with pytest.raises(MigrationError, match="VACUUM"):
        prepare_statements(["VACUUM;"])
    savepoints = ["SAVEPOINT s;", "ROLLBACK TO s;", "RELEASE s;"]
    assert prepare_statements(savepoints) == savepoints


def test_script_statements_refuses_an_empty_script_naming_the_field() -> None:
    with pytest.raises(InvalidParameters) as info:
        script_statements("-- only a comment\n")
    assert info.value.field == "migrationScript"


# --- loading --------------------------------------------------------------------------------------


def test_load_script_returns_inline_sql_as_is() -> None:
    text, source = load_script("ALTER TABLE x ADD COLUMN y TEXT", base_dir=None)
    assert text == "ALTER TABLE x ADD COLUMN y TEXT" and source is None


def test_load_script_reads_a_file_from_the_migrations_dir(tmp_path: Path) -> None:
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    (migrations / "001_add.sql").write_text("CREATE TABLE t(x);\n", "utf-8")

    text, source = load_script("001_add.sql", base_dir=migrations)

    assert text == "CREATE TABLE t(x);\n"
    assert source == str(migrations / "001_add.sql")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "does not exist"),
        (b"", "is empty"),
        (b"  \n\t", "is empty"),
        (b"CREATE TABLE t(x \xff\xfe);", "not UTF-8"),
    ],
)
def test_load_script_file_errors_name_the_file(
    tmp_path: Path, content: bytes | None, expected: str
) -> None:
    path = tmp_path / "bad.sql"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InvalidParameters) as info:
        load_script(str(path), base_dir=None)
    assert info.value.field == "migrationScript"
    assert expected in info.value.message and "bad.sql" in info.value.message


def test_load_script_refuses_a_directory_and_unrecognisable_text(tmp_path: Path) -> None:
    folder = tmp_path / "dir.sql"
    folder.mkdir()
    with pytest.raises(InvalidParameters, match="directory"):
        load_script(str(folder), base_dir=None)
    with pytest.raises(InvalidParameters, match="neither an existing file nor SQL"):
        load_script("some/where/else", base_dir=tmp_path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read any file")
def test_load_script_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "locked.sql"
    path.write_text("SELECT 1;", "utf-8")
    path.chmod(0)
    with pytest.raises(InvalidParameters, match="cannot read"):
        load_script(str(path), base_dir=None)


def test_restricted_load_refuses_paths_outside_the_migrations_dir(tmp_path: Path) -> None:
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    (migrations / "ok.sql").write_text("CREATE TABLE t(x);", "utf-8")
    outside = tmp_path / "x.sql"
    outside.write_text('DROP TABLE "Character";', "utf-8")
    (migrations / "link.sql").symlink_to(outside)

    for value in ("../x.sql", str(outside), "link.sql", "sub/../../x.sql"):
        with pytest.raises(InvalidParameters, match="outside the migrations directory"):
            load_script(value, base_dir=migrations, restrict_to=migrations)

    text, source = load_script("ok.sql", restrict_to=migrations)
    assert text == "CREATE TABLE t(x);" and source == str((migrations / "ok.sql").resolve())
    assert resolve_network_script("ok.sql", migrations) == source
    assert resolve_network_script("CREATE TABLE y(z);", migrations) == "CREATE TABLE y(z);"


# --- schema diff ----------------------------------------------------------------------------------


def test_diff_lists_tables_columns_and_indexes(tmp_path: Path) -> None:
    db = make_db(tmp_path / "dev.db")
    conn = sqlite3.connect(db, isolation_level=None)
    before = snapshot_schema(conn)
    conn.executescript(
        """
        CREATE TABLE "Tag" (id INTEGER PRIMARY KEY, label TEXT);
        ALTER TABLE "Character" ADD COLUMN emotionPack TEXT;
        ALTER TABLE "Character" DROP COLUMN personality;
        DROP TABLE "Chat";
        CREATE TABLE "Chat" (id INTEGER PRIMARY KEY, characterId TEXT NOT NULL);
        CREATE INDEX idx_tag ON "Tag"(label);
        """
    )
    diff = diff_schemas(before, snapshot_schema(conn)).to_json()
    conn.close()

    assert diff["tablesAdded"] == ["Tag"] and diff["tablesRemoved"] == []
    assert diff["columnsAdded"] == [{"table": "Character", "column": "emotionPack", "type": "TEXT"}]
    assert [c["column"] for c in diff["columnsRemoved"]] == ["personality"]
    assert diff["columnsChanged"] == [
        {"table": "Chat", "column": "characterId", "before": "TEXT", "after": "TEXT NOT NULL"}
    ]
    assert diff["indexesAdded"] == ["idx_tag"]


# --- rehearsal and live apply ---------------------------------------------------------------------


def test_trigger_script_is_applied_and_the_trigger_works(tmp_path: Path) -> None:
    db = make_db(tmp_path / "dev.db")
    statements = script_statements(TRIGGER_SCRIPT)

    rehearsal = rehearse(db, statements, OVERRIDES)
    assert query(
        db, "SELECT count(*) FROM pragma_table_info('Character') WHERE name='greeting'"
    ) == [(0,)]

    outcome = apply_live(db, statements, OVERRIDES)

    assert outcome.fingerprint_after == rehearsal.fingerprint_after
    assert outcome.diff.to_json() == rehearsal.diff.to_json()
    assert outcome.validation is not None and outcome.validation.ok
    assert query(db, "SELECT description, greeting FROM \"Character\" WHERE id='c1'") == [
        ("a;b", "hi; there")
    ]
    conn = sqlite3.connect(db)
    conn.execute("UPDATE \"Character\" SET name = 'Bob' WHERE id = 'c1'")
    conn.commit()
    assert conn.execute("SELECT greeting FROM \"Character\" WHERE id='c1'").fetchone() == (
        "renamed; Bob",
    )
    conn.close()


def test_failing_third_statement_rolls_back_everything(tmp_path: Path) -> None:
    db = make_db(tmp_path / "dev.db")
    before = dump(db)
    statements = script_statements(
        'ALTER TABLE "Character" ADD COLUMN x TEXT;\n'
        "UPDATE \"Character\" SET x = 'y';\n"
        "INSERT INTO missing_table VALUES (1);\n"
        "CREATE TABLE never(x);\n"
    )

    with pytest.raises(MigrationError) as info:
        apply_live(db, statements, OVERRIDES)

    assert info.value.statement_number == 3
    assert "no such table: missing_table" in str(info.value)
    assert "INSERT INTO missing_table" in str(info.value)
    assert dump(db) == before


def test_new_foreign_key_violation_is_refused_before_commit(tmp_path: Path) -> None:
    db = make_db(tmp_path / "dev.db")
    before = dump(db)
    statements = script_statements("DELETE FROM \"Character\" WHERE id = 'c2';")

    with pytest.raises(MigrationError, match="foreign-key violations: Chat → Character"):
        apply_live(db, statements, OVERRIDES, validate=False)
    assert dump(db) == before


def test_existing_foreign_key_violations_do_not_block_a_migration(tmp_path: Path) -> None:
    db = make_db(tmp_path / "dev.db")
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO \"Chat\" (characterId) VALUES ('ghost')")
    conn.commit()
    conn.close()

    outcome = apply_live(db, script_statements("CREATE TABLE extra(x);"), OVERRIDES)

    assert outcome.validation is not None and outcome.validation.ok


def test_dropping_a_needed_column_fails_validation_and_rolls_back(tmp_path: Path) -> None:
    db = make_db(tmp_path / "dev.db")
    before = dump(db)

    with pytest.raises(MigrationError) as info:
        apply_live(
            db, script_statements('ALTER TABLE "Character" DROP COLUMN mbtiType;'), OVERRIDES
        )

    assert "mbtiType" in str(info.value) and "validation failed" in str(info.value)
    assert dump(db) == before


def test_table_redefinition_does_not_fire_cascades(tmp_path: Path) -> None:
    db = make_db(tmp_path / "dev.db")
    # The shape of a Prisma "RedefineTables" migration.
    script = """
    PRAGMA defer_foreign_keys=ON;
    PRAGMA foreign_keys=OFF;
    CREATE TABLE "new_Character" (
        id TEXT PRIMARY KEY, userId TEXT REFERENCES "User"(id) ON DELETE CASCADE,
        name TEXT NOT NULL, description TEXT NOT NULL DEFAULT '', personality TEXT,
        backstory TEXT, mbtiType TEXT, avatar TEXT, avatarStatus TEXT DEFAULT 'PENDING',
        created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL, rating REAL DEFAULT 0
    );
    INSERT INTO "new_Character" (id, userId, name, description, personality, backstory, mbtiType,
        avatar, avatarStatus, created_at, updated_at)
        SELECT id, userId, name, description, personality, backstory, mbtiType, avatar,
        avatarStatus, created_at, updated_at FROM "Character";
    DROP TABLE "Character";
    ALTER TABLE "new_Character" RENAME TO "Character";
    PRAGMA foreign_keys=ON;
    PRAGMA defer_foreign_keys=OFF;
    """
    apply_live(db, script_statements(script), OVERRIDES)

    assert query(db, 'SELECT count(*) FROM "Chat"') == [(2,)]
    assert query(db, 'SELECT count(*) FROM "Character"') == [(2,)]


def test_rehearsal_leaves_the_live_database_untouched(tmp_path: Path) -> None:
    db = make_db(tmp_path / "dev.db")
    before = dump(db)
    conn = sqlite3.connect(db)
    fingerprint = schema_fingerprint(conn)
    conn.close()

    outcome = rehearse(
        db, script_statements('CREATE TABLE extra(x); DROP TABLE "Chat";'), OVERRIDES
    )

    assert outcome.fingerprint_before == fingerprint != outcome.fingerprint_after
    assert outcome.diff.tables_added == ["extra"] and outcome.diff.tables_removed == ["Chat"]
    assert dump(db) == before
