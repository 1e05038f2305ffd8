"""What held the event loop: every callback that ran longer than a threshold (CPU of the loop's
thread, so a busy machine does not inflate it), and every generation-2 collection.

Instrumentation for a benchmark run, not part of the figure: ``StallLog.install()`` wraps
asyncio's ``Handle._run`` and adds a ``gc.callbacks`` hook until ``uninstall()``.
"""

from __future__ import annotations

import asyncio
import asyncio.events
import gc
import time
from collections import Counter
from collections.abc import Callable
from typing import Any


def _what(handle: asyncio.Handle) -> str:
    """A task's name and coroutine, or a plain callback's qualified name."""
    callback = handle._callback  # type: ignore[attr-defined]
    owner = getattr(callback, "__self__", callback)
    if isinstance(owner, asyncio.Task):
        return f"{owner.get_name()}:{getattr(owner.get_coro(), '__qualname__', '?')}"
    return str(getattr(callback, "__qualname__", repr(callback)[:60]))


class StallLog:
    """Loop callbacks over ``threshold_s`` of CPU, counted by what ran; gen-2 pauses in ms."""

    def __init__(self, threshold_s: float = 0.02) -> None:
        self.threshold_s = threshold_s
        self.stalls: Counter[str] = Counter()
        self.longest_ms: dict[str, float] = {}
        self.gen2_ms: list[float] = []
        self._original: Callable[[asyncio.Handle], None] | None = None
        self._gc_started_s = 0.0

    def install(self) -> None:
        original = asyncio.events.Handle._run
        log = self

        def run(handle: asyncio.Handle) -> None:
            started_s = time.thread_time()
            original(handle)
            spent_s = time.thread_time() - started_s
            if spent_s > log.threshold_s:
                what = _what(handle)
                log.stalls[what] += 1
                log.longest_ms[what] = max(log.longest_ms.get(what, 0.0), 1000 * spent_s)

        self._original = original
        asyncio.events.Handle._run = run  # type: ignore[method-assign,assignment]
        gc.callbacks.append(self._on_gc)

    def uninstall(self) -> None:
        if self._original is not None:
            asyncio.events.Handle._run = self._original  # type: ignore[method-assign,assignment]
            self._original = None
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if info.get("generation") != 2:
            return
        if phase == "start":
            self._gc_started_s = time.thread_time()
        else:
            self.gen2_ms.append(1000 * (time.thread_time() - self._gc_started_s))

    def summary(self) -> str:
        parts = [
            f"{what} x{count} (max {self.longest_ms[what]:.0f} ms)"
            for what, count in self.stalls.most_common(5)
        ]
        gen2 = ", ".join(f"{ms:.0f}" for ms in self.gen2_ms) or "none"
        return (
            f"loop callbacks over {1000 * self.threshold_s:.0f} ms CPU: "
            f"{'; '.join(parts) or 'none'}; gen-2 collections (ms CPU): {gen2}"
        )
