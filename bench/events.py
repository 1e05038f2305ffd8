"""Event fan-out: 20 WebSocket clients, N engine events through the real server (uvicorn + /ws).

Two modes of our server: ``/ws``, one event object per frame (the default every client gets, as
the seed's JavaScript client expects), and ``/ws?batch=1``, everything ready in one frame (what
``--connect`` asks for). The server runs in a child process; its CPU time (all threads,
/proc/<pid>/stat) over the publish-and-deliver window is divided by the events the clients
received. The reference is a websockets ``broadcast()`` server (compression off, one event per
frame) sending the same events, paced the same way. Half the events are terminal
(task_completed); every client must receive all of them.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import ROOT, ROUNDS, Result, arguments, note, process_cpu_s, report, skipped

BENCH = "events"
CLIENTS = 20
EVENTS = 10_000
QUICK_EVENTS = 1_000
BURST = 20  # events published back to back, then the publisher sleeps
PAUSE_S = 0.002
GOAL_US_PER_EVENT = 5.0
END_TASK_ID = "bench_end"
PROFILE_ENV = "BENCH_EVENTS_PROFILE"  # a path: the server child writes its cProfile stats there


def bench_events(count: int) -> list[dict[str, Any]]:
    """Alternating log lines and task_completed events (~100-150 B of JSON each); the last ends the run."""
    events: list[dict[str, Any]] = []
    for index in range(count - 1):
        task_id = f"bench_{index:06d}"
        if index % 2:
            events.append(
                {
                    "type": "task_completed",
                    "taskId": task_id,
                    "status": "COMPLETED",
                    "progress": 100.0,
                    "message": "completed",
                }
            )
        else:
            events.append(
                {"type": "log", "taskId": task_id, "message": f"item {index} done", "level": "INFO"}
            )
    events.append(
        {
            "type": "task_completed",
            "taskId": END_TASK_ID,
            "status": "COMPLETED",
            "progress": 100.0,
            "message": "completed",
        }
    )
    return events


# --- the server processes ----------------------------------------------------------------------


async def _paced(events: list[Any], publish: Any) -> None:
    for start in range(0, len(events), BURST):
        for event in events[start : start + BURST]:
            publish(event)
        await asyncio.sleep(PAUSE_S)


async def _engine_server(work_dir: Path) -> None:
    from bench.common import bench_settings
    from tui_updater.characters.demo import generate_synthetic_db
    from tui_updater.core.events import Event, EventType
    from tui_updater.runtime import Runtime
    from tui_updater.server.app import create_app
    from tui_updater.server.embedded import start_server

    db_path = generate_synthetic_db(work_dir / "dev.db", 10)
    runtime = await Runtime.open(bench_settings(work_dir, db_path, offline=True))
    app = create_app(
        runtime.service, runtime.settings.server, migrations_dir=runtime.settings.migrations_dir
    )
    server = await start_server(app, "127.0.0.1", 0)
    print(f"READY {server.port}", flush=True)
    reader = asyncio.StreamReader()
    await asyncio.get_running_loop().connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), sys.stdin
    )
    while line := (await reader.readline()).decode().split():
        if line[0] == "GO":
            raw = bench_events(int(line[1]))
            events = [
                Event(
                    EventType(e["type"]),
                    task_id=e["taskId"],
                    status=e.get("status"),
                    progress=e.get("progress"),
                    message=e.get("message"),
                    level=e.get("level"),
                )
                for e in raw
            ]
            await _paced(events, runtime.engine.bus.publish)
            print("SENT", flush=True)
    server.server.should_exit = True
    await app.state.hub.aclose()
    await server.stop()
    await runtime.close()


async def _broadcast_server() -> None:
    from websockets.asyncio.server import broadcast, serve

    connections: set[Any] = set()

    async def handler(websocket: Any) -> None:
        connections.add(websocket)
        try:
            await websocket.wait_closed()
        finally:
            connections.discard(websocket)

    async with serve(handler, "127.0.0.1", 0, compression=None) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        print(f"READY {port}", flush=True)
        reader = asyncio.StreamReader()
        await asyncio.get_running_loop().connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), sys.stdin
        )
        while line := (await reader.readline()).decode().split():
            if line[0] == "GO":
                raw = bench_events(int(line[1]))

                def publish(event: dict[str, Any]) -> None:
                    broadcast(
                        connections, json.dumps(event, ensure_ascii=False, separators=(",", ":"))
                    )

                await _paced(raw, publish)
                print("SENT", flush=True)


# --- the clients (this process) ---------------------------------------------------------------


@dataclass
class Received:
    events: int = 0
    terminal: int = 0
    closed_early: str = ""


async def _client(url: str, ready: asyncio.Event, counts: Received) -> None:
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    async with connect(url, compression=None, max_size=None) as websocket:
        ready.set()
        try:
            async for message in websocket:
                data = json.loads(message)
                for event in data if isinstance(data, list) else [data]:
                    task_id = str(event.get("taskId") or "")
                    if not task_id.startswith("bench_"):
                        continue  # the snapshot, the engine's own log lines
                    counts.events += 1
                    if event.get("type") == "task_completed":
                        counts.terminal += 1
                    if task_id == END_TASK_ID:
                        return
        except ConnectionClosed as exc:
            counts.closed_early = f"closed {exc.rcvd.code if exc.rcvd else '?'}"
        counts.closed_early = counts.closed_early or "stream ended"


async def _drive(
    url: str, server: subprocess.Popen[str], count: int
) -> tuple[float, list[Received]]:
    """Connect the clients, tell the server to go, wait for every client; server CPU seconds used."""
    counts = [Received() for _ in range(CLIENTS)]
    readies = [asyncio.Event() for _ in range(CLIENTS)]
    clients = [asyncio.create_task(_client(url, readies[i], counts[i])) for i in range(CLIENTS)]
    await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 30)
    await asyncio.sleep(0.3)  # snapshots delivered, the server idle
    assert server.stdin is not None
    cpu_before_s = process_cpu_s(server.pid)
    server.stdin.write(f"GO {count}\n")
    server.stdin.flush()
    await asyncio.wait_for(asyncio.gather(*clients, return_exceptions=True), 120)
    cpu_s = process_cpu_s(server.pid) - cpu_before_s
    return cpu_s, counts


def _measure(mode: str, count: int, path: str = "/") -> tuple[float, list[Received]]:
    with tempfile.TemporaryDirectory(prefix="bench-events-") as tmp:
        server = subprocess.Popen(
            [sys.executable, "-m", "bench.events", "--child", mode, tmp],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        try:
            assert server.stdout is not None and server.stdin is not None
            line = server.stdout.readline().split()
            if line[:1] != ["READY"]:
                raise RuntimeError(f"the {mode} server did not start")
            return asyncio.run(_drive(f"ws://127.0.0.1:{line[1]}{path}", server, count))
        finally:
            if server.stdin is not None:
                server.stdin.close()
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


MODES = (
    ("/ws", "one event per frame (default)"),
    ("/ws?batch=1", "batched frames (--connect)"),
)


def run(quick: bool = False, rounds: int = ROUNDS) -> list[Result]:
    try:
        import tui_updater.server.app  # noqa: F401
    except ImportError as exc:
        skipped(BENCH, f"the server is not importable yet ({exc})")
        return []
    count = QUICK_EVENTS if quick else EVENTS
    expected_terminal = count // 2
    us: dict[str, list[float]] = {path: [] for path, _ in MODES}
    lost: dict[str, int] = {path: 0 for path, _ in MODES}
    ref_us: list[float] = []
    for _round in range(rounds):  # interleaved: load drift hits ours and the reference alike
        for path, label in MODES:
            cpu_s, clients = _measure("engine", count, path)
            delivered = sum(c.events for c in clients)
            lost[path] += sum(expected_terminal - c.terminal for c in clients)
            us[path].append(1e6 * cpu_s / max(1, delivered))
            early = [c.closed_early for c in clients if c.closed_early]
            if delivered != CLIENTS * count or early:
                note(
                    BENCH,
                    f"{label}: delivered {delivered} of {CLIENTS * count}; ended early: {early}",
                )
        ref_cpu_s, ref = _measure("broadcast", count)
        ref_us.append(1e6 * ref_cpu_s / max(1, sum(c.events for c in ref)))
    note(
        BENCH,
        f"{CLIENTS} clients, {count} events published in bursts of {BURST} every "
        f"{PAUSE_S * 1000:.0f} ms, {rounds} rounds",
    )
    results: list[Result] = []
    for path, label in MODES:
        results.append(
            report(
                Result.of_rounds(
                    BENCH,
                    f"server CPU per delivered event, {label}",
                    us[path],
                    "µs",
                    "websockets broadcast(), one event per frame, compression off",
                    ref_us,
                    goal=f"<= {GOAL_US_PER_EVENT:g} µs",
                    meets=lambda figure: figure <= GOAL_US_PER_EVENT,
                    higher_is_better=False,
                )
            )
        )
        results.append(
            report(
                Result(
                    BENCH,
                    f"terminal events lost, {label}, all rounds",
                    float(lost[path]),
                    "events",
                    "terminal events sent to all clients",
                    float(rounds * CLIENTS * expected_terminal),
                    goal="0 lost",
                    passed=lost[path] == 0,
                    higher_is_better=False,
                )
            )
        )
    return results


def main(argv: Sequence[str] | None = None) -> None:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["--child"]:
        serve = (
            _engine_server(Path(args_list[2])) if args_list[1] == "engine" else _broadcast_server()
        )
        profile_to = os.environ.get(PROFILE_ENV)
        if profile_to:  # where the server's CPU goes: cProfile stats of the child (main thread)
            import cProfile
            import time

            profiler = cProfile.Profile(time.process_time)  # CPU, not the wall a load inflates
            profiler.runctx("asyncio.run(serve)", globals(), {"serve": serve})
            profiler.dump_stats(profile_to)
        else:
            asyncio.run(serve)
        return
    args = arguments(__doc__ or BENCH, args_list)
    run(quick=args.quick, rounds=args.rounds)


if __name__ == "__main__":
    main()
