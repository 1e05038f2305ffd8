"""The one gateway lane shared by every task: an in-flight limit that adapts to push-back.

Additive increase, multiplicative decrease, as TCP does: the limit starts at the configured
maximum, shrinks by ``DECREASE`` when the gateway pushes back (429, 503, saturation answers,
timeouts) and grows by one per window of successful answers. A ``Retry-After`` pauses the whole
lane, not one item. A requests-per-minute cap applies only when configured.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from aiolimiter import AsyncLimiter
from pydantic import field_serializer

from tui_updater.core.record import Record

DECREASE = 0.7  # the multiplicative decrease (TCP CUBIC's beta)
BACKING_OFF_S = 10.0  # a push-back this recent still shows the lane as backing off
MAX_PAUSE_S = 300.0  # a longer Retry-After is capped (as the engine's retry policy caps it)
_MAX_BURST = 8


class LaneState(Record):
    """What the header shows of the lane ("gateway 14/32 in flight · backing off")."""

    in_flight: int
    limit: int
    max_in_flight: int
    waiting: int  # requests queued for a slot
    backing_off: bool  # paused by Retry-After, or pushed back in the last few seconds
    paused_s: float  # seconds left of a Retry-After pause (0 when none)
    push_backs: int  # answers that made the lane shrink or pause, since start
    requests: int  # requests admitted since start

    @field_serializer("paused_s")
    def _tenths(self, paused_s: float) -> float:
        return round(paused_s, 1)


def _never(exc: BaseException) -> bool:
    return False


class GatewayLimiter:
    """Bounds concurrent gateway requests by an adaptive limit; FIFO among waiters."""

    def __init__(
        self,
        max_in_flight: int,
        requests_per_minute: int = 0,
        *,
        is_push_back: Callable[[BaseException], bool] = _never,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        self.max_in_flight = max_in_flight
        self.requests_per_minute = requests_per_minute
        self._is_push_back = is_push_back
        self._clock = clock
        self._limit = float(max_in_flight)
        self.in_flight = 0
        self.peak_in_flight = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._paused_until = 0.0
        self._last_push_back = -BACKING_OFF_S
        self._started = 0  # requests admitted so far (their sequence numbers)
        self._decrease_from = 0  # only requests started from here on can shrink the limit again
        self._push_backs = 0
        self._wake_handle: asyncio.TimerHandle | None = None
        self._rate: AsyncLimiter | None = None
        if requests_per_minute > 0:
            burst = max(1, min(_MAX_BURST, max_in_flight, requests_per_minute // 60))
            self._rate = AsyncLimiter(burst, burst * 60.0 / requests_per_minute)

    def __repr__(self) -> str:
        return (
            f"GatewayLimiter(limit={self.limit}/{self.max_in_flight}, in_flight={self.in_flight}, "
            f"waiting={len(self._waiters)})"
        )

    @property
    def limit(self) -> int:
        return max(1, int(self._limit))

    def state(self) -> LaneState:
        now = self._clock()
        paused_s = max(0.0, self._paused_until - now)
        return LaneState(
            in_flight=self.in_flight,
            limit=self.limit,
            max_in_flight=self.max_in_flight,
            waiting=sum(1 for w in self._waiters if not w.done()),
            backing_off=paused_s > 0 or now - self._last_push_back < BACKING_OFF_S,
            paused_s=paused_s,
            push_backs=self._push_backs,
            requests=self._started,
        )

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one request slot for the block; its outcome (the exception, if any) adapts the
        limit. Cancellation-safe: a cancelled waiter or holder gives its slot back."""
        await self._acquire()
        sequence = self._started
        self._started += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            if self._rate is not None:
                await self._rate.acquire()
            yield
        except asyncio.CancelledError:
            self._release()
            raise
        except BaseException as exc:
            if self._is_push_back(exc):
                self._pushed_back(sequence, getattr(exc, "retry_after_s", None))
            self._release()
            raise
        else:
            self._limit = min(float(self.max_in_flight), self._limit + 1.0 / self._limit)
            self._release()

    # --- internals ------------------------------------------------------------------------------

    def _admissible(self) -> bool:
        return self.in_flight < self.limit and self._clock() >= self._paused_until

    async def _acquire(self) -> None:
        if not self._waiters and self._admissible():
            self.in_flight += 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        self._wake()
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release()  # the slot was handed over as we were cancelled
            else:
                waiter.cancel()
            raise
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    def _release(self) -> None:
        self.in_flight -= 1
        self._wake()

    def _wake(self) -> None:
        """Hand free slots to the oldest waiters; while paused, wake up when the pause ends."""
        while self._waiters and self._waiters[0].done():
            self._waiters.popleft()
        while self._waiters and self._admissible():
            waiter = self._waiters.popleft()
            if waiter.done():
                continue
            self.in_flight += 1
            waiter.set_result(None)
        delay_s = self._paused_until - self._clock()
        if self._waiters and delay_s > 0 and self._wake_handle is None:

            def resume() -> None:
                self._wake_handle = None
                self._wake()

            self._wake_handle = asyncio.get_running_loop().call_later(delay_s, resume)

    def _pushed_back(self, sequence: int, retry_after_s: float | None) -> None:
        """Shrink once per window: answers to requests sent before the last decrease were
        caused by the old limit and say nothing new."""
        self._push_backs += 1
        self._last_push_back = self._clock()
        if sequence >= self._decrease_from:
            self._limit = max(1.0, self._limit * DECREASE)
            self._decrease_from = self._started
        if retry_after_s is not None and retry_after_s > 0:
            pause_s = min(retry_after_s, MAX_PAUSE_S)
            self._paused_until = max(self._paused_until, self._clock() + pause_s)
