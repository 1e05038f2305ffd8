"""Offline bulk: N synthetic characters through MBTI_ASSIGNMENT and CHARACTER_SETTINGS.

The figure is items/s through the real Runtime (offline provider, tasks.db item state and the
write journal included). The reference applies the very same final values with raw sqlite3
``executemany`` in the same batch size, on a fresh copy of the same database.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from bench.common import Result, arguments, bench_settings, note, report

BENCH = "bulk"
SYNC = "FULL"
CHARACTERS = 10_000
QUICK_CHARACTERS = 1_000
BATCH_SIZE = 250
CONCURRENCY = 32
WRITTEN_COLUMNS = (
    "mbtiType",
    "fullDescription",
    "speakingStyle",
    "scenario",
    "exampleDialogs",
    "updated_at",
)
GOAL_ITEMS_PER_S = 5_000


@contextlib.contextmanager
def tool_process_collector() -> Iterator[None]:
    """The garbage collector as the tool's own process runs it (``process.own``: young
    collections every 7,000 allocations; ``process.started``: what exists once the runtime is
    open is frozen), restored after. Without it this in-process bench ran with CPython's
    defaults, which the console script never does: ~90 us of collector per item (62 of them
    full passes over the bench's own heap), a third of the main thread's CPU."""
    from tui_updater.process import YOUNG_COLLECTION_EVERY

    saved = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_EVERY, *saved[1:])
    try:
        yield
    finally:
        gc.set_threshold(*saved)
        gc.unfreeze()


async def engine_items_per_s(
    root: Path, db_path: Path, *, batch_size: int, concurrency: int
) -> tuple[float, int]:
    """Run both task types at once through Runtime; items/s from submit to both completed."""
    from tui_updater.core.heap import settle_heap
    from tui_updater.runtime import Runtime

    runtime = await Runtime.open(bench_settings(root, db_path, offline=True), synchronous=SYNC)
    # As process.started does in the tool's process; collected first, so the bench's own garbage
    # (the generated database's rows) is not frozen with it.
    settle_heap()
    try:
        params = {"batchSize": batch_size, "concurrency": concurrency}
        started_s = time.perf_counter()
        mbti = await runtime.service.submit("MBTI_ASSIGNMENT", params)
        settings = await runtime.service.submit("CHARACTER_SETTINGS", params)
        finished = [
            await runtime.engine.wait(mbti.task_id),
            await runtime.engine.wait(settings.task_id),
        ]
        elapsed_s = time.perf_counter() - started_s
    finally:
        await runtime.close()
    items = 0
    for task in finished:
        if task.status.value != "COMPLETED" or task.counts.done != task.counts.total:
            raise RuntimeError(f"{task.type} ended {task.status.value}: {task.counts} {task.error}")
        items += task.counts.total
    return items / elapsed_s, items


def raw_executemany_items_per_s(
    pristine: Path, written: Path, scratch: Path, *, batch_size: int
) -> float:
    """Apply the values the engine wrote with executemany, one transaction per batch."""
    columns = ", ".join(f'"{c}"' for c in WRITTEN_COLUMNS)
    with sqlite3.connect(written) as conn:
        rows = conn.execute(f'SELECT id, {columns} FROM "Character" ORDER BY id').fetchall()
    shutil.copy(pristine, scratch)
    conn = sqlite3.connect(scratch, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        mbti_rows = [(r[1], r[6], r[0]) for r in rows]
        settings_rows = [(r[2], r[3], r[4], r[5], r[6], r[0]) for r in rows]
        updates: list[tuple[str, Sequence[Sequence[object]]]] = [
            ('UPDATE "Character" SET "mbtiType"=?, "updated_at"=? WHERE id=?', mbti_rows),
            (
                'UPDATE "Character" SET "fullDescription"=?, "speakingStyle"=?, "scenario"=?, '
                '"exampleDialogs"=?, "updated_at"=? WHERE id=?',
                settings_rows,
            ),
        ]
        started_s = time.perf_counter()
        for sql, values in updates:
            for start in range(0, len(values), batch_size):
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany(sql, values[start : start + batch_size])
                conn.execute("COMMIT")
        elapsed_s = time.perf_counter() - started_s
    finally:
        conn.close()
    return 2 * len(rows) / elapsed_s


def run(quick: bool = False, rounds: int = 5) -> list[Result]:
    from tui_updater.characters.demo import generate_synthetic_db

    count = QUICK_CHARACTERS if quick else CHARACTERS
    tuned: list[float] = []
    default: list[float] = []
    raw: list[float] = []
    items = 0
    with tempfile.TemporaryDirectory(prefix="bench-bulk-") as tmp:
        root = Path(tmp)
        pristine = generate_synthetic_db(root / "pristine.db", count)
        # The two settings alternate within each round, so a busy spell hits both alike.
        for index in range(rounds):
            scratch = root / f"round-{index}"
            scratch.mkdir()
            tuned_db = scratch / "tuned.db"
            shutil.copy(pristine, tuned_db)
            with tool_process_collector():
                rate, items = asyncio.run(
                    engine_items_per_s(
                        scratch / "tuned", tuned_db, batch_size=BATCH_SIZE, concurrency=CONCURRENCY
                    )
                )
            tuned.append(rate)
            default_db = scratch / "default.db"
            shutil.copy(pristine, default_db)
            with tool_process_collector():
                rate, _ = asyncio.run(
                    engine_items_per_s(
                        scratch / "default", default_db, batch_size=25, concurrency=4
                    )
                )
            default.append(rate)
            raw.append(
                raw_executemany_items_per_s(
                    pristine, tuned_db, scratch / "raw.db", batch_size=BATCH_SIZE
                )
            )
            shutil.rmtree(scratch)
    note(
        BENCH,
        f"{count} characters, {items} items (MBTI + settings, run together), offline provider, "
        f"tasks.db synchronous=FULL; {rounds} round(s), each a fresh copy of the database",
    )
    return [
        report(
            Result.of_rounds(
                BENCH,
                f"engine, batchSize={BATCH_SIZE} concurrency={CONCURRENCY}",
                tuned,
                "items/s",
                "raw sqlite3 executemany of the same updates",
                raw,
                goal=f">= {GOAL_ITEMS_PER_S:,} items/s",
                meets=lambda figure: figure >= GOAL_ITEMS_PER_S,
            )
        ),
        report(
            Result.of_rounds(
                BENCH,
                "engine, default batchSize=25 concurrency=4",
                default,
                "items/s",
                "raw sqlite3 executemany of the same updates",
                raw,
            )
        ),
    ]


def main(argv: Sequence[str] | None = None) -> None:
    args = arguments(__doc__ or BENCH, argv)
    run(quick=args.quick, rounds=args.rounds)


if __name__ == "__main__":
    main()
