"""Latency-bound fan-out: N CHARACTER_SETTINGS items against the fake gateway (100 ms per answer).

Efficiency = ideal wall time (N × latency / C) ÷ measured wall time, submit → completion, for the
real engine (Runtime with the OpenAI-compatible provider) and, in the same run, for a plain httpx
AsyncClient (default pool) sending the same number of chat requests C at a time.
The fake gateway runs in its own process so it shares neither the GIL nor the loop.
"""

from __future__ import annotations

import asyncio
import math
import sqlite3
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.common import Result, arguments, bench_settings, note, report

BENCH = "fanout"
ITEMS = 1000
QUICK_ITEMS = 200
LATENCY_S = 0.1
CONCURRENCIES = (10, 50, 200)
GOAL_EFFICIENCY = 0.9
GOAL_AT = (50, 200)
BATCH_SIZE = 50
TASK_CONCURRENCY_LIMIT = 256  # CHARACTER_SETTINGS accepts concurrency up to this
FIELDS = ("fullDescription", "speakingStyle", "scenario", "exampleDialogs")


def character_ids(db_path: Path) -> list[str]:
    with sqlite3.connect(db_path) as conn:
        return [row[0] for row in conn.execute('SELECT id FROM "Character" ORDER BY id')]


def split_tasks(ids: list[str], concurrency: int) -> list[tuple[list[str], int]]:
    """One task when the type allows ``concurrency``; else equal shards under the limit."""
    shards = math.ceil(concurrency / TASK_CONCURRENCY_LIMIT)
    per_task = concurrency // shards
    size = math.ceil(len(ids) / shards)
    return [(ids[i * size : (i + 1) * size], per_task) for i in range(shards)]


async def engine_wall_s(
    root: Path, db_path: Path, base_url: str, concurrency: int
) -> tuple[float, int]:
    """Wall time from the first submit to the last task completed; and how many tasks it took."""
    from tui_updater.config import EngineSettings, ProviderSettings
    from tui_updater.runtime import Runtime

    ids = character_ids(db_path)
    shards = split_tasks(ids, concurrency)
    settings = bench_settings(
        root,
        db_path,
        offline=False,
        provider=ProviderSettings(
            base_url=base_url,
            api_key="bench",
            max_in_flight=concurrency,
            requests_per_minute=10_000_000,
        ),
        engine=EngineSettings(max_running_tasks=max(2, len(shards))),
    )
    runtime = await Runtime.open(settings)
    try:
        started_s = time.perf_counter()
        submitted = [
            await runtime.service.submit(
                "CHARACTER_SETTINGS",
                {"characterIds": shard_ids, "concurrency": per_task, "batchSize": BATCH_SIZE},
            )
            for shard_ids, per_task in shards
        ]
        finished = [await runtime.engine.wait(task.task_id) for task in submitted]
        elapsed_s = time.perf_counter() - started_s
    finally:
        await runtime.close()
    for task in finished:
        if task.status.value != "COMPLETED" or task.counts.done != task.counts.total:
            raise RuntimeError(
                f"fan-out task ended {task.status.value}: {task.counts} {task.error}"
            )
    return elapsed_s, len(shards)


def chat_body(index: int) -> dict[str, Any]:
    """A settings request shaped like the provider's (json_schema response format)."""
    properties = {name: {"type": "string"} for name in FIELDS}
    return {
        "model": "gpt-4o-mini",
        "temperature": 0.7,
        "messages": [
            {"role": "system", "content": f"Write character settings. Keys: {', '.join(FIELDS)}"},
            {"role": "user", "content": f"Name: Bench {index}\nDescription: A calm knight."},
        ],
        "response_format": {
            "type": "json_schema",
            "json_schema": {
                "name": "settings",
                "strict": True,
                "schema": {"type": "object", "properties": properties},
            },
        },
    }


async def httpx_wall_s(base_url: str, count: int, concurrency: int) -> float:
    """The same requests through one stock httpx.AsyncClient, ``concurrency`` at a time."""
    import httpx

    gate = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(timeout=60.0, headers={"Authorization": "Bearer bench"}) as client:

        async def one(index: int) -> None:
            async with gate:
                response = await client.post(f"{base_url}/chat/completions", json=chat_body(index))
                response.raise_for_status()
                response.json()

        started_s = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(count)))
        return time.perf_counter() - started_s


def run(quick: bool = False) -> list[Result]:
    from tests.fakes.openai_server import FakeOpenAIProcess
    from tui_updater.characters.demo import generate_synthetic_db

    count = QUICK_ITEMS if quick else ITEMS
    results = []
    with (
        tempfile.TemporaryDirectory(prefix="bench-fanout-") as tmp,
        FakeOpenAIProcess(latency_s=LATENCY_S) as gateway,
    ):
        root = Path(tmp)
        pristine = generate_synthetic_db(root / "pristine.db", count)
        note(
            BENCH,
            f"{count} items, fake gateway latency {LATENCY_S * 1000:.0f} ms (own process), batchSize={BATCH_SIZE}",
        )
        for concurrency in CONCURRENCIES:
            ideal_s = count * LATENCY_S / concurrency
            db_path = root / f"c{concurrency}.db"
            db_path.write_bytes(pristine.read_bytes())
            ours_s, task_count = asyncio.run(
                engine_wall_s(root / f"run{concurrency}", db_path, gateway.base_url, concurrency)
            )
            stock_s = asyncio.run(httpx_wall_s(gateway.base_url, count, concurrency))
            ours, stock = ideal_s / ours_s, ideal_s / stock_s
            if task_count > 1:
                note(
                    BENCH,
                    f"C={concurrency}: CHARACTER_SETTINGS allows concurrency <= {TASK_CONCURRENCY_LIMIT}; "
                    f"ran {task_count} tasks of {concurrency // task_count} (max_running_tasks={task_count})",
                )
            note(
                BENCH,
                f"C={concurrency}: ideal {ideal_s:.2f} s, engine {ours_s:.2f} s, stock httpx {stock_s:.2f} s",
            )
            goal = concurrency in GOAL_AT
            results.append(
                report(
                    Result(
                        BENCH,
                        f"engine efficiency C={concurrency}",
                        100 * ours,
                        "%",
                        "one stock httpx AsyncClient, same requests",
                        100 * stock,
                        goal=f">= {GOAL_EFFICIENCY:.0%} of ideal" if goal else "",
                        passed=(ours >= GOAL_EFFICIENCY) if goal else None,
                    )
                )
            )
    return results


def main(argv: Sequence[str] | None = None) -> None:
    args = arguments(__doc__ or BENCH, argv)
    run(quick=args.quick)


if __name__ == "__main__":
    main()
