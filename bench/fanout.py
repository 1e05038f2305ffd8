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
neither the GIL nor the loop with what is measured. Every figure is the median of ``--rounds``
rounds (interleaved, so drift in machine load hits every row alike). A one-character run, with
its phases timed from inside the child (start-up to ``Runtime.open``, open, work, close),
shows what every whole run pays before and after its work. The package is byte-compiled first,
as an installed one is: with PYTHONDONTWRITEBYTECODE set, every child would compile it again.
"""

from __future__ import annotations

import asyncio
import compileall
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

from bench.common import ROOT, Result, arguments, bench_settings, median, note, report

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


# The CLI with its phases marked from inside: it runs ``tui_updater.__main__.main`` as the
# console script does; the marks wrap Runtime.open and Runtime.close.
_PHASED = """
import atexit, json, sys, time
from tui_updater.runtime import Runtime
marks = {}
def wrap(name):
    inner = getattr(Runtime, name)
    async def timed(*args, **kwargs):
        marks.setdefault(name + "_start", time.monotonic())
        try:
            return await (inner(*args[1:], **kwargs) if name == "open" else inner(*args, **kwargs))
        finally:
            marks[name + "_end"] = time.monotonic()
    setattr(Runtime, name, classmethod(timed) if name == "open" else timed)
