"""The command line as a script or cron job sees it: exit codes and messages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    dirs = [
        "--data-dir",
        str(tmp_path / "data"),
        "--state-dir",
        str(tmp_path / "state"),
        "--log-dir",
        str(tmp_path / "log"),
        "--backup-dir",
        str(tmp_path / "backups"),
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWAPI", "OPENAI", "TAVERN"))}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    return subprocess.run(
        [sys.executable, "-m", "tui_updater", *args, *dirs],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )


def test_help_lists_every_flag(tmp_path: Path):
    out = subprocess.run(
        [sys.executable, "-m", "tui_updater", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    ).stdout
    for flag in (
        "--serve",
        "--connect",
        "--host",
        "--port",
        "--token",
        "--silent",
        "--db",
        "--demo",
        "--offline",
        "--state-dir",
        "--backup-dir",
        "--avatar-dir",
        "--config",
        "--log-level",
        "run",
        "backups",
    ):
        assert flag in out


def test_unknown_type_exits_2_listing_known(tmp_path: Path):
    result = cli(tmp_path, "run", "NOPE", "--demo")
    assert result.returncode == 2
    assert (
        "NOPE" in result.stderr
        and "MBTI_ASSIGNMENT" in result.stderr
        and "DATABASE_UPGRADE" in result.stderr
    )
    assert "Traceback" not in result.stderr


def test_bad_json_and_bad_field_exit_2(tmp_path: Path):
    bad_json = cli(tmp_path, "run", "MBTI_ASSIGNMENT", "--demo", "--data", "{bad")
    assert (
        bad_json.returncode == 2
        and "invalid JSON" in bad_json.stderr
        and "line 1 column 2" in bad_json.stderr
    )
    bad_field = cli(
        tmp_path, "run", "MBTI_ASSIGNMENT", "--demo", "--data", '{"forceUpdate": "maybe"}'
    )
    assert bad_field.returncode == 2 and "forceUpdate" in bad_field.stderr
    assert "Traceback" not in bad_json.stderr + bad_field.stderr


def test_run_json_then_rerun_changes_nothing(tmp_path: Path):
    first = cli(tmp_path, "run", "MBTI_ASSIGNMENT", "--demo", "--json")
    assert first.returncode == 0, first.stderr
    task = json.loads(first.stdout)
    assert task["status"] == "COMPLETED" and task["items"]["done"] > 0
    assert task["result"]["statistics"]["distribution"]
    second = json.loads(cli(tmp_path, "run", "mbti-assignment", "--demo", "--json").stdout)
    assert second["items"]["total"] == 0


def test_missing_database_is_a_clear_error(tmp_path: Path):
    result = cli(tmp_path, "run", "MBTI_ASSIGNMENT", "--db", str(tmp_path / "absent.db"))
    assert (
        result.returncode == 2
        and "absent.db" in result.stderr
        and "does not exist" in result.stderr
    )


def test_upgrade_then_backups_list_and_restore_round_trip(tmp_path: Path):
    import sqlite3

    from tui_updater.characters.demo import create_demo_db

    db = create_demo_db(tmp_path / "site.db")
    script = json.dumps({"migrationScript": 'ALTER TABLE "Character" ADD COLUMN "mood" TEXT;'})
    upgrade = cli(tmp_path, "run", "DATABASE_UPGRADE", "--db", str(db), "--data", script, "--json")
    assert upgrade.returncode == 0, upgrade.stderr
    result = json.loads(upgrade.stdout)["result"]
    assert result["schemaDiff"]["columnsAdded"] and result["backup"]["path"]

    def columns() -> set[str]:
        conn = sqlite3.connect(db)
        try:
            return {row[1] for row in conn.execute('PRAGMA table_info("Character")')}
        finally:
            conn.close()

    assert "mood" in columns()
    listed = cli(tmp_path, "backups", "list", "--db", str(db), "--json")
    assert listed.returncode == 0, listed.stderr
    backups = json.loads(listed.stdout)
    assert len(backups) == 1 and backups[0]["name"].startswith("site-backup-")
    restored = cli(tmp_path, "backups", "restore", backups[0]["name"], "--db", str(db), "--yes")
    assert restored.returncode == 0, restored.stderr
    assert "mood" not in columns()  # back to the pre-upgrade schema
    after = json.loads(cli(tmp_path, "backups", "list", "--db", str(db), "--json").stdout)
    assert len(after) == 2  # the restore first backed up the state it replaced
    missing = cli(tmp_path, "backups", "restore", "nope.db", "--db", str(db), "--yes")
    assert missing.returncode == 2 and "nope.db" in missing.stderr


def test_failed_task_names_the_first_failure_in_one_line(tmp_path: Path):
    script = json.dumps({"migrationScript": "ALTER TABLE Nope ADD COLUMN x TEXT;"})
    failed = cli(tmp_path, "run", "DATABASE_UPGRADE", "--demo", "--data", script)
    assert failed.returncode == 1
    (error,) = [line for line in failed.stderr.splitlines() if line.startswith("error:")]
    assert "first failure" in error and "no such table: Nope" in error
    assert "Traceback" not in failed.stderr
    assert "0/0 items" not in failed.stderr  # no progress line before the items are known


def test_run_refuses_a_paused_queue_with_a_clear_message(tmp_path: Path):
    import asyncio

    from tui_updater.store.sqlite import SqliteTaskStore

    async def pause() -> None:
        store = SqliteTaskStore(tmp_path / "state" / "tasks.db")
        await store.open()
        await store.set_state("paused", "1")
        await store.close()

    asyncio.run(pause())
    result = cli(tmp_path, "run", "MBTI_ASSIGNMENT", "--demo")
    assert result.returncode == 1 and "queue is paused" in result.stderr
    assert "Traceback" not in result.stderr


def test_run_data_types_are_strict_so_dry_run_off_is_refused_not_live(tmp_path: Path):
    from tests.characters.dbfiles import integer_db, master

    db = integer_db(tmp_path / "site.db")
    before = master(db)
    script = {"migrationScript": "ALTER TABLE characters ADD COLUMN mood TEXT;", "dryRun": "off"}
    result = cli(tmp_path, "run", "DATABASE_UPGRADE", "--db", str(db), "--data", json.dumps(script))
    assert result.returncode == 2, result.stderr
    assert "dryRun" in result.stderr and "Traceback" not in result.stderr
    assert master(db) == before  # no live migration, no backup needed


def test_run_refuses_an_empty_id_list_and_ids_past_int64(tmp_path: Path):
    from tests.characters.dbfiles import integer_db

    db = str(integer_db(tmp_path / "site.db"))
    for ids in ([], [10**30], ["99999999999999999999"]):
        data = json.dumps({"characterIds": ids, "forceUpdate": True})
        result = cli(tmp_path, "run", "MBTI_ASSIGNMENT", "--db", db, "--offline", "--data", data)
        assert result.returncode == 2, (ids, result.stderr)
        assert "characterIds" in result.stderr and "Traceback" not in result.stderr
        if not ids:
            assert "leave the field out for every candidate" in result.stderr


def test_run_finds_integer_ids_written_with_leading_zeros(tmp_path: Path):
    from tests.characters.dbfiles import integer_db

    db = str(integer_db(tmp_path / "site.db"))
    data = json.dumps({"characterIds": ["01"], "forceUpdate": True})
    result = cli(
        tmp_path, "run", "MBTI_ASSIGNMENT", "--db", db, "--offline", "--data", data, "--json"
    )
    assert result.returncode == 0, result.stderr
    task = json.loads(result.stdout)
    assert (task["items"]["total"], task["items"]["done"]) == (1, 1)


def test_help_imports_no_pydantic_nor_asyncio() -> None:
    """`--help` stays instant: building the parser (every sub-command's) imports no heavy module."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "tui_updater", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    imported = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines()}
    assert not {"pydantic", "asyncio", "textual", "httpx"} & imported
