"""Who may write the character database at a time, within this process: content tasks' writes
share it; DATABASE_UPGRADE holds it alone. The upgrade waits for the writes under way to finish,
and writes asked for meanwhile wait until it is done, so its backup, its script and a restore
never interleave with the tool's own writes.

A *lease* spans more than one write: an item that marks a row with the tool's own transient
status (``avatarStatus=GENERATING``) holds one until the write that settles the mark. The upgrade
waits for leases too, so its backup never holds a mark that nobody would settle after a restore;
writes by lease holders still pass while it waits (else the two would wait for each other), and
no new lease starts until it is done.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class SharedExclusiveLock:
    """An asyncio shared/exclusive lock that prefers the exclusive holder: once it waits, no new
    shared holder starts. Holders must not nest (a shared holder asking again could deadlock)."""

    def __init__(self) -> None:
        self._shared = 0
        self._leases = 0
        self._exclusive = False
        self._exclusive_waiting = 0
        self._changed: asyncio.Future[None] | None = None

    @property
    def shared_holders(self) -> int:
        return self._shared

    @property
    def exclusive_held(self) -> bool:
        return self._exclusive

    @property
    def leases(self) -> int:
        return self._leases

    @property
    def draining(self) -> bool:
        """An exclusive holder waits or holds: work in flight finishes, new work waits."""
        return self._exclusive or self._exclusive_waiting > 0

    async def released(self) -> None:
        """Returns once no exclusive holder waits or holds."""
        while self.draining:
            await self._wait_for_change()

    async def lease(self) -> Lease:
        """A hold kept across writes until ``release()``; starts only while no exclusive waits."""
        while self.draining:
            await self._wait_for_change()
        self._leases += 1
        return Lease(self)

    def _end_lease(self) -> None:
        self._leases -= 1
        self._notify()

    def _notify(self) -> None:
        changed, self._changed = self._changed, None
        if changed is not None and not changed.done():
            changed.set_result(None)

    async def _wait_for_change(self) -> None:
        if self._changed is None:
            self._changed = asyncio.get_running_loop().create_future()
        await asyncio.shield(self._changed)  # one waiter cancelled leaves the others waiting

    @contextlib.asynccontextmanager
    async def shared(self) -> AsyncIterator[None]:
        # While leases are out the exclusive holder cannot start anyway: their writes pass.
        while self._exclusive or (self._exclusive_waiting and not self._leases):
            await self._wait_for_change()
        self._shared += 1
        try:
            yield
        finally:
            self._shared -= 1
            self._notify()

    @contextlib.asynccontextmanager
    async def exclusive(self) -> AsyncIterator[None]:
        self._exclusive_waiting += 1
        try:
            while self._exclusive or self._shared or self._leases:
                await self._wait_for_change()
            self._exclusive = True
        finally:
            self._exclusive_waiting -= 1
            self._notify()  # given up (cancelled): shared holders waiting on it may start
        try:
            yield
        finally:
            self._exclusive = False
            self._notify()


class Lease:
    """One lease on a SharedExclusiveLock; ``release()`` is idempotent."""

    def __init__(self, lock: SharedExclusiveLock) -> None:
        self._lock: SharedExclusiveLock | None = lock

    @property
    def held(self) -> bool:
        return self._lock is not None

    def release(self) -> None:
        lock, self._lock = self._lock, None
        if lock is not None:
            lock._end_lease()
