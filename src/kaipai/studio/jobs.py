"""The studio's one background job at a time (a render or a cut), and its event stream.

The render runs on a worker thread; its events are kept in order so every browser tab
that opens the stream (or reopens it after a reload) sees the whole job from the start.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kaipai.backends.base import BackendError
from kaipai.document.io import DocumentError

Work = Callable[[Callable[[dict[str, Any]], None], threading.Event], dict[str, Any]]


class JobBusy(RuntimeError):
    """A render or cut is already running in this studio."""


@dataclass
class Job:
    id: int
    kind: str
    cancel: threading.Event = field(default_factory=threading.Event)
    events: list[dict[str, Any]] = field(default_factory=list)
    done: bool = False
    started: float = field(default_factory=time.time)

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "done": self.done,
            "cancelled": self.cancel.is_set(),
            "events": len(self.events),
        }


def describe_error(exc: BaseException) -> str:
    if isinstance(exc, DocumentError):
        return "; ".join(str(p) for p in exc.problems)
    if isinstance(exc, (BackendError, FileNotFoundError, PermissionError, ValueError)):
        return str(exc)
    return f"{type(exc).__name__}: {exc} (a bug; please report it with the studio's console output)"


class Jobs:
    """Starts jobs on a thread and records their events; one job runs at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self.current: Job | None = None
        self._next = 1

    def start(self, kind: str, work: Work) -> Job:
        with self._lock:
            if self.current is not None and not self.current.done:
                raise JobBusy(f"a {self.current.kind} is running; wait for it or cancel it")
            job = Job(self._next, kind)
            self._next += 1
            self.current = job
        threading.Thread(target=self._run, args=(job, work), name=f"studio-{kind}-{job.id}", daemon=True).start()
        return job

    def _emit(self, job: Job, event: dict[str, Any]) -> None:
        with self._changed:
            job.events.append(event)
            self._changed.notify_all()

    def _run(self, job: Job, work: Work) -> None:
        self._emit(job, {"kind": "job_started", "job": job.kind, "id": job.id})
        final: dict[str, Any]
        try:
            result = work(lambda e: self._emit(job, e), job.cancel)
            final = {"kind": "job_done", "job": job.kind, "id": job.id, "ok": True, "result": result}
        except BaseException as exc:
            if not isinstance(exc, (DocumentError, BackendError)):
                traceback.print_exc()
            final = {"kind": "job_done", "job": job.kind, "id": job.id, "ok": False, "error": describe_error(exc)}
        with self._changed:
            job.events.append(final)
            job.done = True
            self._changed.notify_all()

    def cancel(self) -> bool:
        job = self.current
        if job is None or job.done:
            return False
        job.cancel.set()
        return True
