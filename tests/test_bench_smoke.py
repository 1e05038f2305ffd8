"""The benchmark runner works end to end: one quick benchmark prints figure, reference and ratio."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_quick_queue_benchmark_prints_figure_reference_and_ratio() -> None:
    pytest.importorskip("huey")
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--only", "queue"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=110,
    )
    assert proc.returncode == 0, proc.stderr
    results = [line for line in proc.stdout.splitlines() if line.startswith("RESULT [queue]")]
    assert results, proc.stdout
    for line in results:
        assert re.search(r"figure=[\d,.]+ tasks/s", line), line
        assert re.search(r"reference=[\d,.]+ tasks/s \(SqliteHuey", line), line
        assert re.search(r"ratio=[\d.]+x", line), line
