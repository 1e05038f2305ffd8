from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

from tui_updater.characters.demo import create_demo_db, ensure_demo_db, generate_synthetic_db


def query(path: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_demo_has_forty_bilingual_characters_with_gaps(demo_path: Path) -> None:
    rows = query(
        demo_path,
        "SELECT id, language, avatar, avatarStatus, mbtiType, fullDescription, speakingStyle, "
        "scenario, exampleDialogs, description, typeof(updated_at), typeof(created_at), isDeleted "
        'FROM "Character"',
    )
    assert len(rows) >= 40
    assert {r[1] for r in rows} == {"zh-CN", "en-US"}
    assert all(re.fullmatch(r"c[0-9a-z]{24}", r[0]) for r in rows)
    total = len(rows)
    no_avatar = sum(1 for r in rows if not r[2])
    assert 0.35 * total <= no_avatar <= 0.65 * total
    assert sum(1 for r in rows if r[3] == "FAILED") == 2
    no_mbti = sum(1 for r in rows if not r[4])
    assert 0.3 * total <= no_mbti <= 0.7 * total
    for column in (5, 6, 7, 8):
        assert 0 < sum(1 for r in rows if not r[column]) < total
    assert sum(1 for r in rows if len(r[9]) < 15) >= 3  # thin descriptions
    assert {r[10] for r in rows} == {"integer"} and {r[11] for r in rows} == {"integer"}
    assert sum(r[12] for r in rows) == 1
    for r in rows:
        if r[8]:
            dialogs = json.loads(r[8])
            assert dialogs and set(dialogs[0]) == {"user", "character"}


def test_demo_is_wal_with_prisma_tables_and_valid_foreign_keys(demo_path: Path) -> None:
    assert query(demo_path, "PRAGMA journal_mode") == [("wal",)]
    tables = {r[0] for r in query(demo_path, "SELECT name FROM sqlite_master WHERE type='table'")}
    assert tables == {"Character", "User", "_prisma_migrations"}
    assert query(demo_path, "PRAGMA foreign_key_check") == []
    assert query(demo_path, "PRAGMA integrity_check") == [("ok",)]


def test_demo_is_deterministic_and_ensure_is_idempotent(tmp_path: Path, demo_path: Path) -> None:
    other = create_demo_db(tmp_path / "other" / "dev.db")
    assert query(other, 'SELECT * FROM "Character" ORDER BY id') == query(
        demo_path, 'SELECT * FROM "Character" ORDER BY id'
    )
    with pytest.raises(FileExistsError):
        create_demo_db(demo_path)
    path = ensure_demo_db(tmp_path / "data")
    assert path == tmp_path / "data" / "demo" / "dev.db"
    stamp = path.stat().st_mtime_ns
    assert ensure_demo_db(tmp_path / "data") == path
    assert path.stat().st_mtime_ns == stamp


def test_synthetic_database(tmp_path: Path) -> None:
    path = generate_synthetic_db(tmp_path / "bench.db", 500, seed=3)
    assert query(path, 'SELECT COUNT(*), COUNT(DISTINCT id) FROM "Character"') == [(500, 500)]
    missing = query(path, 'SELECT COUNT(*) FROM "Character" WHERE avatar IS NULL')[0][0]
    assert 100 < missing < 400
