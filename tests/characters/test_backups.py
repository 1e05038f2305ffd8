"""Backups through the SQLite backup API: create, list, restore (with a safety backup), prune."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tui_updater.characters.backups import BackupStore, format_stamp, parse_stamp
from tui_updater.errors import BackupError

START_MS = 1_717_243_200_123  # 2024-06-01T12:00:00.123Z


class FakeClock:
    def __init__(self, start_ms: int = START_MS) -> None:
        self.now_ms = start_ms

    def __call__(self) -> int:
        return self.now_ms


def make_db(path: Path, *, journal_mode: str = "wal", rows: int = 3) -> Path:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(f"PRAGMA journal_mode={journal_mode}")
    conn.execute('CREATE TABLE "Character" (id TEXT PRIMARY KEY, name TEXT NOT NULL)')
    conn.executemany(
        'INSERT INTO "Character" VALUES (?, ?)', [(f"c{i}", f"name {i}") for i in range(rows)]
    )
    conn.close()
    return path


def dump(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def file_size(path: Path) -> int:
    return path.stat().st_size


def integrity(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


def test_stamp_round_trip_and_original_format() -> None:
    assert format_stamp(START_MS) == "20240601T120000123Z"
    assert parse_stamp("20240601T120000123Z") == START_MS
    assert parse_stamp("2024-06-01T12-00-00-123Z") == START_MS


async def test_create_writes_a_checked_copy_and_a_sidecar(tmp_path: Path) -> None:
    db = make_db(tmp_path / "dev.db")
    store = BackupStore(tmp_path / "backups", clock_ms=FakeClock())

    info = await store.create(db, reason="before upgrade")

    assert info.name == "dev-backup-20240601T120000123Z.db"
    assert info.created_at_ms == START_MS and info.source_db == "dev"
    assert info.size_bytes == file_size(Path(info.path)) > 0
    assert dump(Path(info.path)) == dump(db)
    assert integrity(Path(info.path)) == "ok"
    sidecar = json.loads((tmp_path / "backups" / f"{info.name}.json").read_text("utf-8"))
    assert sidecar["reason"] == "before upgrade" and sidecar["source"] == str(db.resolve())
    assert store.details(info.name)["reason"] == "before upgrade"
    assert not list((tmp_path / "backups").glob("*.partial"))


async def test_names_are_unique_within_the_same_millisecond_and_listed_newest_first(
    tmp_path: Path,
) -> None:
    db = make_db(tmp_path / "dev.db")
    clock = FakeClock()
    store = BackupStore(tmp_path / "backups", clock_ms=clock)

    first = await store.create(db)
    second = await store.create(db)
    clock.now_ms += 5_000
    third = await store.create(db)

    assert len({first.name, second.name, third.name}) == 3
    assert second.created_at_ms == first.created_at_ms + 1
    assert [b.name for b in store.list()] == [third.name, second.name, first.name]


async def test_create_refuses_a_missing_database(tmp_path: Path) -> None:
    store = BackupStore(tmp_path / "backups")
    with pytest.raises(BackupError, match="does not exist"):
        await store.create(tmp_path / "nope.db")
    assert not (tmp_path / "nope.db").exists()


async def test_prune_keeps_the_newest_n_of_each_database(tmp_path: Path) -> None:
    dev = make_db(tmp_path / "dev.db")
    other = make_db(tmp_path / "other.db")
    clock = FakeClock()
    store = BackupStore(tmp_path / "backups", keep=2, clock_ms=clock)
    names = []
    for _ in range(4):
        clock.now_ms += 1_000
        names.append((await store.create(dev, prune=False)).name)
    await store.create(other, prune=False)

    removed = store.prune()

    assert sorted(removed) == sorted(names[:2])
    assert [b.name for b in store.list("dev")] == [names[3], names[2]]
    assert len(store.list("other")) == 1
    assert not (tmp_path / "backups" / f"{names[0]}.json").exists()
    clock.now_ms += 1_000
    await store.create(dev)  # create prunes by default
    assert len(store.list("dev")) == 2


def test_list_includes_backups_made_by_the_original_tool(tmp_path: Path) -> None:
    backups = tmp_path / "backups"
    backups.mkdir()
    make_db(backups / "dev-backup-2024-06-01T12-00-00-123Z.db")
    (backups / "notes.txt").write_text("not a backup", "utf-8")

    (info,) = BackupStore(backups).list()

    assert info.created_at_ms == START_MS and info.source_db == "dev"


async def test_restore_round_trip_with_a_safety_backup(tmp_path: Path) -> None:
    db = make_db(tmp_path / "dev.db")
    original = dump(db)
    clock = FakeClock()
    store = BackupStore(tmp_path / "backups", clock_ms=clock)
    backup = await store.create(db)
    watcher = sqlite3.connect(db)  # the site's connection stays open throughout
    watcher.execute("UPDATE \"Character\" SET name = 'changed' WHERE id = 'c0'")
    watcher.commit()
    changed = dump(db)
    clock.now_ms += 1_000

    report = await store.restore(backup.name, db)

    assert report["restored"] == backup.name
    assert dump(db) == original
    assert watcher.execute("SELECT name FROM \"Character\" WHERE id = 'c0'").fetchone() == (
        "name 0",
    )
    assert watcher.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    watcher.close()
    safety = report["safetyBackup"]
    assert safety["name"] != backup.name and dump(Path(safety["path"])) == changed

    await store.restore(safety["name"], db)  # the restore itself can be undone
    assert dump(db) == changed


@pytest.mark.parametrize(
    "name",
    [
        "../dev-backup-20240601T120000123Z.db",
        "sub/dev.db",
        "dev.db",
        "",
        "..",
        "dev-backup-20240601T120000999Z.db",
    ],
)
async def test_restore_refuses_names_that_are_not_backups_here(tmp_path: Path, name: str) -> None:
    db = make_db(tmp_path / "dev.db")
    before = dump(db)
    store = BackupStore(tmp_path / "backups", clock_ms=FakeClock())
    await store.create(db)

    with pytest.raises(BackupError):
        await store.restore(name, db)
    assert dump(db) == before


async def test_restore_refuses_a_damaged_backup(tmp_path: Path) -> None:
    db = make_db(tmp_path / "dev.db")
    before = dump(db)
    backups = tmp_path / "backups"
    backups.mkdir()
    name = "dev-backup-20240601T120000123Z.db"
    (backups / name).write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)
    store = BackupStore(backups)

    with pytest.raises(BackupError, match="damaged"):
        await store.restore(name, db)
    assert dump(db) == before
    assert store.list()[0].name == name  # no safety backup was taken for a refused restore


WRITER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
conn.execute("PRAGMA busy_timeout=10000")
i = 0
while True:
    conn.execute("BEGIN IMMEDIATE")
    for _ in range(20):
        conn.execute('INSERT INTO "Character" VALUES (?, ?)', (f"w{i}", "x" * 200))
        i += 1
    conn.execute("COMMIT")
    if i == 20:
        print("ready", flush=True)
"""


@pytest.mark.slow
@pytest.mark.parametrize("journal_mode", ["wal", "delete"])
def test_backup_while_another_process_writes(tmp_path: Path, journal_mode: str) -> None:
    db = make_db(tmp_path / "dev.db", journal_mode=journal_mode)
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        store = BackupStore(tmp_path / "backups")
        infos = [asyncio.run(store.create(db, prune=False)) for _ in range(3)]
        assert writer.poll() is None, "the writer kept running during the backups"
    finally:
        writer.kill()
        writer.wait()

    counts = []
    for info in infos:
        assert integrity(Path(info.path)) == "ok"
        conn = sqlite3.connect(info.path)
        counts.append(conn.execute('SELECT count(*) FROM "Character"').fetchone()[0])
        conn.close()
    assert all(count >= 23 and (count - 3) % 20 == 0 for count in counts)  # whole transactions
    assert counts == sorted(counts)
