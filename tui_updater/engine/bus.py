"""The event bus: one publisher, many bounded subscribers with per-task progress coalescing."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator

from tui_updater.core.events import Event, EventType
from tui_updater.core.service import SubscriberOverflow


class BusSubscription:
    """A subscriber's buffer. Progress for a task replaces its queued predecessor in place."""

    def __init__(self, bus: EventBus, max_pending: int):
        self._bus = bus
        self._max_pending = max_pending
        self._slots: deque[list[Event]] = deque()
        self._progress_slot: dict[str | None, list[Event]] = {}
        self._wake = asyncio.Event()
        self.overflowed = False
        self.closed = False
        self.delivered = 0
        self.coalesced = 0

    def _push(self, event: Event) -> None:
        if self.closed or self.overflowed:
            return
        if event.type is EventType.TASK_PROGRESS:
            slot = self._progress_slot.get(event.task_id)
            if slot is not None:
                slot[0] = event
                self.coalesced += 1
                return
        elif event.type is not EventType.LOG:
            # A state change of the task (retrying, started…): later progress must queue after
            # it, never jump ahead of it into an older slot.
            self._progress_slot.pop(event.task_id, None)
        if len(self._slots) >= self._max_pending:
            # Too far behind: drop the backlog and tell the consumer to resync from a snapshot.
            self.overflowed = True
            self._slots.clear()
            self._progress_slot.clear()
            self._wake.set()
            return
        slot = [event]
        self._slots.append(slot)
        if event.type is EventType.TASK_PROGRESS:
            self._progress_slot[event.task_id] = slot
        self._wake.set()

    def drain(self) -> list[Event]:
        """Take everything queued now (no waiting)."""
        if self.overflowed:
            raise SubscriberOverflow("event subscriber fell behind; resync")
        events = [slot[0] for slot in self._slots]
        self._slots.clear()
        self._progress_slot.clear()
        self._wake.clear()
        self.delivered += len(events)
        return events

    async def get_batch(self) -> list[Event]:
        while not self._slots and not self.overflowed:
            if self.closed:
                return []
            await self._wake.wait()
            self._wake.clear()
        return self.drain()

    async def batches(self) -> AsyncIterator[list[Event]]:
        while not self.closed:
            batch = await self.get_batch()
            if batch:
                yield batch

    @property
    def pending(self) -> int:
        return len(self._slots)

    def close(self) -> None:
        self.closed = True
        self._wake.set()
        self._bus._remove(self)


class EventBus:
    """Fan-out of engine events to every subscriber; publishing never blocks."""

    def __init__(self, *, default_max_pending: int = 10_000):
        self._subscribers: list[BusSubscription] = []
        self._default_max_pending = default_max_pending

    def subscribe(self, max_pending: int | None = None) -> BusSubscription:
        subscription = BusSubscription(self, max_pending or self._default_max_pending)
        self._subscribers.append(subscription)
        return subscription

    def _remove(self, subscription: BusSubscription) -> None:
        if subscription in self._subscribers:
            self._subscribers.remove(subscription)

    def publish(self, event: Event) -> None:
        for subscriber in tuple(self._subscribers):
            subscriber._push(event)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)
