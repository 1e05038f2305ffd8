"""The gateway lane: in-flight bound, AIMD on push-back, a lane-wide Retry-After pause, state."""

from __future__ import annotations

import asyncio

import pytest

from tui_updater.errors import ProviderRateLimited, ProviderResponseError, ProviderTimeout
from tui_updater.providers.http import is_push_back
from tui_updater.providers.limiter import DECREASE, MAX_PAUSE_S, GatewayLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now_s = 1000.0

    def __call__(self) -> float:
        return self.now_s


def lane(max_in_flight: int, clock: FakeClock | None = None) -> GatewayLimiter:
    return GatewayLimiter(max_in_flight, is_push_back=is_push_back, clock=clock or FakeClock())


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def fail_with(limiter: GatewayLimiter, exc: Exception) -> None:
    with pytest.raises(type(exc)):
        async with limiter.slot():
            raise exc


async def test_in_flight_never_exceeds_the_limit() -> None:
    limiter = lane(3)
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


async def test_starts_at_the_maximum_with_no_rate_cap() -> None:
    limiter = lane(64)
    release = asyncio.Event()

    async def hold() -> None:
        async with limiter.slot():
            await release.wait()

    holders = [asyncio.create_task(hold()) for _ in range(70)]
    await settle()
    state = limiter.state()
    assert (state.in_flight, state.limit, state.waiting) == (64, 64, 6)
    assert not state.backing_off
    release.set()
    await asyncio.gather(*holders)


async def test_push_back_shrinks_once_per_window_and_success_grows_it_back() -> None:
    limiter = lane(20)
    release = asyncio.Event()
    refused = 0

    async def refused_request() -> None:
        nonlocal refused
        async with limiter.slot():
            await release.wait()
            refused += 1
            raise ProviderRateLimited("429")

    # Ten requests of one window all refused: the limit shrinks once, not ten times.
    tasks = [asyncio.create_task(refused_request()) for _ in range(10)]
    await settle()
    release.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(r, ProviderRateLimited) for r in results)
    assert limiter.limit == int(20 * DECREASE) == 14
    assert limiter.state().backing_off and limiter.state().push_backs == 10

    await fail_with(limiter, ProviderTimeout("slow"))  # a new window: shrinks again
    assert limiter.limit == int(20 * DECREASE * DECREASE) == 9
    await fail_with(limiter, ProviderResponseError("bad model", status_code=400))
    assert limiter.limit == 9  # not push-back

    for _ in range(200):
        async with limiter.slot():
            pass
    assert limiter.limit == 20  # additive increase, capped at the maximum


async def test_retry_after_pauses_the_whole_lane() -> None:
    clock = FakeClock()
    limiter = lane(8, clock)
    await fail_with(limiter, ProviderRateLimited("429", retry_after_s=0.05))
    state = limiter.state()
    assert state.paused_s == pytest.approx(0.05) and state.backing_off
    entered = asyncio.Event()

    async def next_request() -> None:
        async with limiter.slot():
            entered.set()

    waiter = asyncio.create_task(next_request())
    await settle()
    assert not entered.is_set() and limiter.state().waiting == 1  # every item waits, not one
    clock.now_s += 0.05
    await asyncio.wait_for(waiter, timeout=5)  # woken by the lane's own timer
    assert entered.is_set() and limiter.state().paused_s == 0
    await fail_with(limiter, ProviderRateLimited("429", retry_after_s=86400))
    assert limiter.state().paused_s == MAX_PAUSE_S  # a day-long Retry-After is capped


async def test_cancelled_waiters_release_nothing_they_did_not_hold() -> None:
    limiter = lane(1)
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
    assert limiter.limit == 1  # a cancellation is no push-back
    async with limiter.slot():
        assert limiter.in_flight == 1


async def test_configured_rate_limit_allows_only_a_small_burst() -> None:
    limiter = GatewayLimiter(50, requests_per_minute=60)
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


def test_state_json_and_invalid_limit() -> None:
    assert lane(32).state().to_json() == {
        "inFlight": 0,
        "limit": 32,
        "maxInFlight": 32,
        "waiting": 0,
        "backingOff": False,
        "pausedS": 0.0,
        "pushBacks": 0,
        "requests": 0,
    }
    with pytest.raises(ValueError):
        GatewayLimiter(0)
