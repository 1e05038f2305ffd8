"""Acceptance 2 of issue 12: kill -9 at random moments, restart to completion, prove the invariants.

Seeded (``TORTURE_SEED`` to replay, printed either way); ``TORTURE_KILLS`` raises the count from
30 for a long manual run. Each mode has its own character database, state dir and backup dir,
against one loopback fake gateway with latency, so kills land mid-request.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.fakes.openai_server import FakeOpenAIServer
from tests.torture.harness import (
    TERMINAL,
    Site,
    characters,
    free_port,
    item_rows,
    leftovers,
    task_ids,
    task_rows,
    wait_ready,
)
from tui_updater.characters.demo import generate_synthetic_db

KILLS = int(os.environ.get("TORTURE_KILLS", "30"))
SEED = int(os.environ.get("TORTURE_SEED", str(random.SystemRandom().randrange(10**6))))
SAME_COMMAND = os.environ.get("TORTURE_RESTART") == "same"
SETTINGS = {"updateFields": ["speakingStyle", "scenario"], "batchSize": 2, "concurrency": 2}
AVATAR = {"concurrency": 2}
DATA_MIGRATION = "UPDATE \"Character\" SET name = name || '!';"
SCHEMA_MIGRATION = 'ALTER TABLE "Character" ADD COLUMN "tortureNote" TEXT DEFAULT \'kept\';'


def cast_db(path: Path, count: int) -> Path:
    """The demo schema with names no other name contains, so a request names one character."""
    generate_synthetic_db(path, count, seed=12)
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(
            "UPDATE \"Character\" SET name = printf('Tcast%03d', rowid), "
            '"speakingStyle" = NULL, scenario = NULL, avatar = NULL, "avatarStatus" = \'PENDING\''
        )
    conn.close()
    return path


def make_site(tmp_path: Path, name: str, gateway: FakeOpenAIServer, count: int) -> Site:
    root = tmp_path / name
    root.mkdir()
    (root / "tmp").mkdir()
    return Site(root, cast_db(root / "site.db", count), gateway, root / "tmp")


def delays(rng: random.Random, kills: int) -> list[float]:
    # Start-up takes about a second: the spread lands kills in start-up, selection, requests,
    # the group commit and the apply.
    return [rng.uniform(0.6, 2.4) for _ in range(kills)]


def torture_run(site: Site, rng: random.Random, kills: int, type_name: str, data: dict) -> None:
    """``run TYPE`` killed, then restarts killed ``kills - 1`` times, then run to the end.

    A restart resumes the interrupted task under ``--serve``; with ``TORTURE_RESTART=same`` it
    is the same ``run`` command again, which also submits a new task over the same characters.
    Last, the same command once more: nothing is left to do, so it completes at once.
    """
    command = ("run", type_name, "--data", json.dumps(data))
    site.run_until_killed(site.launch(*command), rng.uniform(0.0, 1.5), tasks=1)
    for delay in delays(rng, kills - 1):
        if SAME_COMMAND:  # its kill counts from when its own new task is stored
            stored = len(task_ids(site.tasks_db)) + 1
            site.run_until_killed(site.launch(*command), delay, tasks=stored)
        else:
            site.run_until_killed(site.serve(free_port()), delay)
    site.drain()  # tasks the killed runs left: a `run` waits only for its own
    proc = site.launch(*command)
    rc = site.run_to_end(proc)
    assert rc == 0, proc.stderr.read() if proc.stderr else ""


def torture_serve(site: Site, rng: random.Random, kills: int) -> None:
    """``--serve`` with a task created over REST, killed ``kills`` times, restarted each time."""
    port = free_port()
    proc = site.serve(port)
    client = wait_ready(proc, port)
    response = client.post("/api/tasks", json={"type": "CHARACTER_SETTINGS", "data": SETTINGS})
    assert response.status_code == 201, response.text
    created = response.json()
    client.close()
    site.run_until_killed(proc, rng.uniform(0.1, 1.5))
    for delay in delays(rng, kills - 1):
        site.run_until_killed(site.serve(free_port()), delay)
    (task,) = [t for t in site.drain() if t["taskId"] == created["taskId"]]
    assert task["status"] == "COMPLETED", task


def torture_upgrade(site: Site, rng: random.Random, kills: int) -> None:
    """A data-changing then a schema-changing DATABASE_UPGRADE, each killed; restarts resume
    the interrupted task (submitting the script again would ask for a second apply)."""
    first = kills // 2
    steps = ((DATA_MIGRATION, first), (SCHEMA_MIGRATION, kills - first))
    for number, (script, count) in enumerate(steps, start=1):
        command = ("run", "DATABASE_UPGRADE", "--data", json.dumps({"migrationScript": script}))
        site.run_until_killed(site.launch(*command), rng.uniform(0.0, 1.0), tasks=number)
        for delay in delays(rng, count - 1):
            site.run_until_killed(site.serve(free_port()), delay)
        site.drain()


def check_common(site: Site, mode: str) -> dict[str, int]:
    tasks = task_rows(site.tasks_db)
    items = item_rows(site.tasks_db)
    assert [t["status"] for t in tasks if t["status"] not in TERMINAL] == [], mode
    assert leftovers(site) == [], mode
    repeated = 0
    for label, stored in site.evidence.stored_at.items():
        late = [at for at in site.request_times(label) if at > stored]
        repeated += len(late)
        assert late == [], f"{mode}: {label} requested {len(late)}x after its result was stored"
    return {
        "kills": site.evidence.kills,
        "restarts": site.evidence.completions,
        "tasks": len(tasks),
        "items": len(items),
        "requests": len(site.gateway.requests),
        "repeatedAfterStored": repeated,
    }


def check_characters_done_once(site: Site, mode: str, type_name: str) -> None:
    items = [i for i in item_rows(site.tasks_db) if _type_of(site, i["task_id"]) == type_name]
    done = Counter(i["label"] for i in items if i["status"] == "DONE")
    rows = characters(site.db)
    assert {r["name"] for r in rows} == set(done), f"{mode}: an item was lost"
    assert [n for n, c in done.items() if c > 1] == [], f"{mode}: an item was done twice"
    assert [r["name"] for r in rows if r["avatarStatus"] == "GENERATING"] == [], mode


def _type_of(site: Site, task_id: str) -> str:
    return {t["task_id"]: t["type"] for t in task_rows(site.tasks_db)}[task_id]


@pytest.mark.slow
@pytest.mark.timeout(360)  # 30 kill -9 cycles: ~110 s alone, far more beside a busy suite
def test_crash_torture(tmp_path: Path):
    print(f"TORTURE_SEED={SEED} TORTURE_KILLS={KILLS}")
    rng = random.Random(SEED)
    share = [KILLS // 4 + (1 if i < KILLS % 4 else 0) for i in range(4)]
    figures: dict[str, dict[str, int]] = {}
    started = time.monotonic()
    with FakeOpenAIServer(latency_s=0.15) as gateway:
        settings = make_site(tmp_path, "settings", gateway, 16)
        torture_run(settings, rng, share[0], "CHARACTER_SETTINGS", SETTINGS)
        check_characters_done_once(settings, "settings", "CHARACTER_SETTINGS")
        rows = characters(settings.db)
        assert all(r["speakingStyle"] and r["scenario"] for r in rows)
        figures["run CHARACTER_SETTINGS"] = check_common(settings, "settings")

    with FakeOpenAIServer(latency_s=0.15) as gateway:
        avatar = make_site(tmp_path, "avatar", gateway, 12)
        torture_run(avatar, rng, share[1], "CHARACTER_AVATAR", AVATAR)
        check_characters_done_once(avatar, "avatar", "CHARACTER_AVATAR")
        assert all(r["avatar"] and r["avatarStatus"] == "COMPLETED" for r in characters(avatar.db))
        figures["run CHARACTER_AVATAR"] = check_common(avatar, "avatar")

    with FakeOpenAIServer(latency_s=0.15) as gateway:
        served = make_site(tmp_path, "serve", gateway, 16)
        torture_serve(served, rng, share[2])
        check_characters_done_once(served, "serve", "CHARACTER_SETTINGS")
        figures["--serve CHARACTER_SETTINGS"] = check_common(served, "serve")

    with FakeOpenAIServer(latency_s=0.15) as gateway:
        upgrade = make_site(tmp_path, "upgrade", gateway, 3000)
        names = {r["name"] for r in characters(upgrade.db)}
        torture_upgrade(upgrade, rng, share[3])
        rows = characters(upgrade.db)
        assert {r["name"] for r in rows} == {f"{n}!" for n in names}, "data migration not once"
        assert all(r["tortureNote"] == "kept" for r in rows), "schema migration lost"
        statuses = [t["status"] for t in task_rows(upgrade.tasks_db)]
        assert statuses == ["COMPLETED", "COMPLETED"], statuses
        figures["DATABASE_UPGRADE"] = check_common(upgrade, "upgrade")

    figures["total"] = {
        key: sum(f[key] for f in figures.values()) for key in figures["DATABASE_UPGRADE"]
    }
    print(json.dumps({"seed": SEED, "seconds": round(time.monotonic() - started), **figures}))
    if not SAME_COMMAND:  # there a restart's new task often has nothing left and ends at once
        assert figures["total"]["kills"] >= KILLS * 0.8, "most kills must land mid-run"
