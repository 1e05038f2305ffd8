"""Backups belong to a database: two sites both called dev.db keep their own newest N, and a
backup of one is never restored over the other."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tui_updater.characters.backups import BackupStore
from tui_updater.errors import BackupError


def _site(root: Path, value: str) -> Path:
    root.mkdir(parents=True)
    path = root / "dev.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE Character (id TEXT PRIMARY KEY, name TEXT)")
    conn.execute("INSERT INTO Character VALUES ('c1', ?)", (value,))
    conn.commit()
    conn.close()
    return path


def _dump(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


async def test_two_dev_dbs_keep_their_own_newest_backups(tmp_path: Path) -> None:
    site_a = _site(tmp_path / "a", "alpha")
    site_b = _site(tmp_path / "b", "beta")
    clock = iter(range(1_700_000_000_000, 1_700_000_100_000, 1000))
    store = BackupStore(tmp_path / "backups", keep=2, clock_ms=lambda: next(clock))
    a_names = [(await store.create(site_a)).name for _ in range(3)]
    b_names = [(await store.create(site_b)).name for _ in range(3)]
    for _ in range(2):  # site A backs up twice more: B's backups must survive it
        a_names.append((await store.create(site_a)).name)

    left = {info.name for info in store.list()}
    assert left == {*a_names[-2:], *b_names[-2:]}
    assert {store.source_of(name) for name in a_names[-2:]} == {str(site_a.resolve())}
    details = store.details(b_names[-1])
    assert details["identity"]["inode"] == site_b.stat().st_ino


async def test_restoring_another_databases_backup_is_refused(tmp_path: Path) -> None:
    site_a = _site(tmp_path / "a", "alpha")
    site_b = _site(tmp_path / "b", "beta")
    store = BackupStore(tmp_path / "backups", keep=5)
    backup_of_a = await store.create(site_a)
    before = _dump(site_b)

    with pytest.raises(BackupError) as refused:
        await store.restore(backup_of_a.name, site_b)

    assert str(site_a.resolve()) in str(refused.value)
    assert str(site_b.resolve()) in str(refused.value)
    assert _dump(site_b) == before
    assert len(store.list()) == 1  # no safety backup was taken for a refused restore
    report = await store.restore(backup_of_a.name, site_a)  # its own database: restored
    assert report["restored"] == backup_of_a.name
