"""One engine owns a state dir, and every task belongs to its database: real processes."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.openai_server import FakeOpenAIServer
from tui_updater.characters.backups import BackupStore
from tui_updater.characters.demo import generate_synthetic_db
from tui_updater.ownership import read_owner

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


class Tool:
    """``python -m tui_updater`` on one state dir, with the gateway (or offline) chosen per test."""

    def __init__(self, tmp_path: Path, gateway: FakeOpenAIServer | None = None):
        self.tmp_path = tmp_path
        self.state = tmp_path / "state"
        self.env = {
            k: v for k, v in os.environ.items() if not k.startswith(("NEWAPI", "OPENAI", "TAVERN"))
        }
        self.env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
        if gateway is not None:
            self.env |= {"NEWAPI_BASE_URL": gateway.base_url, "NEWAPI_KEY": "sk-test"}
        self.offline = [] if gateway is not None else ["--offline"]
        self.procs: list[subprocess.Popen[str]] = []

    def args(self, *args: str, db: Path) -> list[str]:
        dirs = ["--state-dir", str(self.state), "--data-dir", str(self.tmp_path / "data"),
                "--log-dir", str(self.tmp_path / "log"), "--backup-dir", str(self.tmp_path / "backups"),
                "--avatar-dir", str(self.tmp_path / "avatars")]  # fmt: skip
        return [sys.executable, "-m", "tui_updater", *args, "--db", str(db), *self.offline, *dirs]

    def start(self, *args: str, db: Path) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            self.args(*args, db=db),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=self.env,
        )
        self.procs.append(proc)
        return proc

    def run(self, *args: str, db: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.args(*args, db=db), capture_output=True, text=True, cwd=ROOT, env=self.env,
            timeout=180,
        )  # fmt: skip

    def serve(self, db: Path) -> subprocess.Popen[str]:
        proc = self.start("--serve", "--port", "0", db=db)
        wait_until(lambda: self._serving(proc) or proc.poll() is not None)
        assert proc.poll() is None, proc.communicate()
        return proc

    def _serving(self, proc: subprocess.Popen[str]) -> bool:
        """The process owns the state dir and its control socket answers."""
        owner = read_owner(self.state)
        if owner is None or owner.pid != proc.pid:
            return False
        with socket.socket(socket.AF_UNIX) as probe:
            try:
                probe.connect(owner.socket)
            except OSError:
                return False
        return True

    def tasks(self) -> list[dict[str, Any]]:
        with sqlite3.connect(self.state / "tasks.db") as conn:
            conn.row_factory = sqlite3.Row
            return [dict(row) for row in conn.execute("SELECT * FROM tasks")]

    def items(self, task_id: str) -> list[dict[str, Any]]:
        with sqlite3.connect(self.state / "tasks.db") as conn:
            conn.row_factory = sqlite3.Row
            rows = conn.execute("SELECT * FROM items WHERE task_id = ?", (task_id,))
            return [dict(row) for row in rows]

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.communicate()


def wait_until(condition: Callable[[], object], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except sqlite3.Error:
            pass  # tasks.db not created yet
        time.sleep(0.05)
    raise AssertionError("condition not reached")


def dump(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def stop(proc: subprocess.Popen[str], sig: int = signal.SIGTERM) -> tuple[str, str]:
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    return out, err


@pytest.fixture
def tool(tmp_path: Path) -> Iterator[Tool]:
    made = Tool(tmp_path)
    yield made
    made.stop_all()


@pytest.fixture
def site_a(tmp_path: Path) -> Path:
    return generate_synthetic_db(tmp_path / "a" / "dev.db", 300)


@pytest.fixture
def site_b(tmp_path: Path) -> Path:
    return generate_synthetic_db(tmp_path / "b" / "dev.db", 40, seed=1)


def _running_with_done(tool: Tool, at_least: int) -> Callable[[], bool]:
    def check() -> bool:
        tasks = tool.tasks()
        return bool(tasks) and tasks[0]["status"] == "RUNNING" and tasks[0]["done"] >= at_least

    return check


AVATARS = ("run", "CHARACTER_AVATAR", "--data", '{"concurrency": 1, "batchSize": 2}')


def test_killed_on_site_a_held_on_site_b_then_completed_on_a(
    tool: Tool, site_a: Path, site_b: Path
) -> None:
    first = tool.start(*AVATARS, db=site_a)
    wait_until(_running_with_done(tool, 6))
    stop(first, signal.SIGKILL)
    (task,) = tool.tasks()
    assert task["database"] == str(site_a.resolve()) and task["database_identity"]
    before = dump(site_b)

    # Another database, same state dir: the task is held, site B is not touched.
    on_b = tool.serve(site_b)
    _out, err = stop(on_b)
    assert "belong to another character database" in err
    assert dump(site_b) == before
    assert tool.tasks() == [task]  # held as it was left, not resumed

    again = tool.run(*AVATARS, db=site_a)
    assert again.returncode == 0, again.stderr
    assert f"resuming {task['task_id']}" in again.stderr
    (finished,) = tool.tasks()
    assert finished["status"] == "COMPLETED" and finished["done"] == finished["total"]


def test_second_serve_refuses_naming_the_owner_and_run_goes_through_it(
    tool: Tool, site_a: Path, site_b: Path
) -> None:
    owner = tool.serve(site_a)
    second = tool.run("--serve", "--port", "0", db=site_a)
    assert second.returncode == 2
    assert f"pid {owner.pid}" in second.stderr and "control.sock" in second.stderr

    done = tool.run("run", "MBTI_ASSIGNMENT", "--json", db=site_a)
    assert done.returncode == 0, done.stderr
    task = json.loads(done.stdout)
    assert task["status"] == "COMPLETED" and task["database"] == str(site_a.resolve())
    assert "spend" in task

    unknown = tool.run("run", "NOPE", db=site_a)
    assert unknown.returncode == 2 and "MBTI_ASSIGNMENT" in unknown.stderr
    elsewhere = tool.run("run", "MBTI_ASSIGNMENT", db=site_b)
    assert elsewhere.returncode == 2 and str(site_a.resolve()) in elsewhere.stderr

    backup = asyncio.run(BackupStore(tool.tmp_path / "backups").create(site_a))
    restored = tool.run("backups", "restore", backup.name, "--yes", db=site_a)
    assert restored.returncode == 0, restored.stderr
    assert json.loads(restored.stdout)["restored"] == backup.name
    refused = tool.run("backups", "restore", backup.name, "--yes", db=site_b)
    assert refused.returncode == 2 and f"pid {owner.pid}" in refused.stderr

    _out, err = stop(owner)
    assert f"created task MBTI_ASSIGNMENT (ID: {task['taskId']}" in err  # the owner ran it
    assert len(tool.tasks()) == 1


def _names(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        names = [row[0] for row in conn.execute('SELECT "name" FROM "Character"')]
    return [n for n in names if not any(n != other and n in other for other in names)]


def test_two_runs_together_finish_and_no_prompt_is_sent_twice(tmp_path: Path, site_b: Path) -> None:
    with FakeOpenAIServer(latency_s=0.01) as gateway:
        tool = Tool(tmp_path, gateway)
        try:
            args = ("run", "MBTI_ASSIGNMENT", "--json", "--data", '{"concurrency": 2}')
            procs = [tool.start(*args, db=site_b) for _ in range(2)]
            results = [proc.communicate(timeout=180) for proc in procs]
        finally:
            tool.stop_all()
        assert [proc.returncode for proc in procs] == [0, 0], results
        ids = {json.loads(out)["taskId"] for out, _err in results}
        assert len(ids) == 1  # the later one adopted the first one's identical task
        counts = {name: gateway.count("chat/completions", name=name) for name in _names(site_b)}
    assert counts and all(count == 1 for count in counts.values()), counts


def test_run_killed_then_started_again_adopts_its_task_and_repeats_no_request(
    tmp_path: Path, site_a: Path
) -> None:
    with FakeOpenAIServer(latency_s=0.03) as gateway:
        tool = Tool(tmp_path, gateway)
        args = ("run", "MBTI_ASSIGNMENT", "--data", '{"concurrency": 1, "batchSize": 2}')
        try:
            first = tool.start(*args, db=site_a)
            wait_until(_running_with_done(tool, 6))
            stop(first, signal.SIGKILL)
            (task,) = tool.tasks()
            stored = {i["label"] for i in tool.items(task["task_id"]) if i["status"] == "DONE"}
            again = tool.run(*args, db=site_a)
        finally:
            tool.stop_all()
        assert again.returncode == 0, again.stderr
        assert f"resuming {task['task_id']} at" in again.stderr
        (finished,) = tool.tasks()
        assert finished["status"] == "COMPLETED"
        clean = set(_names(site_a))
        repeated = {n: gateway.count("chat/completions", name=n) for n in stored & clean}
    assert repeated and all(count == 1 for count in repeated.values()), repeated


@pytest.mark.parametrize("how", ["deleted", "replaced"])
def test_database_gone_mid_task_fails_naming_the_file(
    tool: Tool, site_a: Path, tmp_path: Path, how: str
) -> None:
    copy = tmp_path / "copy.db"
    shutil.copyfile(site_a, copy)
    conn = sqlite3.connect(copy)
    # Its own rollback journal: the old file's live -wal (same name) never applies to it.
    conn.execute("PRAGMA journal_mode=DELETE")
    conn.close()
    proc = tool.start(*AVATARS, "--json", db=site_a)
    wait_until(_running_with_done(tool, 4))
    if how == "deleted":
        site_a.unlink()
    else:
        os.replace(copy, site_a)
        before = dump(site_a)
    done_then = tool.tasks()[0]["done"]
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err
    task = json.loads(out)
    assert task["status"] == "FAILED"
    assert str(site_a.resolve()) in task["error"] and how in task["error"]
    assert task["items"]["done"] <= done_then + 2  # at most the batch being written then
    if how == "replaced":
        assert dump(site_a) == before  # the new file was never written
