"""The one request limiter shared by every task: max requests in flight and requests per minute."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiolimiter import AsyncLimiter

_MAX_BURST = 8


class RequestLimiter:
    """Bounds concurrent gateway requests (semaphore) and their rate (leaky bucket).

    The bucket holds a small burst (at most one second's worth, at most 8 requests), so
    ``requests_per_minute`` is met without a large initial spike. ``requests_per_minute <= 0``
    disables the rate limit.
    """

    def __init__(self, max_in_flight: int, requests_per_minute: int = 0) -> None:
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        self.max_in_flight = max_in_flight
        self.requests_per_minute = requests_per_minute
        self._slots = asyncio.Semaphore(max_in_flight)
        self._rate: AsyncLimiter | None = None
        if requests_per_minute > 0:
            burst = max(1, min(_MAX_BURST, max_in_flight, requests_per_minute // 60))
            self._rate = AsyncLimiter(burst, burst * 60.0 / requests_per_minute)
        self.in_flight = 0
        self.peak_in_flight = 0

    def __repr__(self) -> str:
        return (
            f"RequestLimiter(max_in_flight={self.max_in_flight}, "
            f"requests_per_minute={self.requests_per_minute}, in_flight={self.in_flight})"
        )

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one request slot for the duration of the block (cancellation-safe)."""
        async with self._slots:
            if self._rate is not None:
                await self._rate.acquire()
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            try:
                yield
            finally:
                self.in_flight -= 1
