"""The shared request limiter: in-flight bound, rate setup, cancellation safety."""

from __future__ import annotations

import asyncio

import pytest

from tui_updater.providers.limiter import RequestLimiter


async def test_in_flight_never_exceeds_the_limit() -> None:
    limiter = RequestLimiter(max_in_flight=3)
    observed: list[int] = []

    async def request() -> None:
        async with limiter.slot():
            observed.append(limiter.in_flight)
            await asyncio.sleep(0)
            await asyncio.sleep(0)

    await asyncio.gather(*(request() for _ in range(40)))
    assert max(observed) == 3
    assert limiter.peak_in_flight == 3
    assert limiter.in_flight == 0


async def test_cancelled_waiters_release_nothing_they_did_not_hold() -> None:
    limiter = RequestLimiter(max_in_flight=1)
    release = asyncio.Event()

    async def hold() -> None:
        async with limiter.slot():
            await release.wait()

    holder = asyncio.create_task(hold())
    await asyncio.sleep(0)
    waiter = asyncio.create_task(hold())
    await asyncio.sleep(0)
    waiter.cancel()
    release.set()
    await holder
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert limiter.in_flight == 0
    async with limiter.slot():
        assert limiter.in_flight == 1


async def test_rate_limit_allows_only_a_small_burst() -> None:
    limiter = RequestLimiter(max_in_flight=50, requests_per_minute=60)
    done = 0

    async def request() -> None:
        nonlocal done
        async with limiter.slot():
            done += 1

    tasks = [asyncio.create_task(request()) for _ in range(5)]
    for _ in range(20):
        await asyncio.sleep(0)
    # 60/min is one per second: the bucket lets one through now, the rest wait their turn.
    assert done == 1
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def test_invalid_limit_is_refused() -> None:
    with pytest.raises(ValueError):
        RequestLimiter(max_in_flight=0)
