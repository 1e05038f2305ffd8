"""The event bus: one publisher, many bounded subscribers with per-task progress coalescing."""

from __future__ import annotations

from tui_updater.core.eventbuffer import EventBuffer
from tui_updater.core.events import Event


class BusSubscription(EventBuffer[Event]):
    """A subscriber's buffer (``core.eventbuffer``); closing it leaves the bus."""

    def __init__(self, bus: EventBus, max_pending: int):
        super().__init__(max_events=max_pending)
        self._bus = bus

    def close(self) -> None:
        super().close()
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
            subscriber.push(event, event)

    @property
    def wanted(self) -> bool:
        """Someone would receive an event published now. Publishers test it before building one:
        with nobody subscribed an event is dropped unseen, so building it is wasted work."""
        return bool(self._subscribers)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)
