"""Processes, kills and evidence for the crash-torture test.

Evidence of "stored" comes from tasks.db itself: while a process runs, the harness polls
tasks.db and notes, per character, the first wall-clock moment an item of it was seen OBTAINED
or DONE. Its commit happened before that moment, so a gateway request about that character that
arrived later is a request made after its result was stored.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.fakes.openai_server import FakeOpenAIServer

ROOT = Path(__file__).resolve().parents[2]
TERMINAL = {"COMPLETED", "FAILED", "CANCELLED"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Evidence:
    """What the harness saw: first time each label's result was seen stored, kills, runs."""

    stored_at: dict[str, float] = field(default_factory=dict)
    kills: int = 0
    completions: int = 0


@dataclass
class Site:
    """One mode's world: a character db, a state dir, the command line and its environment."""

    root: Path
    db: Path
    gateway: FakeOpenAIServer
    tmpdir: Path
    evidence: Evidence = field(default_factory=Evidence)

    def args(self) -> list[str]:
        dirs = ["--db", str(self.db)]
        for flag in ("state", "data", "log", "backup", "avatar"):
            dirs += [f"--{flag}-dir", str(self.root / flag)]
        return dirs

    def env(self) -> dict[str, str]:
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("NEWAPI", "OPENAI", "TAVERN"))
        }
        env |= {
            "NEWAPI_BASE_URL": self.gateway.base_url,
            "NEWAPI_KEY": "sk-torture",
            "NEWAPI_RPM": "100000",
            "XDG_CONFIG_HOME": str(self.root / "config"),
            "TMPDIR": str(self.tmpdir),
        }
        return env

    @property
    def tasks_db(self) -> Path:
        return self.root / "state" / "tasks.db"

    @property
    def backup_dir(self) -> Path:
        return self.root / "backup"

    def launch(self, *command: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "tui_updater", *command, *self.args()],
            cwd=ROOT,
            env=self.env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

    # --- evidence from tasks.db -----------------------------------------------------------------

    def poll_stored(self) -> None:
        now = time.time()
        for label in stored_labels(self.tasks_db):
            self.evidence.stored_at.setdefault(label, now)

    def run_until_killed(
        self, proc: subprocess.Popen[str], delay_s: float, *, tasks: int = 0
    ) -> bool:
        """Let ``proc`` run ``delay_s`` (noting stored results), then SIGKILL it; False if it
        had already exited. With ``tasks``, the delay counts from when tasks.db holds that many
        tasks (a kill before the task is stored loses nothing worth testing)."""
        start_by = time.monotonic() + 60
        while len(task_ids(self.tasks_db)) < tasks:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < start_by, "the task was never stored"
            time.sleep(0.02)
        deadline = time.monotonic() + delay_s
        while time.monotonic() < deadline and proc.poll() is None:
            self.poll_stored()
            time.sleep(0.02)
        if proc.poll() is not None:
            self.poll_stored()
            return False
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        self.evidence.kills += 1
        self.poll_stored()
        return True

    def run_to_end(self, proc: subprocess.Popen[str], timeout_s: float = 120) -> int:
        deadline = time.monotonic() + timeout_s
        while proc.poll() is None:
            assert time.monotonic() < deadline, "a restart did not finish"
            self.poll_stored()
            time.sleep(0.02)
        self.poll_stored()
        self.evidence.completions += 1
        return int(proc.returncode)

    def serve(self, port: int) -> subprocess.Popen[str]:
        return self.launch("--serve", "--port", str(port))

    def drain(self) -> list[dict[str, Any]]:
        """Restart under --serve and wait over REST until every task has ended."""
        for _ in range(5):
            port = free_port()
            proc = self.serve(port)
            try:
                tasks = wait_all_terminal(proc, port, self)
            except PortTaken:
                continue  # another process took the free port first
            finally:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=30)
            self.evidence.completions += 1
            return tasks
        raise AssertionError("no free port for --serve")

    # --- what the gateway saw ---------------------------------------------------------------------

    def request_times(self, name: str) -> list[float]:
        """Wall-clock arrival times of gateway requests whose body mentions ``name``."""
        offset = time.time() - time.monotonic()
        return [
            r.timestamp + offset
            for r in list(self.gateway.requests)
            if name in json.dumps(r.body, ensure_ascii=False)
        ]


def stored_labels(tasks_db: Path) -> set[str]:
    if not tasks_db.exists():
        return set()
    try:
        conn = sqlite3.connect(f"file:{tasks_db}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error:
        return set()
    try:
        rows = conn.execute("SELECT label FROM items WHERE status IN ('OBTAINED', 'DONE')")
        return {label for (label,) in rows}
    except sqlite3.Error:
        return set()  # not created yet
    finally:
        conn.close()


def task_ids(tasks_db: Path) -> list[str]:
    if not tasks_db.exists():
        return []
    try:
        conn = sqlite3.connect(f"file:{tasks_db}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error:
        return []
    try:
        return [task_id for (task_id,) in conn.execute("SELECT task_id FROM tasks")]
    except sqlite3.Error:
        return []
    finally:
        conn.close()


class PortTaken(Exception):
    """The port picked for --serve was taken before the server bound it."""


def wait_ready(proc: subprocess.Popen[str], port: int, timeout_s: float = 60) -> httpx.Client:
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)
    deadline = time.monotonic() + timeout_s
    while True:
        if proc.poll() is not None:
            client.close()
            stderr = proc.stderr.read() if proc.stderr else ""
            if "address already in use" in stderr:
                raise PortTaken(stderr)
            raise AssertionError(stderr)
        try:
            client.get("/api/status").raise_for_status()
            return client
        except httpx.HTTPError:
            assert time.monotonic() < deadline, "the server did not come up"
            time.sleep(0.05)


def wait_all_terminal(
    proc: subprocess.Popen[str], port: int, site: Site, timeout_s: float = 120
) -> list[dict[str, Any]]:
    client = wait_ready(proc, port)
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            site.poll_stored()
            tasks = client.get("/api/tasks", params={"limit": 500}).json()
            if all(task["status"] in TERMINAL for task in tasks):
                return list(tasks)
            assert time.monotonic() < deadline, f"tasks did not end: {tasks}"
            time.sleep(0.1)
    finally:
        client.close()


def task_rows(tasks_db: Path) -> list[sqlite3.Row]:
    conn = sqlite3.connect(tasks_db)
    conn.row_factory = sqlite3.Row
    try:
        return list(conn.execute("SELECT * FROM tasks"))
    finally:
        conn.close()


def item_rows(tasks_db: Path) -> list[sqlite3.Row]:
    conn = sqlite3.connect(tasks_db)
    conn.row_factory = sqlite3.Row
    try:
        return list(conn.execute("SELECT * FROM items"))
    finally:
        conn.close()


def characters(db: Path) -> list[sqlite3.Row]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return list(conn.execute('SELECT * FROM "Character"'))
    finally:
        conn.close()


def leftovers(site: Site) -> list[Path]:
    """Scratch copies in $TMPDIR and ``.partial`` files in the backup dir."""
    found = [p for p in site.tmpdir.rglob("*")]
    if site.backup_dir.is_dir():
        found += [p for p in site.backup_dir.iterdir() if p.name.endswith(".partial")]
    return found
