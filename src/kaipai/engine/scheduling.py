"""Concurrency slots, rate limits and retry delays for the scheduler.

Each (backend, capability) gets one ``Slots`` (its ``max_concurrency``) and one
``RateLimiter`` (its ``requests_per_minute``). Slots are granted by priority, not arrival:
voice lines first, then earlier shots, which keeps the bottleneck backend fed in film order.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import random
import time
from dataclasses import dataclass


class Slots:
    """A semaphore that wakes the waiter with the lowest priority value first."""

    def __init__(self, size: int) -> None:
        self.size = max(1, size)
        self.busy = 0
        self._waiters: list[tuple[tuple[int, ...], int, asyncio.Future[None]]] = []
        self._counter = itertools.count()

    async def acquire(self, priority: tuple[int, ...]) -> None:
        if self.busy < self.size and not self._waiters:
            self.busy += 1
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (priority, next(self._counter), fut))
        try:
            await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():
                self.release()  # granted just as we were cancelled: hand it on
            raise

    def release(self) -> None:
        while self._waiters:
            _, _, fut = heapq.heappop(self._waiters)
            if not fut.done():
                fut.set_result(None)  # the slot passes straight to the waiter
                return
        self.busy -= 1


class RateLimiter:
    """Spaces request starts at least 60/rpm seconds apart (no bursts beyond that).

    Requests take their turn one at a time, and the next turn is counted from the moment a request
    was really let go: one that wakes late (a busy machine) pushes the next one back instead of
    leaving both to go at once.
    """

    def __init__(self, requests_per_minute: float | None) -> None:
        self.interval = 60.0 / requests_per_minute if requests_per_minute else 0.0
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> float:
        """Wait for this request's turn; returns the moment it was given (``time.monotonic()``)."""
        if not self.interval:
            return time.monotonic()
        async with self._lock:
            while (delay := self._next - time.monotonic()) > 0:
                await asyncio.sleep(delay)
            now = time.monotonic()
            self._next = now + self.interval
            return now


@dataclass(frozen=True)
class RetryPolicy:
    """How transient failures are retried: exponential backoff with full jitter.

    ``max_attempts`` counts the first try. A backend's ``retry_after`` is a floor on the delay.
    """

    max_attempts: int = 5
    base: float = 1.0
    cap: float = 60.0

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        ceiling = min(self.cap, self.base * (2 ** (attempt - 1)))
        wait = rng.uniform(0.5 * ceiling, ceiling)
        return max(wait, retry_after or 0.0)
