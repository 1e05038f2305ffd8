"""Durable queue: N one-item tasks created and completed, engine vs Huey's SqliteHuey, same run.

End-to-end rate = N / (first submit → last completion), as peer-baselines.md section 1 measures
Huey: an idle consumer (its own process, one thread worker, results off) and a producer.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.common import ROOT, ROUNDS, Result, arguments, median, note, report
from tui_updater.core.models import ItemRecord, ItemStatus
from tui_updater.tasks.base import ItemOutcome, ItemSpec, TaskContext, TaskParams, TaskType

BENCH = "queue"
TASKS = 2000
QUICK_TASKS = 200
TUNED_RUNNING = 128  # no-op tasks are all bookkeeping: let many share each commit


class NoopParams(TaskParams):
    pass


class NoopTask(TaskType[NoopParams]):
    """One item that does nothing: what is left is the engine's own bookkeeping."""

    name = "BENCH_NOOP"
    title = "Benchmark no-op"
    params_model = NoopParams

    async def select(self, ctx: TaskContext, params: NoopParams) -> Sequence[ItemSpec]:
        return [ItemSpec("only")]

    async def obtain(
        self, ctx: TaskContext, params: NoopParams, item: ItemRecord
    ) -> dict[str, Any]:
        return {}

    async def apply(
        self,
        ctx: TaskContext,
        params: NoopParams,
        batch: Sequence[tuple[ItemRecord, dict[str, Any]]],
    ) -> Sequence[ItemOutcome]:
        return [ItemOutcome(item.key, ItemStatus.DONE) for item, _ in batch]


async def engine_e2e(
    db_path: Path,
    count: int,
    *,
    synchronous: str,
    max_running_tasks: int = 2,
    concurrent_submit: bool = False,
) -> float:
    """Tasks/s from the first submit to the last completion, the real engine and SqliteTaskStore."""
    from tui_updater.config import EngineSettings
    from tui_updater.engine.engine import Engine
    from tui_updater.store.sqlite import SqliteTaskStore
    from tui_updater.tasks.registry import TaskTypeRegistry

    store = SqliteTaskStore(db_path, synchronous=synchronous)
    await store.open()
    registry = TaskTypeRegistry()
    registry.register(NoopTask())
    engine = Engine(store, registry, None, EngineSettings(max_running_tasks=max_running_tasks))
    await engine.start()
    try:
        started_s = time.perf_counter()
        if concurrent_submit:  # as concurrent API clients do: their creations share commits
            await asyncio.gather(*(engine.submit("BENCH_NOOP", {}) for _ in range(count)))
        else:
            for _ in range(count):
                await engine.submit("BENCH_NOOP", {})
        while engine.pending_count or engine.running_count:
            await asyncio.sleep(0.001)
        elapsed_s = time.perf_counter() - started_s
        completed = (await store.count_by_status()).get("COMPLETED", 0)
        if completed != count:
            raise RuntimeError(f"engine completed {completed} of {count} tasks")
    finally:
        await engine.stop()
        await store.close()
    return count / elapsed_s


# --- Huey ------------------------------------------------------------------------------------


def make_huey(
    db_path: Path, synchronous: str, counter: list[int] | None = None, count: int = 0
) -> Any:
    """A SqliteHuey (results off) and its no-op task; ``synchronous`` is "FULL" (huey default) or "NORMAL"."""
    from huey import Huey, SqliteHuey
    from huey.storage import SqliteStorage

    class NormalSyncStorage(SqliteStorage):  # type: ignore[misc]
        """SqliteStorage with PRAGMA synchronous=NORMAL (huey's fsync flag knows only FULL/OFF)."""

        def _create_connection(self) -> Any:
            conn = super()._create_connection()
            conn.execute("PRAGMA synchronous=NORMAL")
            return conn

    if synchronous.upper() == "NORMAL":
        huey = Huey("bench", results=False, storage_class=NormalSyncStorage, filename=str(db_path))
    else:
        huey = SqliteHuey("bench", results=False, filename=str(db_path))

    def noop(index: int) -> None:
        if counter is not None:
            counter[0] += 1
            if counter[0] == count:
                print(f"DONE {time.monotonic()!r}", flush=True)

    noop.__module__ = "bench.queue"  # the same task name in the producer and the consumer
    return huey, huey.task(name="bench_noop")(noop)


def huey_consumer_main(db_path: Path, synchronous: str, count: int) -> None:
    """The consumer process: one thread worker; prints READY, then DONE <monotonic> at the N-th task."""
    counter = [0]
    huey, _ = make_huey(db_path, synchronous, counter, count)
    consumer = huey.create_consumer(
        workers=1, worker_type="thread", periodic=False, check_worker_health=False
    )
    consumer.start()
    print("READY", flush=True)
    sys.stdin.read()  # the parent closes stdin when it has its answer
    consumer.stop(graceful=False)


