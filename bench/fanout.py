"""Gateway fan-out through the DEFAULT settings, a gateway with a hidden limit, MBTI tokens.

1. The whole ``run`` command (a fresh process, default settings, only NEWAPI_BASE_URL/KEY set)
   over 1000 characters against the fake gateway at 200 ms per answer, for MBTI_ASSIGNMENT
   (batched by the provider) and CHARACTER_SETTINGS at task concurrency 50 and 200.
   Efficiency = ideal (N × 0.2 s / C) ÷ wall. Reference: a bare aiohttp client sending the same
   number of requests C at a time (the harness's own ceiling), same run.
2. Hidden limit: the fake refuses past 16 in flight with an immediate 429; a task asks 64.
   Efficiency against the ideal at 16, and the share of requests refused. Reference: the same
   engine with a fixed lane of 64 (no adaptation), same run.
3. MBTI tokens per character, one character per request vs the default batch, from the fake
   gateway's usage counts.

The fake gateway runs in child processes (two on one port for the fan-out), so it shares
neither the GIL nor the loop with what is measured.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.common import ROOT, Result, arguments, bench_settings, note, report

BENCH = "fanout"
ITEMS = 1000
QUICK_ITEMS = 200
LATENCY_S = 0.2
FANOUT = (("MBTI_ASSIGNMENT", 50), ("CHARACTER_SETTINGS", 50), ("CHARACTER_SETTINGS", 200))
GOAL_EFFICIENCY = 0.85  # PRODUCT.md section 9: C=50, default settings, whole run
HIDDEN_LIMIT = 16
HIDDEN_ASK = 64
HIDDEN_ITEMS = 1000
HIDDEN_LATENCY_S = 0.2
MBTI_TOKEN_ITEMS = 200


def run_command(
    db: Path, root: Path, base_url: str, type_name: str, data: dict[str, Any]
) -> tuple[float, float]:
    """Wall time and CPU seconds of ``tavern-updater-tui run TYPE --data '{"concurrency": C}'``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWAPI", "OPENAI"))}
    env.update(NEWAPI_BASE_URL=base_url, NEWAPI_KEY="sk-bench", XDG_CONFIG_HOME=str(root / "cfg"))
    dirs = [f"--{name}-dir={root / name}" for name in ("data", "state", "log", "backup")]
    command = [sys.executable, "-m", "tui_updater", "run", type_name, "--db", str(db), *dirs]
    command += ["--data", json.dumps(data), "--json"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started_s = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
    elapsed_s = time.perf_counter() - started_s
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    if done.returncode != 0:
        raise RuntimeError(f"run {type_name} failed: {done.stderr[-800:]}")
    task = json.loads(done.stdout)
    if task["items"]["done"] != task["items"]["total"]:
        raise RuntimeError(f"run {type_name} ended with {task['items']}")
    return elapsed_s, cpu_s


async def aiohttp_wall_s(base_url: str, count: int, concurrency: int) -> float:
    """The same number of chat requests through one bare aiohttp session, C at a time."""
    import aiohttp

    gate = asyncio.Semaphore(concurrency)
    body = {
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "Task: CHARACTER_SETTINGS\nKeys: fullDescription"},
            {"role": "user", "content": "Character:\nName: Bench"},
        ],
    }
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(
        connector=connector, headers={"Authorization": "Bearer bench"}
    ) as session:

        async def one() -> None:
            async with gate, session.post(f"{base_url}/chat/completions", json=body) as answer:
                answer.raise_for_status()
                await answer.json()

        started_s = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(count)))
        return time.perf_counter() - started_s


def fresh_db(pristine: Path, path: Path) -> Path:
    path.write_bytes(pristine.read_bytes())
    return path


