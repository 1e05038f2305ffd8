"""The seed README's JavaScript WebSocket client, verbatim on Node's ``ws``, against a real --serve.

``tests/node/seed_client.js`` is the README's snippet byte for byte (checked against the seed when
the team's ``shared/seed`` is beside the checkout); ``ws`` is installed into ``tests/node`` on
first use. Skipped when ``node`` or ``npm`` is absent.
"""

from __future__ import annotations

import fcntl
import os
import queue
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import httpx
import pytest

from tui_updater.characters.demo import generate_synthetic_db

ROOT = Path(__file__).resolve().parents[2]
NODE_DIR = ROOT / "tests" / "node"
EXE = Path(sys.executable).parent / "tavern-updater-tui"
WAIT_S = 60.0  # a guard against a hang, not a speed check

pytestmark = pytest.mark.slow


def seed_snippet() -> str | None:
    """The README's "WebSocket 实时监控" code block, if the seed is beside this checkout."""
    for folder in ROOT.parents:
        for readme in sorted((folder / "shared" / "seed").glob("*.txt")):
            text = readme.read_text(encoding="utf-8")
            if "WebSocket 实时监控" not in text:
                continue
            section = text[text.index("WebSocket 实时监控") :]
            block = re.search(r"```javascript\n(.*?\n)```", section, re.S)
            if block is not None:
                return block.group(1)
    return None


def test_the_client_file_is_the_seed_readme_snippet_verbatim() -> None:
    snippet = seed_snippet()
    if snippet is None:
        pytest.skip("the seed README (shared/seed) is not beside this checkout")
    assert (NODE_DIR / "seed_client.js").read_text(encoding="utf-8") == snippet


@pytest.fixture(scope="session")
def node_with_ws() -> str:
    """The node executable, with tests/node/node_modules/ws installed (once, under a lock)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are needed to run the seed's JavaScript client")
    with (NODE_DIR / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # pytest-xdist workers install once between them
        if not (NODE_DIR / "node_modules" / "ws" / "package.json").exists():
            done = subprocess.run(
                [npm, "install", "--no-audit", "--no-fund", "--no-package-lock"],
                cwd=NODE_DIR,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert done.returncode == 0, f"npm install failed:\n{done.stdout}\n{done.stderr}"
    return node


class Lines:
    """A child's stdout, line by line, read on a thread so that waiting for a line can time out."""

    def __init__(self, proc: subprocess.Popen[str]):
        self.seen: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        assert proc.stdout is not None
        threading.Thread(target=self._read, args=(proc.stdout,), daemon=True).start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def until(self, predicate: Callable[[str], bool]) -> str:
        """Read until a line matches; every line read is kept in ``seen``."""
        deadline = time.monotonic() + WAIT_S
        while True:
            try:
                line = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no matching line; the client printed: {self.seen}") from None
            if line is None:
                raise AssertionError(f"the client exited; it printed: {self.seen}")
            self.seen.append(line)
            if predicate(line):
                return line


class SeedSetup:
    def __init__(self, base_url: str, client: Lines, character_ids: list[str]):
        self.base_url = base_url
        self.client = client
        self.character_ids = character_ids


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def seed_setup(tmp_path: Path, node_with_ws: str) -> Iterator[SeedSetup]:
    """``--serve`` on a free port (offline provider, a fresh database) and the seed's client on it."""
    db = generate_synthetic_db(tmp_path / "dev.db", 5)
    with sqlite3.connect(db) as conn:
        ids = [row[0] for row in conn.execute('SELECT id FROM "Character" ORDER BY id LIMIT 3')]
    conn.close()
    stderr_path = tmp_path / "serve.stderr"
    server = subprocess.Popen(
        [str(EXE), "--serve", "--port", "0", "--db", str(db), "--offline",
         "--state-dir", str(tmp_path / "state"), "--data-dir", str(tmp_path / "data"),
         "--log-dir", str(tmp_path / "log"), "--backup-dir", str(tmp_path / "backups"),
         "--avatar-dir", str(tmp_path / "avatars")],
        stdout=subprocess.DEVNULL, stderr=stderr_path.open("wb"), text=True,
    )  # fmt: skip
    client: subprocess.Popen[str] | None = None
    try:
        deadline = time.monotonic() + WAIT_S
        while (found := re.search(r"listening on (http://\S+)", stderr_path.read_text())) is None:
            assert server.poll() is None and time.monotonic() < deadline, stderr_path.read_text()
            time.sleep(0.05)
        base_url = found.group(1)
        client = subprocess.Popen(
            [node_with_ws, str(NODE_DIR / "run_seed_client.js")],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "SEED_WS_ORIGIN": base_url.replace("http://", "ws://")},
        )
        lines = Lines(client)
        lines.until(lambda line: "snapshot" in line)  # connected: events from here on reach it
        yield SeedSetup(base_url, lines, ids)
    finally:
        if client is not None:
            _stop(client)
        _stop(server)


def create_like_the_readme(setup: SeedSetup) -> str:
    """The README's ``curl -X POST /api/tasks`` create, with ids that exist in this database."""
    body = {
        "type": "CHARACTER_AVATAR",
        "priority": "HIGH",
        "data": {"characterIds": setup.character_ids, "batchSize": 3},
    }
    with httpx.Client(base_url=setup.base_url, trust_env=False) as http:
        answer = http.post("/api/tasks", json=body)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["taskId"])


def failing_upgrade(setup: SeedSetup) -> str:
    body = {"migrationScript": "ALTER TABLE NoSuchTable ADD COLUMN x TEXT;"}
    with httpx.Client(base_url=setup.base_url, trust_env=False) as http:
        answer = http.post("/api/quick/database-upgrade", json=body)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["taskId"])


def test_the_seed_client_prints_started_progress_completed_and_failed(
    seed_setup: SeedSetup,
) -> None:
    task_id = create_like_the_readme(seed_setup)
    seed_setup.client.until(lambda line: line == f"任务 {task_id} 已完成")
    printed = [line for line in seed_setup.client.seen if line.startswith(f"任务 {task_id} ")]
    assert printed[0] == f"任务 {task_id} 已开始"
    assert f"任务 {task_id} 进度: 100%" in printed
    assert printed[-1] == f"任务 {task_id} 已完成"
    assert all(line.startswith(f"任务 {task_id} 进度: ") for line in printed[1:-1])

    upgrade_id = failing_upgrade(seed_setup)
    failed = seed_setup.client.until(lambda line: line.startswith(f"任务 {upgrade_id} 失败: "))
    assert f"任务 {upgrade_id} 已开始" in seed_setup.client.seen
    assert failed != f"任务 {upgrade_id} 失败: undefined"


def test_the_seed_client_prints_sqlites_message_for_a_failed_upgrade(
    seed_setup: SeedSetup,
) -> None:
    upgrade_id = failing_upgrade(seed_setup)
    failed = seed_setup.client.until(lambda line: line.startswith(f"任务 {upgrade_id} 失败: "))
    assert "no such table" in failed
