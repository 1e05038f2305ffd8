"""Every start-up failure ends the process: exit 2, one stderr line naming the file or setting.

Through real processes, because the failure this guards against was a process that printed its
error and then never exited (an aiosqlite thread left open by a half-finished start-up).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.characters.dbfiles import iso_db

ROOT = Path(__file__).resolve().parents[1]
MODES = {
    "dashboard": [],
    "serve": ["--serve", "--port", "0"],
    "run": ["run", "CHARACTER_SETTINGS"],
}


def start(tmp_path: Path, mode: list[str], *extra: str, env: dict[str, str] | None = None):
    dirs = []
    for flag in ("data", "state", "log", "backup", "avatar"):
        dirs += [f"--{flag}-dir", str(tmp_path / flag)]
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("NEWAPI", "OPENAI", "TAVERN"))
    }
    clean.update(XDG_CONFIG_HOME=str(tmp_path / "config"), TERM="dumb", **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "tui_updater", *mode, *dirs, *extra],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=clean,
        stdin=subprocess.DEVNULL,
        timeout=60,  # the bug: the process never exits
    )


def assert_one_line(proc: subprocess.CompletedProcess[str], *words: str) -> str:
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert proc.returncode == 2, proc.stderr
    line = lines[0]
    assert line.startswith("error: "), line
    for word in words:
        assert word in line, line
    return line


def _random_bytes(path: Path) -> None:
    path.write_bytes(bytes(range(256)) * 16)


def _directory(path: Path) -> None:
    path.mkdir()
    (path / "x").write_text("")


def _newer_schema(path: Path) -> None:
    import sqlite3

    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 999")


def _unreadable(path: Path) -> None:
    path.write_bytes(b"")
    path.chmod(0)


BROKEN_TASKS_DB: dict[str, Callable[[Path], None]] = {
    "random-bytes": _random_bytes,
    "directory": _directory,
    "newer-schema": _newer_schema,
    "unreadable": _unreadable,
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", BROKEN_TASKS_DB)
def test_broken_tasks_db_exits_2_naming_the_file(tmp_path: Path, mode: str, kind: str):
    if kind == "unreadable" and os.geteuid() == 0:
        pytest.skip("root reads a file whatever its mode")
    (tmp_path / "state").mkdir()
    BROKEN_TASKS_DB[kind](tmp_path / "state" / "tasks.db")
    proc = start(tmp_path, MODES[mode], "--demo", "--offline")
    assert_one_line(proc, "tasks.db", "--state-dir")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("content", [b"not a database\n", bytes(range(256)) * 8])
def test_character_db_that_is_not_a_database(tmp_path: Path, mode: str, content: bytes):
    db = tmp_path / "site.db"
    db.write_bytes(content)
    proc = start(tmp_path, MODES[mode], "--db", str(db), "--offline")
    assert_one_line(proc, str(db))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("url", ["ftp://gateway.example/v1", "::::"])
def test_gateway_url_with_a_bad_scheme(tmp_path: Path, mode: str, url: str):
    db = iso_db(tmp_path / "site.db")
    proc = start(
        tmp_path, MODES[mode], "--db", str(db), env={"NEWAPI_BASE_URL": url, "NEWAPI_KEY": "k"}
    )
    assert_one_line(proc, "NEWAPI_BASE_URL")  # names the setting where it was set


@pytest.mark.parametrize("mode", MODES)
def test_state_dir_that_is_a_file(tmp_path: Path, mode: str):
    (tmp_path / "state").write_text("a file where the state directory should be")
    proc = start(tmp_path, MODES[mode], "--demo", "--offline")
    assert_one_line(proc, "state")


def test_backups_restore_onto_a_character_db_that_is_not_a_database(tmp_path: Path):
    db = iso_db(tmp_path / "site.db")
    first = start(tmp_path, ["backups", "list"], "--db", str(db))
    assert first.returncode == 0, first.stderr
    db.write_text("not a database")
    proc = start(tmp_path, ["backups", "restore", "nothing.db", "--yes"], "--db", str(db))
    assert_one_line(proc, "nothing.db")


def test_backups_dir_that_is_a_file(tmp_path: Path):
    db = iso_db(tmp_path / "site.db")
    (tmp_path / "backup").write_text("a file where the backup directory should be")
    proc = start(tmp_path, ["backups", "list"], "--db", str(db))
    assert_one_line(proc, "backup")
