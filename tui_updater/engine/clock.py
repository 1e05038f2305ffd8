"""Time for the engine: the real clock, and fake ones for tests of backoff and schedules."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from typing import Protocol, runtime_checkable


class Clock(Protocol):
    def monotonic(self) -> float: ...

    async def sleep(self, delay_s: float) -> None: ...


@runtime_checkable
class WallClock(Clock, Protocol):
    """A clock that also tells the time of day (schedules fire at wall-clock times)."""

    def wall_ms(self) -> int: ...


class RealClock:
    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, delay_s: float) -> None:
        await asyncio.sleep(delay_s)

    def wall_ms(self) -> int:
        return int(time.time() * 1000)


# Where the fake clocks' wall time starts: 2026-01-01T00:00:00Z.
FAKE_EPOCH_MS = 1_767_225_600_000


class FakeClock:
    """Sleeps return at once and advance virtual time; every requested delay is recorded."""

    def __init__(self) -> None:
        self.now_s = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now_s

    async def sleep(self, delay_s: float) -> None:
        self.sleeps.append(delay_s)
        self.now_s += delay_s
        await asyncio.sleep(0)

    def wall_ms(self) -> int:
        return FAKE_EPOCH_MS + int(self.now_s * 1000)


class ManualClock:
    """Time moves only when a test calls ``advance``; sleeps wait until their deadline passes."""

    def __init__(self, start_ms: int = FAKE_EPOCH_MS) -> None:
        self.now_s = 0.0
        self._start_ms = start_ms
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def monotonic(self) -> float:
        return self.now_s

    def wall_ms(self) -> int:
        return self._start_ms + int(self.now_s * 1000)

    async def sleep(self, delay_s: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now_s + max(0.0, delay_s), next(self._order), future))
        await future

    def advance(self, seconds: float) -> None:
        """Move time on and wake every sleeper whose deadline it reached."""
        self.now_s += seconds
        while self._sleepers and self._sleepers[0][0] <= self.now_s:
            _, _, future = heapq.heappop(self._sleepers)
            if not future.done():
                future.set_result(None)
