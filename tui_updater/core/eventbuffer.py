"""One consumer's pending engine events: bounded, in order, a task's progress coalesced in place.

The one implementation behind the engine bus's subscribers, each WebSocket client of the server
and the ``--connect`` event stream, so an ordering fix lands in all three at once.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Sequence
from typing import Generic, TypeVar

from tui_updater.core.events import Event, EventType
from tui_updater.core.service import SubscriberOverflow

P = TypeVar("P")


class _Slot(Generic[P]):
    """A queued payload; a coalesced progress event overwrites it in place."""

    __slots__ = ("payload", "size")

    def __init__(self, payload: P, size: int):
        self.payload = payload
        self.size = size


class SharedBatch(Generic[P]):
    """Events with their payloads, built once and queued into many buffers (``extend``).

    The slots of events other than progress are shared by every buffer: only a progress slot is
    ever overwritten (coalescing), and each buffer makes its own for those.
    """

    __slots__ = ("events", "has_progress", "size", "slots")

    def __init__(self, events: Sequence[Event], payloads: Sequence[P], sizes: Sequence[int]):
        self.events = events
        self.slots = [_Slot(payload, size) for payload, size in zip(payloads, sizes, strict=True)]
        self.size = sum(sizes)
        self.has_progress = any(event.type is EventType.TASK_PROGRESS for event in events)


class EventBuffer(Generic[P]):
    """Payloads (events, or their JSON text) queued in publish order for one consumer.

    A task's progress replaces its queued predecessor, unless a state change of that task (started,
    retrying, a terminal event…) was queued after it: then it queues behind that change, so a
    consumer applying events in order always ends on the newest state. Log lines do not break
    coalescing; terminal events are never coalesced. Past ``max_events`` payloads or ``max_size``
    total size the backlog is dropped and the consumer is told to resync (``SubscriberOverflow``).
    """

    def __init__(self, *, max_events: int, max_size: int | None = None):
        self.max_events = max_events
        self.max_size = max_size
        self._slots: deque[_Slot[P]] = deque()
        self._progress: dict[str | None, _Slot[P]] = {}
        self._size = 0
        self._wake = asyncio.Event()
        self.overflowed = False
        self.closed = False
        self.delivered = 0
        self.coalesced = 0

    @property
    def pending(self) -> int:
        return len(self._slots)

    @property
    def pending_size(self) -> int:
        return self._size

    def push(self, event: Event, payload: P, size: int = 0) -> None:
        """Queue ``payload`` (standing for ``event``; ``size`` counts toward ``max_size``)."""
        if self.closed or self.overflowed:
            return
        kind = event.type
        progress = self._progress
        if kind is EventType.TASK_PROGRESS:
            slot = progress.get(event.task_id)
            if slot is not None:
                self._size += size - slot.size
                slot.payload = payload
                slot.size = size
                self.coalesced += 1
                return
        elif kind is not EventType.LOG and progress:
            # A state change of the task: later progress must queue after it, never jump ahead
            # of it into an older slot (a client would end on the stale state).
            progress.pop(event.task_id, None)
        slots = self._slots
        if len(slots) >= self.max_events or (
            self.max_size is not None and self._size + size > self.max_size
        ):
            self.overflow()
            return
        slot = _Slot(payload, size)
        slots.append(slot)
        self._size += size
        if kind is EventType.TASK_PROGRESS:
            progress[event.task_id] = slot
        if len(slots) == 1:
            # The first since the consumer last took everything: wake it. With more queued it
            # was woken already (fan-out calls this once per event and client: keep it cheap).
            self._wake.set()

    def extend(self, batch: SharedBatch[P]) -> None:
        """Queue every event of ``batch`` in order: the same outcome as ``push`` for each.

        Without progress on either side and within the bounds, that is one ``deque.extend`` of
        the shared slots (a fan-out to many clients calls this once per batch and client).
        """
        if self.closed or self.overflowed:
            return
        slots = self._slots
        if (
            batch.has_progress
            or self._progress
            or len(slots) + len(batch.slots) > self.max_events
            or (self.max_size is not None and self._size + batch.size > self.max_size)
        ):
            for event, slot in zip(batch.events, batch.slots, strict=True):
                self.push(event, slot.payload, slot.size)
            return
        was_empty = not slots
        slots.extend(batch.slots)
        self._size += batch.size
        if was_empty and slots:
            self._wake.set()

    def overflow(self) -> None:
        """Drop the backlog; the consumer's next read raises ``SubscriberOverflow``."""
        self.overflowed = True
        self._slots.clear()
        self._progress.clear()
        self._size = 0
        self._wake.set()

    def drain(self) -> list[P]:
        """Take everything queued now (no waiting); raises once the consumer fell behind."""
        if self.overflowed:
            raise SubscriberOverflow("event subscriber fell behind; resync")
        payloads = [slot.payload for slot in self._slots]
        self._slots.clear()
        self._progress.clear()
        self._size = 0
        self._wake.clear()
        self.delivered += len(payloads)
        return payloads

    async def get_batch(self) -> list[P]:
        """Wait for payloads and take them all; an empty list once closed."""
        while not self._slots and not self.overflowed:
            if self.closed:
                return []
            await self._wake.wait()
            self._wake.clear()
        return self.drain()

    async def batches(self) -> AsyncIterator[list[P]]:
        while not self.closed:
            batch = await self.get_batch()
            if batch:
                yield batch

    def close(self) -> None:
        self.closed = True
        self._wake.set()
