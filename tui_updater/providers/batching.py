"""A micro-batcher: concurrent calls gathered for a few milliseconds (or until full) run as one.

The OpenAI-compatible provider puts its MBTI calls through one, so a task with concurrency 50
sends five requests of ten characters instead of fifty, and no task type has to know.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

A = TypeVar("A")  # what one call asks
R = TypeVar("R")  # what one call gets

# Runs one batch; sets every future it is given (a result or an exception), in any order.
RunBatch = Callable[[Sequence[tuple[A, "asyncio.Future[R]"]]], Awaitable[None]]


class MicroBatcher(Generic[A, R]):
    """``await batcher.submit(arg)``: ``arg`` joins the open batch, which runs when it holds
    ``max_size`` calls or ``window_s`` after its first one, whichever comes first."""

    def __init__(self, run_batch: RunBatch[A, R], *, max_size: int, window_s: float) -> None:
        if max_size < 1:
            raise ValueError("max_size must be at least 1")
        self._run_batch = run_batch
        self.max_size = max_size
        self.window_s = window_s
        self._open: list[tuple[A, asyncio.Future[R]]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._running: set[asyncio.Task[None]] = set()
        self.batches_sent = 0

    async def submit(self, arg: A) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._open.append((arg, future))
        if len(self._open) >= self.max_size:
            self._flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.window_s, self._flush)
        return await future

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch = [(arg, future) for arg, future in self._open if not future.done()]
        self._open = []
        if not batch:
            return
        self.batches_sent += 1
        task = asyncio.create_task(self._run(batch))
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        futures = [future for _, future in batch]

        def cancel_if_abandoned(_: asyncio.Future[R]) -> None:
            if all(f.cancelled() for f in futures):
                task.cancel()  # every caller left: the request is no longer wanted

        for future in futures:
            future.add_done_callback(cancel_if_abandoned)

    async def _run(self, batch: Sequence[tuple[A, asyncio.Future[R]]]) -> None:
        try:
            await self._run_batch(batch)
        except asyncio.CancelledError:
            for _, future in batch:
                future.cancel()
            raise
        except Exception as exc:
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
        finally:
            for _, future in batch:
                if not future.done():
                    future.set_exception(RuntimeError("the batch ended without an answer"))

    async def aclose(self) -> None:
        """Cancel batches still running (their callers get CancelledError)."""
        for task in list(self._running):
            task.cancel()
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)
