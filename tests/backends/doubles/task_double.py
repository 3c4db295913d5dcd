"""The test-side plumbing every task-API protocol double shares (Ark, Vidu, Runway, Veo, MiniMax).

Each provider's double follows its own documentation page or SDK (named in its docstring) for what
it accepts and answers; what is the same everywhere lives here: the counters a test reads
(submissions, downloads, requests), the queue of injected faults with the two that look alike at
every provider (a reply cut off mid-way, an answer slower than the client waits), and the gate in
front of the routes that records each request, checks the key and serves the next fault.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.responses import Response


@dataclass
class TaskDouble:
    polls_to_finish: int = 2
    url_ttl: float = 60.0
    next_faults: list[str] = field(default_factory=list)
    slow_seconds: float = 1.5
    submissions: int = 0
    downloads: list[tuple[str, float]] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    base_url: str = ""

    #: The start of a JSON reply cut off mid-way, as the provider's own would begin (the ``garbage`` fault).
    garbage: ClassVar[str] = "{"

    def failure(self, kind: str) -> Response | None:
        """The provider's own reply to an injected fault such as ``429`` or ``500``; None for no fault."""
        return None

    async def fault(self) -> Response | None:
        """The next injected fault's reply, if any: ``garbage``, ``slow`` (then served) or the provider's own."""
        with self.lock:
            kind = self.next_faults.pop(0) if self.next_faults else None
        if kind == "garbage":
            return Response(self.garbage, media_type="application/json")
        if kind == "slow":
            await asyncio.sleep(self.slow_seconds)
            return None
        return None if kind is None else self.failure(kind)

    def guard(
        self,
        app: FastAPI,
        refuse: Callable[[Request], Response | None],
        open_paths: tuple[str, ...] = (),
        fault_free: tuple[str, ...] = (),
    ) -> None:
        """Record every request; let ``open_paths`` (download links) through; answer ``refuse``'s reply to a
        wrong key; serve the next fault, except on paths ending in ``fault_free``."""

        @app.middleware("http")
        async def gate(request: Request, call_next: Any) -> Response:
            path = request.url.path
            self.requests.append((request.method, path))
            if open_paths and path.startswith(open_paths):
                return await call_next(request)
            if (refused := refuse(request)) is not None:
                return refused
            if not (fault_free and path.endswith(fault_free)) and (bad := await self.fault()) is not None:
                return bad
            return await call_next(request)
