"""The shared/exclusive lock that lets DATABASE_UPGRADE run alone on its database."""

from __future__ import annotations

import asyncio

from tui_updater.characters.access import SharedExclusiveLock


async def test_exclusive_waits_for_shared_and_holds_off_new_shared() -> None:
    lock = SharedExclusiveLock()
    order: list[str] = []
    release_first = asyncio.Event()

    async def shared(name: str, release: asyncio.Event | None = None) -> None:
        async with lock.shared():
            order.append(f"{name} in")
            if release is not None:
                await release.wait()
        order.append(f"{name} out")

    async def exclusive() -> None:
        async with lock.exclusive():
            order.append("upgrade in")
            await asyncio.sleep(0)
        order.append("upgrade out")

    first = asyncio.ensure_future(shared("first", release_first))
    await asyncio.sleep(0)
    upgrade = asyncio.ensure_future(exclusive())
    await asyncio.sleep(0)
    later = asyncio.ensure_future(shared("later"))
    await asyncio.sleep(0)
    assert order == ["first in"]  # neither the upgrade nor the later write has started
    release_first.set()
    await asyncio.gather(first, upgrade, later)
    assert order == ["first in", "first out", "upgrade in", "upgrade out", "later in", "later out"]


async def test_a_cancelled_exclusive_waiter_lets_shared_holders_go() -> None:
    lock = SharedExclusiveLock()
    release = asyncio.Event()

    async def hold_shared() -> None:
        async with lock.shared():
            await release.wait()

    holder = asyncio.ensure_future(hold_shared())
    await asyncio.sleep(0)

    async def take_exclusive() -> None:
        async with lock.exclusive():
            raise AssertionError("never acquired while a shared holder is in")

    waiter = asyncio.ensure_future(take_exclusive())
    await asyncio.sleep(0)
    entered = asyncio.Event()

    async def later() -> None:
        async with lock.shared():
            entered.set()

    blocked = asyncio.ensure_future(later())
    await asyncio.sleep(0)
    assert not entered.is_set()
    waiter.cancel()
    await asyncio.gather(waiter, return_exceptions=True)
    await blocked
    assert entered.is_set() and not lock.exclusive_held
    release.set()
    await holder


async def test_a_lease_holds_off_the_exclusive_and_its_writes_still_pass() -> None:
    lock = SharedExclusiveLock()
    lease = await lock.lease()
    order: list[str] = []

    async def exclusive() -> None:
        async with lock.exclusive():
            order.append("upgrade")

    upgrade = asyncio.ensure_future(exclusive())
    await asyncio.sleep(0)
    assert lock.draining and not lock.exclusive_held  # waiting for the lease
    newcomer = asyncio.ensure_future(lock.lease())
    async with lock.shared():  # the lease holder's settling write is not held off
        order.append("settling write")
    await asyncio.sleep(0)
    assert not newcomer.done() and order == ["settling write"]
    lease.release()
    lease.release()  # idempotent
    await upgrade
    later = await newcomer  # new leases start once the exclusive holder is done
    assert order == ["settling write", "upgrade"] and lock.leases == 1 and not lock.draining
    later.release()
    assert lock.leases == 0
