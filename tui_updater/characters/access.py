"""Who may write the character database at a time, within this process: content tasks' writes
share it; DATABASE_UPGRADE holds it alone. The upgrade waits for the writes under way to finish,
and writes asked for meanwhile wait until it is done, so its backup, its script and a restore
never interleave with the tool's own writes.
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
        self._exclusive = False
        self._exclusive_waiting = 0
        self._changed: asyncio.Future[None] | None = None

    @property
    def shared_holders(self) -> int:
        return self._shared

    @property
    def exclusive_held(self) -> bool:
        return self._exclusive

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
        while self._exclusive or self._exclusive_waiting:
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
            while self._exclusive or self._shared:
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
