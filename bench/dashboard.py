"""Dashboard under load: 5,000 tasks and 500 events/s, key press → repaint latency and RSS.

The real TavernApp runs headless through Pilot on a LocalService (5,000 tasks in tasks.db, a
publisher putting 500 events/s on the engine bus). Latency = from the key press to the first
frame rendered (to segments, as a terminal would get them) after the cursor moved. Reference: a
bare Textual DataTable of 5,000 rows, same key presses, no load. Each round is a fresh app; a
figure is the median of the rounds' percentiles, printed with their min and max. With
``BENCH_DASHBOARD_STALLS=1`` each round also prints the loop callbacks that held the loop over
20 ms of CPU while keys were pressed, and the generation-2 collections (``bench/stalls.py``).
"""

from __future__ import annotations

import asyncio
import os
import random
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.common import (
    Result,
    arguments,
    bench_settings,
    median,
    note,
    percentile,
    process_cpu_s,
    report,
    rss_mb,
    skipped,
)
from bench.stalls import StallLog

BENCH = "dashboard"
TASKS = 5_000
QUICK_TASKS = 500
EVENTS_PER_S = 500
PRESSES = 60
QUICK_PRESSES = 10
SIZE = (160, 50)
GOAL_P95_MS = 50.0
GOAL_RSS_MB = 200.0
STALLS_ENV = "BENCH_DASHBOARD_STALLS"  # set: print what held the loop while keys were pressed


class FrameProbe:
    """Wraps ``app._display``: renders each frame to segments and times the first after a key press."""

    def __init__(self, app: Any, moved: Any) -> None:
        self.app = app
        self.moved = moved  # () -> bool: has the key's effect happened?
        self.armed_at_s: float | None = None
        self.latencies_ms: list[float] = []
        self.frame = asyncio.Event()
        original = app._display

        def display(screen: Any, renderable: Any) -> None:
            original(screen, renderable)
            if renderable is None:
                return
            if hasattr(renderable, "render_segments"):
                renderable.render_segments(app.console)  # what a real terminal write would cost
            if self.armed_at_s is not None and self.moved():
                self.latencies_ms.append(1000 * (time.perf_counter() - self.armed_at_s))
                self.armed_at_s = None
                self.frame.set()

        app._display = display

    async def press(self, pilot: Any, key: str) -> None:
        self.frame.clear()
        self.armed_at_s = time.perf_counter()
        await pilot.press(key)
        try:
            await asyncio.wait_for(self.frame.wait(), 5)
        except TimeoutError:
            self.armed_at_s = None


async def _press_many(pilot: Any, probe: FrameProbe, table: Any, presses: int) -> None:
    for index in range(presses):
        before = table.cursor_row
        probe.moved = lambda before=before: table.cursor_row != before
        key = "down" if index % 4 < 2 else "up"
        if key == "down" and table.cursor_row >= table.row_count - 1:
            key = "up"
        elif key == "up" and table.cursor_row <= 0:
            key = "down"
        await probe.press(pilot, key)
        await asyncio.sleep(0.05)


async def _publish(bus: Any, task_ids: list[str], stop: asyncio.Event) -> int:
    from tui_updater.core.events import Event, EventType

    rng = random.Random(7)
    published = 0
    started_s = time.perf_counter()
    while not stop.is_set():
        due = int(
            (time.perf_counter() - started_s) * EVENTS_PER_S
        )  # keep the rate when ticks run late
        for _ in range(due - published):
            task_id = rng.choice(task_ids)
            if published % 2:
                bus.publish(
                    Event(
                        EventType.TASK_PROGRESS,
                        task_id=task_id,
                        status="RUNNING",
                        progress=float(published % 100),
                        message=f"{published % 100}/100 items (0 failed)",
                    )
                )
            else:
                bus.publish(
                    Event(
                        EventType.LOG,
                        task_id=task_id,
                        message=f"item {published} done",
                        level="INFO",
                    )
                )
            published += 1
        await asyncio.sleep(0.01)
    return published


def _tasks(count: int) -> list[Any]:
    from tui_updater.core.models import ItemCounts, Priority, TaskRecord, TaskStatus, now_ms
    from tui_updater.engine.ids import new_task_id

    stamp = now_ms()
    statuses = (TaskStatus.COMPLETED, TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.PENDING)
    return [
        TaskRecord(
            task_id=new_task_id(),
            type="MBTI_ASSIGNMENT",
            priority=Priority.NORMAL,
            status=statuses[i % 4],
            data={},
            created_at_ms=stamp - i * 1000,
            updated_at_ms=stamp,
            message="bench",
            counts=ItemCounts(100, 100 if i % 4 < 2 else 40, 0 if i % 4 != 2 else 60, 0),
            progress=100.0 if i % 4 < 3 else 0.0,
        )
        for i in range(count)
    ]


