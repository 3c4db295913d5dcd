"""The Ray actors of a render: backend workers that keep their models warm, and the journal.

A :class:`BackendWorker` holds one backend instance for one capability for the whole render,
so a diffusers pipeline is loaded once per GPU worker and serves every keyframe sent to it;
it runs as many jobs at once as the backend's sheet allows (a threaded actor). It never
touches the takes database: a paid job's id goes to the driver through the
:class:`Journal`, and the worker waits until the driver has committed it before the backend
waits on the provider — so a worker killed afterwards leaves an id to resume, never a job
to submit again. Progress goes the same way, without waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ray

import kaipai
from kaipai.backends.base import Backend, JobContext, NotConfigured, TransientError, call_backend
from kaipai.backends.registry import Registry
from kaipai.engine.cluster.transfer import Failure, Job, Reply, pack_outputs, write_inputs

#: Seconds between two progress messages of one job (the last one always goes).
PROGRESS_EVERY = 0.25


@dataclass(frozen=True)
class WorkerSpec:
    """Everything a worker needs to build its backend as the driver built it."""

    backend: str
    model: str | None
    options: dict[str, Any]
    capability: str
    project_dir: str
    kaipai_version: str
    backend_version: str
    probe: tuple[str, str] | None = None  # (path, token) the driver wrote, to tell whether storage is shared
    labels: dict[str, str] = field(default_factory=dict)


def place() -> str:
    """Where this process runs, as a person reads it: host, GPUs, process."""
    gpus = [str(g) for g in ray.get_gpu_ids()]
    where = socket.gethostname()
    if gpus:
        where += f" GPU {','.join(gpus)}"
    return f"{where} (pid {os.getpid()})"


class BackendWorker:
    """One backend, one capability, kept warm on one Ray worker for a render."""

    def __init__(self, spec: WorkerSpec, journal: str) -> None:
        self.spec = spec
        # Found by name: an actor handle among the arguments would not survive a restart.
        self.journal = ray.get_actor(journal, namespace="kaipai")
        self.cancel_event = threading.Event()
        self.where = place()
        self.failure: Failure | None = None
        self.backend: Backend | None = None
        self.shared = False
        if spec.probe is not None:
            path, token = spec.probe
            try:
                self.shared = Path(path).read_text() == token
            except OSError:
                self.shared = False
        try:
            self.backend = self._build()
        except Exception as exc:  # reported with every job: the driver names the worker and the cause
            self.failure = Failure.of(exc)

    def _build(self) -> Backend:
        if kaipai.__version__ != self.spec.kaipai_version:
            raise NotConfigured(
                f"the worker on {self.where} has kaipai {kaipai.__version__} and the render kaipai "
                f"{self.spec.kaipai_version}; install the same kaipai on every node of the cluster"
            )
        backend = Registry().create(
            self.spec.backend, self.spec.model, dict(self.spec.options), project_dir=Path(self.spec.project_dir)
        )
        if str(type(backend).version) != self.spec.backend_version:
            raise NotConfigured(
                f"the worker on {self.where} has backend {self.spec.backend!r} version {type(backend).version} and "
                f"the render version {self.spec.backend_version}; install the same kaipai and backends on every node"
            )
        return backend

    # ------------------------------------------------------------------ control (answered while jobs run)

    def ready(self) -> dict[str, Any]:
        """Where it runs, whether it sees the project's files, and why it cannot work (if so)."""
        return {"where": self.where, "shared": self.shared, "pid": os.getpid(), "failure": self.failure}

    def check(self) -> str | Failure:
        if self.failure is not None:
            return self.failure
        assert self.backend is not None
        try:
            return self.backend.check()
        except Exception as exc:
            return Failure.of(exc)

    def cancel(self) -> None:
        """Stop every job running here and refuse the ones still queued (the render was cancelled)."""
        self.cancel_event.set()

    def inspect(self, fn: Callable[[Backend | None], Any]) -> Any:
        """Run ``fn`` on this worker's backend, for diagnostics (what is loaded, how often)."""
        return fn(self.backend)

    def close(self) -> None:
        if self.backend is not None:
            self.backend.close()

    # ------------------------------------------------------------------ jobs

    def run(self, job: Job) -> Reply:
        if self.failure is not None:
            return Reply(failure=self.failure)
        if self.cancel_event.is_set():
            return Reply(failure=Failure.of(TransientError("cancelled before it started")))
        assert self.backend is not None
        private = Path(tempfile.gettempdir()) / "kaipai-worker" / job.token
        try:
            request = job.request
            if job.inputs:
                blobs = ray.get(list(job.inputs.values()))
                request = write_inputs(request, dict(zip(job.inputs, blobs)), private / "in")
            out_dir = Path(job.out_dir) if job.out_dir else private / "out"
            out_dir.mkdir(parents=True, exist_ok=True)
            ctx = JobContext(
                out_dir=out_dir,
                key=job.key,
                job_id=job.job_id,
                on_job_id=lambda job_id: self._record_job_id(job.token, job_id),
                on_progress=_Throttled(lambda f, m: self.journal.progress.remote(job.token, f, m)),
                cancel_event=self.cancel_event,
            )
            started = time.monotonic()
            result = call_backend(self.backend, request, ctx)
            seconds = time.monotonic() - started
            if job.out_dir:
                return Reply(result=result, seconds=seconds)
            packed, blobs = pack_outputs(result)
            return Reply(result=packed, blobs=blobs, seconds=seconds)
        except Exception as exc:
            return Reply(failure=Failure.of(exc))
        finally:
            shutil.rmtree(private, ignore_errors=True)

    def _record_job_id(self, token: str, job_id: str) -> None:
        """Hand a submitted job's id to the driver and wait until it is in the takes database."""
        refused = ray.get(self.journal.job_id.remote(token, job_id))
        if refused:
            raise NotConfigured(f"the render could not record the provider's job id {job_id}: {refused}")


class _Throttled:
    """A progress callback that forwards at most one message per ``PROGRESS_EVERY`` seconds, and the last."""

    def __init__(self, send: Callable[[float, str], Any]) -> None:
        self.send = send
        self.last = 0.0

    def __call__(self, fraction: float, message: str) -> None:
        now = time.monotonic()
        if fraction >= 1.0 or now - self.last >= PROGRESS_EVERY:
            self.last = now
            self.send(fraction, message)


class Journal:
    """The driver's mailbox on the cluster (an async actor): job ids it must commit, progress it shows."""

    def __init__(self) -> None:
        self._inbox: list[tuple[Any, ...]] = []
        self._wake = asyncio.Event()
        self._waiting: dict[str, asyncio.Future[str]] = {}

    def _post(self, message: tuple[Any, ...]) -> None:
        self._inbox.append(message)
        self._wake.set()

    async def job_id(self, token: str, job_id: str) -> str:
        """Posted by a worker; returns once the driver committed it ("" when it did, else why not)."""
        done: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._waiting[token + job_id] = done
        self._post(("job_id", token, job_id))
        return await done

    async def progress(self, token: str, fraction: float, message: str) -> None:
        self._post(("progress", token, fraction, message))

    async def take(self, wait: float) -> list[tuple[Any, ...]]:
        """The driver's long poll: what arrived, waiting up to ``wait`` seconds for something."""
        if not self._inbox:
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)
        out, self._inbox = self._inbox, []
        return out

    async def ack(self, done: list[tuple[str, str, str]]) -> None:
        """The driver committed these (token, job id, error) records: release the workers waiting on them."""
        for token, job_id, error in done:
            waiter = self._waiting.pop(token + job_id, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(error)
