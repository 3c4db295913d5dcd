"""The Ray actors of a render: backend workers that keep their models warm, and the journal.

A :class:`BackendWorker` holds a backend instance for the whole render, so a diffusers
pipeline is loaded once per GPU worker and serves every keyframe sent to it; it runs as many
jobs at once as the backend's sheet allows (a threaded actor). It never
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
from dataclasses import dataclass
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


def place() -> str:
    """Where this process runs, as a person reads it: host, GPUs, process."""
    gpus = [str(g) for g in ray.get_gpu_ids()]
    where = socket.gethostname()
    if gpus:
        where += f" GPU {','.join(gpus)}"
    return f"{where} (pid {os.getpid()})"


class BackendWorker:
    """Backends kept warm in one Ray worker process for a render, each under its pool's name.

    A worker that computes (GPU, cores) hosts one backend; the clients of remote services share
    one light worker, each running its jobs in the worker's threads.
    """

    def __init__(self, journal: str) -> None:
        # Found by name: an actor handle among the arguments would not survive a restart.
        self.journal = ray.get_actor(journal, namespace="kaipai")
        self.cancel_event = threading.Event()
        self.where = place()
        self.backends: dict[str, Backend | Failure] = {}
        self.shared: dict[str, bool] = {}
        self.lock = threading.Lock()

    def _build(self, spec: WorkerSpec) -> Backend:
        if kaipai.__version__ != spec.kaipai_version:
            raise NotConfigured(
                f"the worker on {self.where} has kaipai {kaipai.__version__} and the render kaipai "
                f"{spec.kaipai_version}; install the same kaipai on every node of the cluster"
            )
        backend = Registry().create(spec.backend, spec.model, dict(spec.options), project_dir=Path(spec.project_dir))
        if str(type(backend).version) != spec.backend_version:
            raise NotConfigured(
                f"the worker on {self.where} has backend {spec.backend!r} version {type(backend).version} and "
                f"the render version {spec.backend_version}; install the same kaipai and backends on every node"
            )
        return backend

    # ------------------------------------------------------------------ control (answered while jobs run)

    def add(self, name: str, spec: WorkerSpec) -> dict[str, Any]:
        """Build a pool's backend here (once; again after a restart) and say where it runs, whether it sees
        the project's files, and why it cannot work (if so)."""
        with self.lock:
            if name not in self.backends:
                try:
                    self.backends[name] = self._build(spec)
                except Exception as exc:  # reported with every job: the driver names the worker and the cause
                    self.backends[name] = Failure.of(exc)
                shared = False
                if spec.probe is not None:
                    with contextlib.suppress(OSError):
                        shared = Path(spec.probe[0]).read_text() == spec.probe[1]
                self.shared[name] = shared
        found = self.backends[name]
        return {
            "where": self.where,
            "shared": self.shared[name],
            "pid": os.getpid(),
            "failure": found if isinstance(found, Failure) else None,
        }

    def _backend(self, name: str) -> Backend | Failure:
        return self.backends.get(name) or Failure.of(TransientError("the worker restarted and lost its backend"))

    def check(self, name: str) -> str | Failure:
        backend = self._backend(name)
        if isinstance(backend, Failure):
            return backend
        try:
            return backend.check()
        except Exception as exc:
            return Failure.of(exc)

    def cancel(self) -> None:
        """Stop every job running here and refuse the ones still queued (the render was cancelled)."""
        self.cancel_event.set()

    def inspect(self, name: str, fn: Callable[[Backend | Failure], Any]) -> Any:
        """Run ``fn`` on a pool's backend here, for diagnostics (what is loaded, how often)."""
        return fn(self._backend(name))

    def close(self, name: str | None = None) -> None:
        """Let one pool's backend (or every one) release what it holds."""
        for key in [name] if name is not None else list(self.backends):
            backend = self.backends.pop(key, None)
            if backend is not None and not isinstance(backend, Failure):
                with contextlib.suppress(Exception):
                    backend.close()

    # ------------------------------------------------------------------ jobs

    def run(self, name: str, spec: WorkerSpec, job: Job) -> Reply:
        if name not in self.backends:  # this process restarted since the pool added its backend
            self.add(name, spec)
        backend = self._backend(name)
        if isinstance(backend, Failure):
            return Reply(failure=backend)
        if self.cancel_event.is_set():
            return Reply(failure=Failure.of(TransientError("cancelled before it started")))
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
            result = call_backend(backend, request, ctx)
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
