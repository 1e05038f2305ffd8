"""Scale: 100,000 characters through one offline ``run MBTI_ASSIGNMENT``, the whole command.

Each round copies a pristine synthetic database (the demo schema, the real site's), starts
``tavern-updater-tui run MBTI_ASSIGNMENT --offline`` as a fresh process with default settings
(only the database and scratch directories given) and reports the items per second of the whole
command (start-up and shutdown included), the child's peak RSS (``wait4``) and the size of its
state dir afterwards. The reference for the rate is the offline classifier alone over the same
characters in this process (the provider's ceiling); RSS and size are judged against the goals.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.common import ROOT, Result, arguments, note, report

BENCH = "scale"
CHARACTERS = 100_000
QUICK_CHARACTERS = 10_000
GOAL_ITEMS_PER_S = 5_000
GOAL_PEAK_MB = 400
GOAL_STATE_MB = 64
_DIRS = ("data", "state", "log", "backup", "avatar")


@dataclass(frozen=True)
class Round:
    items_per_s: float
    peak_rss_mb: float
    state_mb: float
    items: int
    cpu_s: float  # the child's user + system CPU


def dir_mb(path: Path) -> float:
    """Bytes of every file under ``path`` (tasks.db with its -wal/-shm), in MB."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def run_once(pristine: Path, root: Path) -> Round:
    """One fresh process over a fresh copy of the database."""
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    db = root / "characters.db"
    shutil.copy(pristine, db)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("NEWAPI", "OPENAI", "TAVERN", "CHAT_MODEL", "DEFAULT_MODEL"))
    }
    env["XDG_CONFIG_HOME"] = str(root / "cfg")  # no user config.toml: the defaults
    dirs = [f"--{name}-dir={root / name}" for name in _DIRS]
    command = [sys.executable, "-m", "tui_updater", "run", "MBTI_ASSIGNMENT", "--offline"]
    command += ["--db", str(db), *dirs, "--json"]
    out_path, err_path = root / "stdout", root / "stderr"
    with out_path.open("w") as out, err_path.open("w") as err:
        started_s = time.perf_counter()
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own peak, not every child's
        elapsed_s = time.perf_counter() - started_s
        proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(
            f"run exited {proc.returncode}: {err_path.read_text()[-2000:] or out_path.read_text()}"
        )
    task = json.loads(out_path.read_text())
    counts = task.get("items") or {}
    total = int(counts.get("total", 0))
    done = int(counts.get("done", 0))
    if task.get("status") != "COMPLETED" or done != total or not total:
        raise RuntimeError(f"run ended {task.get('status')}: {counts}")
    cpu_s = usage.ru_utime + usage.ru_stime
    return Round(total / elapsed_s, usage.ru_maxrss / 1024, dir_mb(root / "state"), total, cpu_s)


def classifier_items_per_s(pristine: Path) -> float:
    """The offline provider's MBTI verdicts alone over the same characters (rows read first)."""
    from tui_updater.providers.offline import OfflineProvider

    conn = sqlite3.connect(pristine)
    conn.row_factory = sqlite3.Row
    try:
        characters = [dict(row) for row in conn.execute('SELECT * FROM "Character"')]
    finally:
        conn.close()
    provider = OfflineProvider()
    started_s = time.perf_counter()
    for character in characters:
        provider.mbti_of(character)
    return len(characters) / (time.perf_counter() - started_s)


def run(quick: bool = False, rounds: int = 5) -> list[Result]:
    from tui_updater.characters.demo import generate_synthetic_db

    count = QUICK_CHARACTERS if quick else CHARACTERS
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        scratch = Path(tmp)
        pristine = generate_synthetic_db(scratch / "pristine.db", count)
        measured = [run_once(pristine, scratch / "run") for _ in range(rounds)]
        ceiling = [classifier_items_per_s(pristine) for _ in range(min(rounds, 3))]
    note(
        BENCH,
        f"{count:,} characters, {measured[0].items:,} items; `run MBTI_ASSIGNMENT --offline`, "
        "a fresh process with default settings, per round; CPU s per round: "
        + ", ".join(f"{r.cpu_s:.1f}" for r in measured),
    )
    return [
        report(
            Result.of_rounds(
                BENCH,
                "100k run, whole command",
                [r.items_per_s for r in measured],
                "items/s",
                "offline classifier alone, same characters",
                ceiling,
                goal=f">= {GOAL_ITEMS_PER_S:,} items/s",
                meets=lambda figure: figure >= GOAL_ITEMS_PER_S,
            )
        ),
        report(
            Result.under_ceiling(
                BENCH,
                "100k run, peak RSS of the process",
                [r.peak_rss_mb for r in measured],
                "MB",
                GOAL_PEAK_MB,
            )
        ),
        report(
            Result.under_ceiling(
                BENCH,
                "100k run, state dir after",
                [r.state_mb for r in measured],
                "MB",
                GOAL_STATE_MB,
            )
        ),
    ]


def main(argv: Sequence[str] | None = None) -> None:
    args = arguments(__doc__ or BENCH, argv)
    run(quick=args.quick, rounds=args.rounds)


if __name__ == "__main__":
    main()
