"""``python -m bench [--quick] [--only queue,bulk,...]``: every benchmark, one process each, in turn.

Each runs in its own interpreter so no state (imports, event loops, caches) leaks between them;
their RESULT lines are echoed as they come, then gathered in a summary.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Sequence

from bench.common import ROOT, machine

BENCHMARKS = (
    "queue",
    "bulk",
    "scale",
    "fanout",
    "events",
    "dashboard",
    "startup",
    "mbti",
    "browser",
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small N everywhere: a sanity check")
    parser.add_argument(
        "--only", default="", help=f"comma-separated subset of: {', '.join(BENCHMARKS)}"
    )
    parser.add_argument(
        "--rounds", type=int, default=0, help="rounds per figure (default: each benchmark's own, 5)"
    )
    args = parser.parse_args(argv)
    chosen = [name.strip() for name in args.only.split(",") if name.strip()] or list(BENCHMARKS)
    unknown = [name for name in chosen if name not in BENCHMARKS]
    if unknown:
        parser.error(
            f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}"
        )
    info = machine()
    print(
        f"machine: {info['nproc']} CPU(s), {info['cpu']}; Python {info['python']}; SQLite {info['sqlite']}; "
        f"load average {info['load']}; {time.strftime('%Y-%m-%d %H:%M:%S %Z')}{'; QUICK (not a measurement)' if args.quick else ''}",
        flush=True,
    )
    summary: list[str] = []
    failed: list[str] = []
    started_s = time.perf_counter()
    for name in chosen:
        print(f"== {name}", flush=True)
        bench_started_s = time.perf_counter()
        command = [sys.executable, "-m", f"bench.{name}", *(["--quick"] if args.quick else [])]
        if args.rounds:
            command += ["--rounds", str(args.rounds)]
        proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        for line in proc.stdout:
            print(line, end="", flush=True)
            if line.startswith(("RESULT", "SKIPPED")):
                summary.append(line.rstrip())
        if proc.wait() != 0:
            failed.append(name)
            summary.append(f"FAILED [{name}]: exit code {proc.returncode}")
        print(f"   ({name}: {time.perf_counter() - bench_started_s:.1f} s)", flush=True)
    print(f"\n== summary ({time.perf_counter() - started_s:.0f} s)")
    for line in summary:
        print(line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
