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


def test_bulk_runs_with_the_tool_process_collector_and_restores_it() -> None:
    import gc

    from bench.bulk import tool_process_collector
    from tui_updater.process import YOUNG_COLLECTION_EVERY

    before = gc.get_threshold()
    with tool_process_collector():
        assert gc.get_threshold() == (YOUNG_COLLECTION_EVERY, *before[1:])
        gc.freeze()  # as engine_items_per_s does once the runtime is open
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
