"""The --serve command: bind policy, the CLI in a subprocess, SIGTERM, and SIGKILL then resume."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tui_updater.characters.demo import generate_synthetic_db
from tui_updater.commands.serve import serve_command
from tui_updater.config import ServerSettings, Settings

EXE = Path(sys.executable).parent / "tavern-updater-tui"


def test_serve_command_refuses_public_bind_without_token(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings.for_tests(tmp_path, server=ServerSettings(host="0.0.0.0"))
    assert serve_command(settings) == 2
    assert "token" in capsys.readouterr().err


@pytest.mark.slow
def test_cli_refuses_public_bind_without_token(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "TAVERN_UPDATER_TOKEN"}
    done = subprocess.run(
        [str(EXE), "--serve", "--host", "0.0.0.0", "--port", "0", "--demo", "--state-dir", str(tmp_path / "s"),
         "--data-dir", str(tmp_path / "d"), "--log-dir", str(tmp_path / "l")],
        capture_output=True, text=True, timeout=30, env=env,
    )  # fmt: skip
    assert done.returncode != 0
    assert (
        "0.0.0.0" in done.stderr
        and "--token" in done.stderr
        and "TAVERN_UPDATER_TOKEN" in done.stderr
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    def __init__(self, tmp_path: Path, db: Path, port: int):
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.args = [
            str(EXE), "--serve", "--port", str(port), "--db", str(db), "--offline",
            "--state-dir", str(tmp_path / "state"), "--data-dir", str(tmp_path / "data"),
            "--log-dir", str(tmp_path / "log"), "--backup-dir", str(tmp_path / "backups"),
            "--avatar-dir", str(tmp_path / "avatars"),
        ]  # fmt: skip
        self.stderr_path = tmp_path / f"stderr-{time.monotonic_ns()}.txt"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.stderr_path = self.stderr_path.with_name(f"stderr-{time.monotonic_ns()}.txt")
        self.proc = subprocess.Popen(
            self.args, stdout=subprocess.DEVNULL, stderr=self.stderr_path.open("wb")
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if "server listening on" in self.stderr():
                return
            assert self.proc.poll() is None, self.stderr()
            time.sleep(0.05)
        raise AssertionError(f"server did not start: {self.stderr()}")

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM) -> int:
        assert self.proc is not None
        self.proc.send_signal(sig)
        return self.proc.wait(timeout=20)


@pytest.fixture
def big_db(tmp_path: Path) -> Path:
    return generate_synthetic_db(tmp_path / "dev.db", 400)


@pytest.fixture
def server(tmp_path: Path, big_db: Path) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path, big_db, free_port())
    yield process
    if process.proc is not None and process.proc.poll() is None:
        process.proc.kill()
        process.proc.wait()


def wait_for(
    client: httpx.Client, task_id: str, predicate: Any, timeout_s: float = 60
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        task = client.get(f"/api/tasks/{task_id}").json()
        if predicate(task):
            return task
        time.sleep(0.02)
    raise AssertionError(f"condition not reached for {task_id}: {task}")


@pytest.mark.slow
def test_startup_line_and_sigterm_interrupts_the_running_task(
    server: ServerProcess, tmp_path: Path
) -> None:
    server.start()
    assert f"] INFO: server listening on http://127.0.0.1:{server.port}" in server.stderr()
    with httpx.Client(base_url=server.base, trust_env=False) as client:
        task = client.post("/api/quick/character-avatars", json={"concurrency": 1}).json()
        wait_for(
            client, task["taskId"], lambda t: 0 < t["items"]["done"] and t["status"] == "RUNNING"
        )
    assert server.stop(signal.SIGTERM) == 0
    log = server.stderr()
    assert "interrupted; it resumes on the next start" in log and "server stopped" in log
    with sqlite3.connect(tmp_path / "state" / "tasks.db") as conn:
        status = conn.execute(
            "SELECT status FROM tasks WHERE task_id = ?", (task["taskId"],)
        ).fetchone()[0]
    assert status == "PENDING"


@pytest.mark.slow
def test_sigkill_mid_task_then_restart_completes_without_repeating(
    server: ServerProcess, tmp_path: Path, big_db: Path
) -> None:
    server.start()
    with httpx.Client(base_url=server.base, trust_env=False) as client:
        task = client.post(
            "/api/quick/character-avatars", json={"concurrency": 2, "batchSize": 3}
        ).json()
        total_missing = wait_for(
            client, task["taskId"], lambda t: t["items"]["done"] >= 10 and t["status"] == "RUNNING"
        )["items"]["total"]
    assert server.stop(signal.SIGKILL) == -signal.SIGKILL

    server.start()
    with httpx.Client(base_url=server.base, trust_env=False) as client:
        done = wait_for(client, task["taskId"], lambda t: t["status"] in ("COMPLETED", "FAILED"))
        assert done["status"] == "COMPLETED", done
        assert done["items"]["total"] == total_missing and done["items"]["done"] == total_missing
    server.stop()

    with sqlite3.connect(tmp_path / "state" / "tasks.db") as conn:
        per_write = conn.execute(
            "SELECT character_id, column_name, new_value, COUNT(*) FROM journal WHERE task_id = ? AND state = 'applied' "
            "GROUP BY character_id, column_name, new_value",
            (task["taskId"],),
        ).fetchall()
    # avatarStatus goes GENERATING → COMPLETED; a repeated item would show the same write twice.
    assert per_write and all(count == 1 for _c, _col, _new, count in per_write), per_write
    # Every character of the task ends with an avatar and COMPLETED; show the evidence if not.
    with sqlite3.connect(big_db) as conn:
        unfinished = conn.execute(
            "SELECT id, avatar, avatarStatus FROM Character WHERE avatarStatus != 'COMPLETED' OR avatar IS NULL OR avatar = ''"
        ).fetchall()
    with sqlite3.connect(tmp_path / "state" / "tasks.db") as conn:
        evidence = [
            (
                row,
                conn.execute(
                    "SELECT status, attempts, error FROM items WHERE task_id = ? AND key = ?",
                    (task["taskId"], row[0]),
                ).fetchone(),
                conn.execute(
                    "SELECT column_name, new_value, state FROM journal WHERE task_id = ? AND character_id = ?",
                    (task["taskId"], row[0]),
                ).fetchall(),
            )
            for row in unfinished
        ]
    assert not unfinished, evidence
    assert len({c for c, col, _n, _k in per_write if col == "avatar"}) == total_missing
    assert len(list((tmp_path / "avatars").glob("*-avatar-task_*.png"))) == total_missing
    json.dumps(done)  # the task JSON stays serialisable after resume
