"""Start-up: ``--help`` wall time and the dashboard's first frame, one process per round.

References in the same run: ``python -c pass`` for ``--help``, and a bare Textual App's first
frame for the dashboard. A frame counts when the app hands its first rendered screen to the
(headless) driver; the child exits right after, and the parent times process start → that line.
Each figure is the median of its rounds (default 5), printed with their min and max.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.common import ROOT, Result, arguments, note, report

BENCH = "startup"
GOAL_HELP_S = 0.3
GOAL_FRAME_S = 1.5
SIZE = (120, 40)


def _wall_s(argv: list[str], rounds: int, *, until_line: str | None = None) -> list[float]:
    """Each of ``rounds`` processes' wall time, from spawn to exit (or to the line ``until_line``)."""
    samples: list[float] = []
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "0"}
    for _ in range(rounds):
        started_s = time.perf_counter()
        proc = subprocess.Popen(
            argv,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        assert proc.stdout is not None
        if until_line is None:
            proc.stdout.read()
            proc.wait()
            elapsed_s = time.perf_counter() - started_s
        else:
            elapsed_s = float("inf")
            for line in proc.stdout:
                if line.strip() == until_line:
                    elapsed_s = time.perf_counter() - started_s
                    break
            proc.stdout.close()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.returncode not in (0, None) and until_line is None:
            raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}")
        samples.append(elapsed_s)
    return samples


def _exit_on_first_frame(app: Any) -> None:
    original = app._display

    def display(screen: Any, renderable: Any) -> None:
        original(screen, renderable)
        if renderable is not None and not getattr(app, "_bench_framed", False):
            app._bench_framed = True
            print("FRAME", flush=True)
            app.exit()

    app._display = display


async def _dashboard_first_frame(root: Path) -> None:
    """What `tavern-updater-tui --demo --offline` does, up to its first frame."""
    from bench.common import bench_settings
    from tui_updater.characters.demo import ensure_demo_db
    from tui_updater.runtime import Runtime

    runtime = await Runtime.open(bench_settings(root, ensure_demo_db(root / "data"), offline=True))
    from tui_updater.tui.app import TavernApp

    app = TavernApp(runtime.service)
    _exit_on_first_frame(app)
    try:
        await app.run_async(headless=True, size=SIZE)
    finally:
        await runtime.close()


async def _bare_first_frame() -> None:
    from textual.app import App, ComposeResult
    from textual.widgets import Footer, Static

    class Bare(App[None]):
        def compose(self) -> ComposeResult:
            yield Static("hello")
            yield Footer()

    app = Bare()
    _exit_on_first_frame(app)
    await app.run_async(headless=True, size=SIZE)


def _help_command() -> list[str]:
    script = Path(sys.executable).parent / "tavern-updater-tui"
    return (
        [str(script), "--help"]
        if script.exists()
        else [sys.executable, "-m", "tui_updater", "--help"]
    )


def run(rounds: int = 1) -> list[Result]:
    help_s = _wall_s(_help_command(), rounds)
    pass_s = _wall_s([sys.executable, "-c", "pass"], rounds)
    results = [
        report(
            Result.of_rounds(
                BENCH,
                "--help wall time",
                help_s,
                "s",
                "python -c pass",
                pass_s,
                goal=f"<= {GOAL_HELP_S:g} s",
                meets=lambda figure: figure <= GOAL_HELP_S,
                higher_is_better=False,
            )
        )
    ]
    try:
        import tui_updater.tui.app  # noqa: F401
    except ImportError as exc:
        print(f"SKIPPED [{BENCH}]: the dashboard is not importable yet ({exc})", flush=True)
        return results
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        frame_s = _wall_s(
            [sys.executable, "-m", "bench.startup", "--child", "dashboard", tmp],
            rounds,
            until_line="FRAME",
        )
    bare_s = _wall_s(
        [sys.executable, "-m", "bench.startup", "--child", "bare"], rounds, until_line="FRAME"
    )
    note(
        BENCH,
        "first frame: demo database, offline provider, headless driver; the line FRAME is printed on the first rendered screen",
    )
    results.append(
        report(
            Result.of_rounds(
                BENCH,
                "first dashboard frame",
                frame_s,
                "s",
                "bare Textual App first frame",
                bare_s,
                goal=f"<= {GOAL_FRAME_S:g} s",
                meets=lambda figure: figure <= GOAL_FRAME_S,
                higher_is_better=False,
            )
        )
    )
    return results


def main(argv: Sequence[str] | None = None) -> None:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["--child"]:
        if args_list[1] == "dashboard":
            asyncio.run(_dashboard_first_frame(Path(args_list[2])))
        else:
            asyncio.run(_bare_first_frame())
        return
    args = arguments(__doc__ or BENCH, args_list)
    run(rounds=args.rounds)


if __name__ == "__main__":
    main()
