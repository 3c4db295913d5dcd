"""Where backend calls run. Backend calls are synchronous; the scheduler awaits them here.

``ThreadExecutor`` runs them in a thread pool on this machine (the default). The Ray executor
(:mod:`kaipai.engine.cluster`, the ``ray`` extra) runs each backend in warm Ray actors across a
cluster; it is imported only when a render asks for it, so the default render never loads Ray.
Whatever the executor, the run loop keeps the slots, rate limits, retries and budget, and the
driver commits every result (``run`` is always this machine).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from kaipai.engine.jobs import BackendHandle, Generated, Prepared
from kaipai.engine.report import NodeStatus

if TYPE_CHECKING:
    from kaipai.engine.engine import Engine

T = TypeVar("T")

#: Called with (fraction, message, where) while a job runs.
Progress = Callable[..., None]


class Executor(Protocol):
    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn`` on this machine (commits, local work), off the event loop."""
        ...

    async def generate(self, engine: Engine, prep: Prepared, cancel: threading.Event, progress: Progress) -> Generated:
        """Run one job's backend call wherever this executor runs backends; its files end in a scratch folder here."""
        ...

    async def check(self, handle: BackendHandle, capability: str) -> str:
        """Ask the backend whether it is usable where its jobs will run (raises NotConfigured if not)."""
        ...

    def width(self, handle: BackendHandle, capability: str) -> int | None:
        """Jobs of this backend that may run at once, or None for its sheet's ``max_concurrency``."""
        ...

    def close(self) -> None: ...


class ThreadExecutor:
    """A thread pool sized to the sum of the backends' concurrency limits."""

    def __init__(self, max_workers: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=max(1, max_workers), thread_name_prefix="kaipai-job")

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    async def generate(self, engine: Engine, prep: Prepared, cancel: threading.Event, progress: Progress) -> Generated:
        return await self.run(engine.generate, prep, cancel, progress)

    async def check(self, handle: BackendHandle, capability: str) -> str:
        assert handle.instance is not None
        return await self.run(handle.instance.check)

    def width(self, handle: BackendHandle, capability: str) -> int | None:
        return None

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def open_executor(engine: Engine, planned: Sequence[NodeStatus], local_workers: int) -> Executor:
    """The executor the engine's settings or document choose; ``planned``: the nodes this render will run."""
    choice = engine.settings.executor or engine.doc.executor  # the command line's, else kaipai.yaml's
    if choice.use == "ray" and any(engine.graph[st.node].capability for st in planned):  # else nothing to send
        from kaipai.engine.cluster.executor import RayExecutor

        return RayExecutor(engine, choice, planned, local_workers)
    return ThreadExecutor(local_workers)