async def dashboard_latencies(
    root: Path, task_count: int, presses: int
) -> tuple[list[float], float, int, float]:
    """Latencies (ms), RSS (MB), events/s published, and the loop's CPU share under load."""
    from tui_updater.characters.demo import generate_synthetic_db
    from tui_updater.runtime import Runtime
    from tui_updater.tui.app import TavernApp

    db_path = generate_synthetic_db(root / "dev.db", 100)
    runtime = await Runtime.open(bench_settings(root, db_path, offline=True))
    try:
        await runtime.engine.pause()
        tasks = _tasks(task_count)
        await runtime.store.save(tasks=tasks)
        app = TavernApp(runtime.service)
        async with app.run_test(size=SIZE) as pilot:
            table = app.table
            deadline_s = time.monotonic() + 30
            while table.row_count < min(task_count, 1000) and time.monotonic() < deadline_s:
                await pilot.pause(0.1)
            probe = FrameProbe(app, lambda: False)
            stop = asyncio.Event()
            publisher = asyncio.create_task(
                _publish(runtime.engine.bus, [t.task_id for t in tasks[:1000]], stop)
            )
            await asyncio.sleep(0.5)  # the load is on before the first key
            stalls = StallLog() if os.environ.get(STALLS_ENV) else None
            if stalls is not None:
                stalls.install()
            started_s = time.perf_counter()
            started_cpu_s = process_cpu_s()
            try:
                await _press_many(pilot, probe, table, presses)
            finally:
                if stalls is not None:
                    stalls.uninstall()
                    note(BENCH, stalls.summary())
            stop.set()
            published = await publisher
            elapsed_s = time.perf_counter() - started_s
            # CPU seconds per wall second while loaded: on an idle machine the loop's demand
            # (near 1.0 means saturated); on a busy one, what the scheduler granted
            cpu_share = (process_cpu_s() - started_cpu_s) / elapsed_s
            rate = published / (elapsed_s + 0.5)
            rss = rss_mb()
        return probe.latencies_ms, rss, int(rate), cpu_share
    finally:
        await runtime.close()


async def bare_table_latencies(rows: int, presses: int) -> list[float]:
    from textual.app import App, ComposeResult
    from textual.widgets import DataTable

    class BareTable(App[None]):
        def compose(self) -> ComposeResult:
            yield DataTable(cursor_type="row", zebra_stripes=True)

        def on_mount(self) -> None:
            table = self.query_one(DataTable)
            table.add_columns(
                "Task",
                "Type",
                "Priority",
                "Status",
                "Progress",
                "Done/Total",
                "Failed",
                "ETA",
                "Age",
            )
            table.add_rows(
                (
                    f"task_{i:013d}",
                    "MBTI_ASSIGNMENT",
                    "NORMAL",
                    "COMPLETED",
                    "██████████ 100%",
                    "100/100",
                    "0",
                    "—",
                    "3m",
                )
                for i in range(rows)
            )
            table.focus()

    app = BareTable()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.2)
        table = app.query_one(DataTable)
        probe = FrameProbe(app, lambda: False)
        await _press_many(pilot, probe, table, presses)
    return probe.latencies_ms


def run(quick: bool = False, rounds: int = 1) -> list[Result]:
    """``rounds`` fresh apps (and bare tables): p50/p95 per round, figures the rounds' medians."""
    try:
        import tui_updater.tui.app  # noqa: F401
    except ImportError as exc:
        skipped(BENCH, f"the dashboard is not importable yet ({exc})")
        return []
    task_count = QUICK_TASKS if quick else TASKS
    presses = QUICK_PRESSES if quick else PRESSES
    p50s: list[float] = []
    p95s: list[float] = []
    ref_p50s: list[float] = []
    ref_p95s: list[float] = []
    rss_samples: list[float] = []
    repainted = 0
    rates: list[int] = []
    cpu_shares: list[float] = []
    for _round in range(rounds):  # interleaved, so drift in machine load hits both sides
        with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as tmp:
            latencies, rss, rate, cpu_share = asyncio.run(
                dashboard_latencies(Path(tmp), task_count, presses)
            )
        reference = asyncio.run(bare_table_latencies(task_count, presses))
        p50s.append(percentile(latencies, 0.5))
        p95s.append(percentile(latencies, 0.95))
        ref_p50s.append(percentile(reference, 0.5))
        ref_p95s.append(percentile(reference, 0.95))
        rss_samples.append(rss)
        rates.append(rate)
        cpu_shares.append(cpu_share)
        repainted += len(latencies)
    all_repainted = repainted == presses * rounds
    note(
        BENCH,
        f"{task_count} tasks in tasks.db (the table shows the newest 1000), ~{min(rates)} events/s "
        f"published, {repainted}/{presses * rounds} presses repainted over {rounds} round(s); "
        f"terminal {SIZE[0]}x{SIZE[1]}; process CPU per wall second under load "
        f"{median(cpu_shares):.2f} (min {min(cpu_shares):.2f}, max {max(cpu_shares):.2f})",
    )
    reference_label = f"bare DataTable, {task_count} rows, no load"
    return [
        report(
            Result.of_rounds(
                BENCH,
                "key press -> repaint p50",
                p50s,
                "ms",
                f"{reference_label}, p50",
                ref_p50s,
                higher_is_better=False,
            )
        ),
        report(
            Result.of_rounds(
                BENCH,
                "key press -> repaint p95",
                p95s,
                "ms",
                f"{reference_label}, p95",
                ref_p95s,
                goal=f"<= {GOAL_P95_MS:g} ms",
                meets=lambda p95: p95 <= GOAL_P95_MS and all_repainted,
                higher_is_better=False,
            )
        ),
        report(
            Result.under_ceiling(
                BENCH, "RSS under load", rss_samples, "MB", GOAL_RSS_MB, "goal ceiling"
            )
        ),
    ]


def main(argv: Sequence[str] | None = None) -> None:
    args = arguments(__doc__ or BENCH, argv)
    run(quick=args.quick, rounds=args.rounds)


if __name__ == "__main__":
    main()
