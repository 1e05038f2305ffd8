"""What every benchmark shares: the result line format, settings for a scratch runtime, CPU clocks.

Each benchmark prints ``RESULT`` lines: its figure, the reference measured in the same run, the
ratio, and the goal from PRODUCT.md section 9 with PASS or MISS. A figure measured in rounds is the
median of its samples, printed with their min and max; the verdict is judged on the median.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `python bench/queue.py` as well as `python -m bench.queue`
    sys.path.insert(0, str(ROOT))

_CLOCK_TICKS_PER_S = os.sysconf("SC_CLK_TCK")

ROUNDS = 5
"""Rounds per figure for a measurement (``--rounds`` overrides; ``--quick`` runs one)."""


@dataclass(frozen=True)
class Result:
    """One measured figure beside its same-run reference."""

    bench: str
    label: str
    figure: float
    unit: str
    reference_label: str
    reference: float
    reference_unit: str = ""
    goal: str = ""
    passed: bool | None = None  # None: informational, no goal attached
    higher_is_better: bool = True
    samples: tuple[float, ...] = ()  # one per round; ``figure`` is their median
    reference_samples: tuple[float, ...] = ()

    @classmethod
    def of_rounds(
        cls,
        bench: str,
        label: str,
        samples: Sequence[float],
        unit: str,
        reference_label: str,
        reference_samples: Sequence[float],
        *,
        reference_unit: str = "",
        goal: str = "",
        meets: Callable[[float], bool] | None = None,
        higher_is_better: bool = True,
    ) -> Result:
        """A figure and its reference as the medians of their rounds; ``meets`` judges the median."""
        figure = median(samples)
        return cls(
            bench=bench,
            label=label,
            figure=figure,
            unit=unit,
            reference_label=reference_label,
            reference=median(reference_samples),
            reference_unit=reference_unit,
            goal=goal,
            passed=None if meets is None else meets(figure),
            higher_is_better=higher_is_better,
            samples=tuple(samples),
            reference_samples=tuple(reference_samples),
        )

    @classmethod
    def under_ceiling(
        cls,
        bench: str,
        label: str,
        samples: Sequence[float],
        unit: str,
        ceiling: float,
        reference_label: str = "ceiling",
    ) -> Result:
        """A figure whose goal is a ceiling (memory, disk): the ceiling is its reference."""
        return cls.of_rounds(
            bench,
            label,
            samples,
            unit,
            reference_label,
            [ceiling],
            goal=f"<= {ceiling:g} {unit}",
            meets=lambda figure: figure <= ceiling,
            higher_is_better=False,
        )

    @property
    def ratio(self) -> float:
        if self.reference == 0:
            return float("inf")
        return self.figure / self.reference

    def line(self) -> str:
        verdict = "" if self.passed is None else ("PASS" if self.passed else "MISS")
        goal = (
            f"; goal {self.goal}: {verdict}" if self.goal else (f"; {verdict}" if verdict else "")
        )
        return (
            f"RESULT [{self.bench}] {self.label}: figure={_fmt(self.figure)} {self.unit}"
            f"{_spread(self.samples)}; "
            f"reference={_fmt(self.reference)} {self.reference_unit or self.unit}"
            f"{_spread(self.reference_samples)} ({self.reference_label}); "
            f"ratio={self.ratio:.2f}x{goal}"
        )


def _spread(samples: Sequence[float]) -> str:
    """`` [median of 5: min 1.2, max 1.9]`` for a figure measured in rounds; nothing for one value."""
    if len(samples) < 2:
        return ""
    return f" [median of {len(samples)}: min {_fmt(min(samples))}, max {_fmt(max(samples))}]"


def _fmt(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def report(result: Result) -> Result:
    print(result.line(), flush=True)
    return result


def note(bench: str, message: str) -> None:
    """An informational line (a detail, or an explanation of a miss)."""
    print(f"  [{bench}] {message}", flush=True)


def skipped(bench: str, reason: str) -> None:
    print(f"SKIPPED [{bench}]: {reason}", flush=True)


def arguments(description: str, argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The flags every benchmark accepts."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--quick", action="store_true", help="small N: a sanity check, not a measurement"
    )
    parser.add_argument(
        "--rounds", type=int, default=ROUNDS, help=f"rounds per figure (default {ROUNDS})"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds = 1
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    return args


def process_cpu_s(pid: int | None = None) -> float:
    """User + system CPU seconds of a process (all its threads), from /proc/<pid>/stat."""
    if pid is None:
        times = os.times()
        return times.user + times.system
    with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
        stat = fh.read()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS_PER_S  # utime, stime


def rss_mb(pid: int | None = None) -> float:
    """Resident set size in MB (VmRSS) of a process, this one by default."""
    with open(f"/proc/{pid or 'self'}/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def percentile(values: Sequence[float], fraction: float) -> float:
    """The value below which ``fraction`` of ``values`` fall (nearest rank)."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[index]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else 0.0


class Stopwatch:
    """Wall time of a block: ``with Stopwatch() as sw: ...; sw.elapsed_s``."""

    def __enter__(self) -> Stopwatch:
        self.started_s = time.perf_counter()
        self.elapsed_s = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self.elapsed_s = time.perf_counter() - self.started_s


def bench_settings(root: Path, db_path: Path, **overrides: Any) -> Any:
    """Settings for a scratch runtime under ``root`` with production engine defaults."""
    from tui_updater.config import EngineSettings, Settings

    overrides.setdefault("engine", EngineSettings())
    return Settings.for_tests(root, db_path=db_path, **overrides)


def machine() -> dict[str, str]:
    """What docs/BENCHMARKS.md records about the machine."""
    import platform
    import sqlite3

    model = "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    one, five, fifteen = os.getloadavg()
    return {
        "load": f"{one:.2f} {five:.2f} {fifteen:.2f}",
        "nproc": str(os.cpu_count()),
        "cpu": model,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
    }