def fan_out(root: Path, pristine: Path, count: int) -> list[Result]:
    from tests.fakes.openai_server import FakeOpenAIProcess

    results = []
    with FakeOpenAIProcess(latency_s=LATENCY_S, processes=2) as gateway:
        load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
        note(
            BENCH,
            f"{count} characters, fake gateway {LATENCY_S * 1000:.0f} ms, 2 processes; "
            f"load average {load} (on {os.cpu_count()} cores)",
        )
        with sqlite3.connect(pristine) as conn:
            first_id = conn.execute('SELECT id FROM "Character" LIMIT 1').fetchone()[0]
        one_s, one_cpu_s = run_command(
            fresh_db(pristine, root / "one.db"),
            root / "one",
            gateway.base_url,
            "MBTI_ASSIGNMENT",
            {"characterIds": [first_id]},
        )
        note(
            BENCH,
            f"the same command for one character: {one_s:.2f} s ({one_cpu_s:.2f} CPU s), "
            f"i.e. ~{one_s - LATENCY_S:.2f} s of start-up and shutdown in every whole run",
        )
        for type_name, concurrency in FANOUT:
            ideal_s = count * LATENCY_S / concurrency
            scratch = root / f"{type_name}-{concurrency}"
            db = fresh_db(pristine, root / f"{type_name}-{concurrency}.db")
            wall_s, cpu_s = run_command(
                db, scratch, gateway.base_url, type_name, {"concurrency": concurrency}
            )
            bare_s = asyncio.run(aiohttp_wall_s(gateway.base_url, count, concurrency))
            note(
                BENCH,
                f"{type_name} C={concurrency}: ideal {ideal_s:.2f} s, whole run {wall_s:.2f} s "
                f"({cpu_s:.2f} CPU s), bare aiohttp {bare_s:.2f} s",
            )
            goal = concurrency == 50
            results.append(
                report(
                    Result(
                        BENCH,
                        f"run {type_name} C={concurrency}, defaults",
                        100 * ideal_s / wall_s,
                        "%",
                        "bare aiohttp, same request count",
                        100 * ideal_s / bare_s,
                        goal=f">= {GOAL_EFFICIENCY:.0%} of ideal" if goal else "",
                        passed=(ideal_s / wall_s >= GOAL_EFFICIENCY) if goal else None,
                    )
                )
            )
    return results


async def hidden_limit_run(root: Path, db: Path, base_url: str, *, adaptive: bool) -> float:
    """Wall time of one CHARACTER_SETTINGS task asking HIDDEN_ASK, in process, default settings
    (the reference swaps in a fixed lane of HIDDEN_ASK that never adapts)."""
    from tui_updater.config import ProviderSettings
    from tui_updater.providers.limiter import GatewayLimiter
    from tui_updater.runtime import Runtime

    settings = bench_settings(
        root, db, offline=False, provider=ProviderSettings(base_url=base_url, api_key="bench")
    )
    runtime = await Runtime.open(settings)
    try:
        if not adaptive:
            runtime.resources.provider.limiter = GatewayLimiter(HIDDEN_ASK)
        started_s = time.perf_counter()
        task = await runtime.service.submit(
            "CHARACTER_SETTINGS", {"concurrency": HIDDEN_ASK, "batchSize": 50}
        )
        finished = await runtime.engine.wait(task.task_id)
        elapsed_s = time.perf_counter() - started_s
    finally:
        await runtime.close()
    if not adaptive:
        return elapsed_s
    if finished.counts.done != finished.counts.total:
        raise RuntimeError(f"hidden-limit task ended {finished.status.value}: {finished.counts}")
    return elapsed_s


