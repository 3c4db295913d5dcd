"""Where backend calls run. Backend calls are synchronous; the scheduler awaits them here.

``ThreadExecutor`` runs them in a thread pool on this machine. A cluster executor (Ray,
``ray.remote`` tasks with ``num_gpus``) fits the same two methods; it is not shipped yet
because Ray is an optional extra.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


class Executor(Protocol):
    async def run(self, fn: Callable[..., T], *args: Any) -> T: ...

    def close(self) -> None: ...


class ThreadExecutor:
    """A thread pool sized to the sum of the backends' concurrency limits."""

    def __init__(self, max_workers: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=max(1, max_workers), thread_name_prefix="kaipai-job")

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