wrap("open"); wrap("close")
atexit.register(lambda: print("PHASES " + json.dumps(marks), file=sys.stderr, flush=True))
from tui_updater.__main__ import main
sys.exit(main())
"""


def run_command(
    db: Path,
    root: Path,
    base_url: str,
    type_name: str,
    data: dict[str, Any],
    *,
    phased: bool = False,
) -> tuple[float, float, dict[str, float]]:
    """Wall time and CPU seconds of ``tavern-updater-tui run TYPE --data '{"concurrency": C}'``;
    with ``phased``, its phases in ms (start-up, open, work, close, exit)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWAPI", "OPENAI"))}
    env.update(NEWAPI_BASE_URL=base_url, NEWAPI_KEY="sk-bench", XDG_CONFIG_HOME=str(root / "cfg"))
    dirs = [f"--{name}-dir={root / name}" for name in ("data", "state", "log", "backup")]
    entry = ["-c", _PHASED] if phased else ["-m", "tui_updater"]
    command = [sys.executable, *entry, "run", type_name, "--db", str(db), *dirs]
    command += ["--data", json.dumps(data), "--json"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started_s = time.perf_counter()
    spawned = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
    elapsed_s = time.perf_counter() - started_s
    ended = time.monotonic()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    if done.returncode != 0:
        raise RuntimeError(f"run {type_name} failed: {done.stderr[-800:]}")
    task = json.loads(done.stdout)
    if task["items"]["done"] != task["items"]["total"]:
        raise RuntimeError(f"run {type_name} ended with {task['items']}")
    phases: dict[str, float] = {}
    for line in done.stderr.splitlines():
        if line.startswith("PHASES "):
            marks = json.loads(line.removeprefix("PHASES "))
            points = [spawned, marks["open_start"], marks["open_end"], marks["close_start"]]
            points += [marks["close_end"], ended]
            names = ("start-up", "open", "work", "close", "exit")
            phases = {
                n: 1000 * (b - a) for n, a, b in zip(names, points[:-1], points[1:], strict=True)
            }
    return elapsed_s, cpu_s, phases


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


def fan_out(root: Path, pristine: Path, count: int, rounds: int) -> list[Result]:
    from tests.fakes.openai_server import FakeOpenAIProcess

    ours: dict[tuple[str, int], list[float]] = {key: [] for key in FANOUT}
    bare: dict[tuple[str, int], list[float]] = {key: [] for key in FANOUT}
    cpu: dict[tuple[str, int], list[float]] = {key: [] for key in FANOUT}
    one_wall: list[float] = []
    one_cpu: list[float] = []
    phases: list[dict[str, float]] = []
    with sqlite3.connect(pristine) as conn:
        first_id = conn.execute('SELECT id FROM "Character" LIMIT 1').fetchone()[0]
    with FakeOpenAIProcess(latency_s=LATENCY_S, processes=2) as gateway:
        load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
        note(
            BENCH,
            f"{count} characters, fake gateway {LATENCY_S * 1000:.0f} ms, 2 processes, "
            f"{rounds} round(s); load average {load} (on {os.cpu_count()} cores)",
        )
        for index in range(rounds):
            scratch = root / f"round-{index}"
            wall_s, cpu_s, phase = run_command(
                fresh_db(pristine, root / f"one-{index}.db"),
                scratch / "one",
                gateway.base_url,
                "MBTI_ASSIGNMENT",
                {"characterIds": [first_id]},
                phased=True,
            )
            one_wall.append(wall_s)
            one_cpu.append(cpu_s)
            phases.append(phase)
            for type_name, concurrency in FANOUT:
                key = (type_name, concurrency)
                db = fresh_db(pristine, root / f"{type_name}-{concurrency}-{index}.db")
                wall_s, cpu_s, _ = run_command(
                    db,
                    scratch / f"{type_name}-{concurrency}",
                    gateway.base_url,
                    type_name,
                    {"concurrency": concurrency},
                )
                ours[key].append(wall_s)
                cpu[key].append(cpu_s)
                bare[key].append(asyncio.run(aiohttp_wall_s(gateway.base_url, count, concurrency)))
    breakdown = ", ".join(
        f"{name} {median([p[name] for p in phases]):.0f} ms" for name in phases[0]
    )
    note(
        BENCH,
        f"the same command for one character: {median(one_wall):.2f} s wall, "
        f"{median(one_cpu):.2f} CPU s (medians); phases: {breakdown} "
        f"(work includes the one {LATENCY_S * 1000:.0f} ms answer)",
    )
    results = []
    for type_name, concurrency in FANOUT:
        key = (type_name, concurrency)
        ideal_s = count * LATENCY_S / concurrency
        note(
            BENCH,
            f"{type_name} C={concurrency}: ideal {ideal_s:.2f} s, whole run "
            f"{median(ours[key]):.2f} s ({median(cpu[key]):.2f} CPU s), bare aiohttp "
            f"{median(bare[key]):.2f} s (medians)",
        )
        goal = concurrency == 50
        results.append(
            report(
                Result.of_rounds(
                    BENCH,
                    f"run {type_name} C={concurrency}, defaults",
                    [100 * ideal_s / wall_s for wall_s in ours[key]],
                    "%",
                    "bare aiohttp, same request count",
                    [100 * ideal_s / wall_s for wall_s in bare[key]],
                    goal=f">= {GOAL_EFFICIENCY:.0%} of ideal" if goal else "",
                    meets=(lambda figure: figure >= 100 * GOAL_EFFICIENCY) if goal else None,
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


def hidden_limit(root: Path, count: int, rounds: int) -> list[Result]:
    from tests.fakes.openai_server import FakeOpenAIProcess
    from tui_updater.characters.demo import generate_synthetic_db

    items = min(count, HIDDEN_ITEMS)
    # Every refused request logs a retry warning; the figures are the point here, not the lines.
    logging.getLogger("tui_updater").addHandler(logging.NullHandler())
    pristine = generate_synthetic_db(root / "hidden-pristine.db", items)
    ideal_s = items * HIDDEN_LATENCY_S / HIDDEN_LIMIT
    efficiency: dict[bool, list[float]] = {True: [], False: []}
    refused: dict[bool, list[float]] = {True: [], False: []}
    for index in range(rounds):
        for adaptive in (True, False):
            db = fresh_db(pristine, root / f"hidden-{adaptive}-{index}.db")
            with FakeOpenAIProcess(latency_s=HIDDEN_LATENCY_S, max_in_flight=HIDDEN_LIMIT) as gw:
                wall_s = asyncio.run(
                    hidden_limit_run(
                        root / f"hidden-run-{adaptive}-{index}", db, gw.base_url, adaptive=adaptive
                    )
                )
            sent = gw.stats["requests"] + gw.stats["refused"]
            efficiency[adaptive].append(100 * ideal_s / wall_s)
            refused[adaptive].append(100 * gw.stats["refused"] / max(1, sent))
            note(
                BENCH,
                f"hidden limit {HIDDEN_LIMIT}, ask {HIDDEN_ASK}, "
                f"{'adaptive' if adaptive else 'fixed'} lane, round {index + 1}: {wall_s:.2f} s "
                f"(ideal at {HIDDEN_LIMIT}: {ideal_s:.2f} s), {gw.stats['refused']} refused of {sent}",
            )
    return [
        report(
            Result.of_rounds(
                BENCH,
                f"hidden limit {HIDDEN_LIMIT}, task asks {HIDDEN_ASK}: efficiency at {HIDDEN_LIMIT}",
                efficiency[True],
                "%",
                "fixed lane of 64, same engine",
                efficiency[False],
                goal=">= 75% of ideal",
                meets=lambda figure: figure >= 75,
            )
        ),
        report(
            Result.of_rounds(
                BENCH,
                "hidden limit: requests refused",
                refused[True],
                "%",
                "fixed lane of 64, same engine",
                refused[False],
                goal="< 10%",
                meets=lambda figure: figure < 10,
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


def run(quick: bool = False, rounds: int = 1) -> list[Result]:
    from tui_updater.characters.demo import generate_synthetic_db

    count = QUICK_ITEMS if quick else ITEMS
    compileall.compile_dir(ROOT / "tui_updater", quiet=1)
    with tempfile.TemporaryDirectory(prefix="bench-fanout-") as tmp:
        root = Path(tmp)
        pristine = generate_synthetic_db(root / "pristine.db", count)
        results = fan_out(root, pristine, count, rounds)
        results += hidden_limit(root, count, rounds)
        results.append(tokens_per_character(pristine))
    return results


def main(argv: Sequence[str] | None = None) -> None:
    args = arguments(__doc__ or BENCH, argv)
    run(quick=args.quick, rounds=args.rounds)


if __name__ == "__main__":
    main()