def huey_e2e(db_path: Path, count: int, *, synchronous: str) -> float:
    """Tasks/s from the first enqueue (this process) to the last completion (consumer process)."""
    consumer = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench.queue",
            "--huey-consumer",
            str(db_path),
            synchronous,
            str(count),
        ],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert consumer.stdout is not None and consumer.stdin is not None
        if consumer.stdout.readline().strip() != "READY":
            raise RuntimeError("the huey consumer did not start")
        _huey, noop = make_huey(db_path, synchronous)
        started_s = time.monotonic()
        for index in range(count):
            noop(index)
        line = consumer.stdout.readline().strip()
        if not line.startswith("DONE "):
            raise RuntimeError(f"the huey consumer stopped early: {line!r}")
        elapsed_s = float(line.split()[1]) - started_s
        consumer.stdin.close()
        consumer.wait(10)
    finally:
        if consumer.poll() is None:
            consumer.kill()
            consumer.wait()
    return count / elapsed_s


def _timed(count: int, run_e2e: Any) -> tuple[float, float]:
    """Tasks/s of one engine run and its CPU µs per task (all threads: the writer's too)."""
    cpu_s = time.process_time()
    rate = asyncio.run(run_e2e)
    return rate, (time.process_time() - cpu_s) / count * 1e6


def run(quick: bool = False, rounds: int = ROUNDS) -> list[Result]:
    count = QUICK_TASKS if quick else TASKS
    cpu_us: dict[str, list[float]] = {"ours-FULL": [], "ours-NORMAL": [], "ours-FULL-tuned": []}
    samples: dict[str, list[float]] = {
        "huey-FULL": [],
        "huey-NORMAL": [],
        "ours-FULL": [],
        "ours-NORMAL": [],
        "ours-FULL-tuned": [],
    }
    for _round in range(rounds):  # interleaved, so drift in machine load hits both sides
        with tempfile.TemporaryDirectory(prefix="bench-queue-") as tmp:
            root = Path(tmp)
            for sync in ("FULL", "NORMAL"):
                samples[f"huey-{sync}"].append(
                    huey_e2e(root / f"huey-{sync}.db", count, synchronous=sync)
                )
                rate, cpu = _timed(
                    count, engine_e2e(root / f"tasks-{sync}.db", count, synchronous=sync)
                )
                samples[f"ours-{sync}"].append(rate)
                cpu_us[f"ours-{sync}"].append(cpu)
            rate, cpu = _timed(
                count,
                engine_e2e(
                    root / "tasks-tuned.db",
                    count,
                    synchronous="FULL",
                    max_running_tasks=TUNED_RUNNING,
                    concurrent_submit=True,
                ),
            )
            samples["ours-FULL-tuned"].append(rate)
            cpu_us["ours-FULL-tuned"].append(cpu)
    huey_full = median(samples["huey-FULL"])
    note(
        BENCH,
        f"{count} one-item tasks, {rounds} rounds; engine defaults and tuned (see rows), "
        "Huey 1 thread worker, results off",
    )
    # The load-proof figure beside the wall rates: the engine's CPU per task, all its threads.
    note(
        BENCH,
        "engine CPU µs per task (median of rounds): "
        + ", ".join(
            f"{name} {median(values):.0f}"
            for name, values in (
                (f"{TUNED_RUNNING} running", cpu_us["ours-FULL-tuned"]),
                ("FULL defaults", cpu_us["ours-FULL"]),
                ("NORMAL defaults", cpu_us["ours-NORMAL"]),
            )
        ),
    )
    return [
        report(
            Result.of_rounds(
                BENCH,
                f"engine e2e, synchronous=FULL, max_running_tasks={TUNED_RUNNING}, concurrent submits",
                samples["ours-FULL-tuned"],
                "tasks/s",
                "SqliteHuey default e2e",
                samples["huey-FULL"],
                goal=">= 2x",
                meets=lambda figure: figure >= 2 * huey_full,
            )
        ),
        report(
            Result.of_rounds(
                BENCH,
                "engine e2e, synchronous=FULL, defaults (2 running, one submit at a time)",
                samples["ours-FULL"],
                "tasks/s",
                "SqliteHuey default e2e",
                samples["huey-FULL"],
            )
        ),
        report(
            Result.of_rounds(
                BENCH,
                "engine e2e, synchronous=NORMAL",
                samples["ours-NORMAL"],
                "tasks/s",
                "SqliteHuey synchronous=NORMAL e2e",
                samples["huey-NORMAL"],
            )
        ),
    ]


def main(argv: Sequence[str] | None = None) -> None:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["--huey-consumer"]:
        huey_consumer_main(Path(args_list[1]), args_list[2], int(args_list[3]))
        return
    args = arguments(__doc__ or BENCH, args_list)
    run(quick=args.quick, rounds=args.rounds)


if __name__ == "__main__":
    main()