def hidden_limit(root: Path, pristine_path: Path, count: int) -> list[Result]:
    from tests.fakes.openai_server import FakeOpenAIProcess
    from tui_updater.characters.demo import generate_synthetic_db

    items = min(count, HIDDEN_ITEMS)
    # Every refused request logs a retry warning; the figures are the point here, not the lines.
    logging.getLogger("tui_updater").addHandler(logging.NullHandler())
    pristine = generate_synthetic_db(root / "hidden-pristine.db", items)
    ideal_s = items * HIDDEN_LATENCY_S / HIDDEN_LIMIT
    outcome: dict[bool, tuple[float, float]] = {}
    for adaptive in (True, False):
        db = fresh_db(pristine, root / f"hidden-{adaptive}.db")
        with FakeOpenAIProcess(latency_s=HIDDEN_LATENCY_S, max_in_flight=HIDDEN_LIMIT) as gw:
            wall_s = asyncio.run(
                hidden_limit_run(
                    root / f"hidden-run-{adaptive}", db, gw.base_url, adaptive=adaptive
                )
            )
        refused = gw.stats["refused"] / max(1, gw.stats["requests"] + gw.stats["refused"])
        outcome[adaptive] = (wall_s, refused)
        note(
            BENCH,
            f"hidden limit {HIDDEN_LIMIT}, ask {HIDDEN_ASK}, {'adaptive' if adaptive else 'fixed'} "
            f"lane: {wall_s:.2f} s (ideal at {HIDDEN_LIMIT}: {ideal_s:.2f} s), "
            f"{gw.stats['refused']} refused of {gw.stats['requests'] + gw.stats['refused']}",
        )
    (ours_s, ours_refused), (fixed_s, fixed_refused) = outcome[True], outcome[False]
    return [
        report(
            Result(
                BENCH,
                f"hidden limit {HIDDEN_LIMIT}, task asks {HIDDEN_ASK}: efficiency at {HIDDEN_LIMIT}",
                100 * ideal_s / ours_s,
                "%",
                "fixed lane of 64, same engine",
                100 * ideal_s / fixed_s,
                goal=">= 75% of ideal",
                passed=ideal_s / ours_s >= 0.75,
            )
        ),
        report(
            Result(
                BENCH,
                "hidden limit: requests refused",
                100 * ours_refused,
                "%",
                "fixed lane of 64, same engine",
                100 * fixed_refused,
                goal="< 10%",
                passed=ours_refused < 0.10,
                higher_is_better=False,
            )
        ),
    ]


async def mbti_tokens(db: Path, batch_size: int) -> tuple[float, int]:
    """Tokens per character and requests for MBTI over the first characters of ``db``."""

    from tests.fakes.openai_server import FakeOpenAIServer
    from tui_updater.config import ProviderSettings
    from tui_updater.core.models import TokenUsage
    from tui_updater.providers.openai_compat import OpenAICompatProvider

    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        rows = conn.execute(
            'SELECT id, name, description, personality, backstory, tags FROM "Character" LIMIT ?',
            (MBTI_TOKEN_ITEMS,),
        ).fetchall()
    characters = [dict(row) for row in rows]
    async with FakeOpenAIServer() as server:
        settings = ProviderSettings(
            base_url=server.base_url, api_key="bench", mbti_batch_size=batch_size
        )
        provider = OpenAICompatProvider(settings)
        try:
            answers = await asyncio.gather(*(provider.assign_mbti(c) for c in characters))
        finally:
            await provider.aclose()
    usage = sum((answer.usage for answer in answers), TokenUsage())
    return usage.total_tokens / len(characters), usage.requests


def tokens_per_character(pristine: Path) -> Result:
    from tui_updater.config import ProviderSettings

    default_batch = ProviderSettings().mbti_batch_size
    single, single_requests = asyncio.run(mbti_tokens(pristine, 1))
    batched, batched_requests = asyncio.run(mbti_tokens(pristine, default_batch))
    note(
        BENCH,
        f"MBTI over {MBTI_TOKEN_ITEMS} characters: one per request {single:.0f} tokens/character "
        f"({single_requests} requests); batches of {default_batch} {batched:.0f} "
        f"({batched_requests} requests)",
    )
    return report(
        Result(
            BENCH,
            "MBTI tokens per character, batched",
            batched,
            "tokens",
            "one character per request",
            single,
            goal="<= 50% of one-per-request",
            passed=batched <= 0.5 * single,
            higher_is_better=False,
        )
    )


def run(quick: bool = False) -> list[Result]:
    from tui_updater.characters.demo import generate_synthetic_db

    count = QUICK_ITEMS if quick else ITEMS
    with tempfile.TemporaryDirectory(prefix="bench-fanout-") as tmp:
        root = Path(tmp)
        pristine = generate_synthetic_db(root / "pristine.db", count)
        results = fan_out(root, pristine, count)
        results += hidden_limit(root, pristine, count)
        results.append(tokens_per_character(pristine))
    return results


def main(argv: Sequence[str] | None = None) -> None:
    args = arguments(__doc__ or BENCH, argv)
    run(quick=args.quick)


if __name__ == "__main__":
    main()
