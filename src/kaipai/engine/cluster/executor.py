"""The Ray executor: the run loop's backend calls on a Ray cluster, its commits on this machine.

The run loop is unchanged: it still holds each backend's slots and rate limit, retries,
keeps the budget and commits every result through the engine. Only ``generate`` goes
elsewhere: to a warm :class:`~kaipai.engine.cluster.worker.BackendWorker` of the job's
backend and capability, with its inputs by path (shared storage) or through the object
store, its result coming back the same way into a scratch folder on the driver.

Faults: a worker that dies mid-job is restarted by Ray (elsewhere when its node is gone)
and the job fails here as a transient error, so the run loop runs it again — with the
provider's job id when one was recorded, which resumes the paid job instead of submitting
it twice. Cancelling the render stops every worker's jobs. The driver's own death ends its
actors with it (Ray ties them to their owner); ``kaipai render`` again resumes as always.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import shutil
import socket
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import kaipai
from kaipai.backends.base import BackendError, NotConfigured, TransientError
from kaipai.document.execution import ExecutorChoice
from kaipai.engine.cluster.pools import RESTARTS, Member, Needs, Pool, needs_for, share_gpus
from kaipai.engine.cluster.transfer import InputCache, Job, Reply, request_paths, unpack_outputs
from kaipai.engine.cluster.worker import BackendWorker, Journal, WorkerSpec
from kaipai.engine.db import now
from kaipai.engine.executor import Progress, ThreadExecutor
from kaipai.engine.jobs import BackendHandle, Generated, Prepared, fresh_scratch, generated
from kaipai.engine.report import NodeStatus

if TYPE_CHECKING:
    from kaipai.engine.engine import Engine

T = TypeVar("T")

EXTRA_HINT = "pip install 'kaipai[ray]'"
#: A pool whose worker waits this long for a GPU that idle workers of other backends hold takes one from them.
STARVING_AFTER = 3.0
IDLE_AFTER = 3.0


def require_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise NotConfigured(f"the Ray executor needs Ray on this machine and every node: {EXTRA_HINT}") from None
    return ray


def connect(address: str | None) -> bool:
    """Join the cluster (or start Ray here when no address is given); True when this call started Ray."""
    ray = require_ray()
    if ray.is_initialized():
        return False
    try:
        ray.init(
            address=address or None,
            namespace="kaipai",
            log_to_driver=False,
            logging_level=logging.WARNING,
            include_dashboard=False if not address else None,
        )
    except (ConnectionError, RuntimeError, ValueError, TimeoutError) as exc:
        where = address or os.environ.get("RAY_ADDRESS") or "this machine"
        raise NotConfigured(
            f"cannot reach the Ray cluster at {where} ({str(exc).splitlines()[0][:200]}); start it with "
            "'ray start --head' (see README, Rendering on a Ray cluster) or check --address"
        ) from None
    return True


class RayExecutor:
    """Backend calls on Ray actors; everything else (commits, shot audio) on this machine's threads."""

    def __init__(
        self, engine: Engine, choice: ExecutorChoice, planned: Sequence[NodeStatus], local_workers: int
    ) -> None:
        self.ray = require_ray()
        self.engine = engine
        self.choice = choice
        self.local = ThreadExecutor(local_workers)
        self.started_ray = connect(choice.address)
        self.render = secrets.token_hex(4)
        self.driver = f"{socket.gethostname()}:{os.getpid()}"
        self.pools: dict[tuple[int, str], Pool] = {}
        self.inputs = InputCache(self.ray.put)
        self.jobs: dict[str, tuple[Prepared, Progress]] = {}  # token → the job in flight and its progress
        self.issued: dict[str, Prepared] = {}  # every job sent: a lost worker's last job id is still recorded
        self.placed: dict[str, tuple[str, str, str, str, str]] = {}  # token → (node, key, backend, worker, since)
        self.closed = False
        self.cancel: threading.Event | None = None
        self.cancelled = False
        self.lock = threading.Lock()
        self.worker_class = self.ray.remote(BackendWorker)
        self.light: Any = None
        self.lights: list[Any] = []  # every light worker this render started
        self.light_threads = 8  # control calls, and room for service clients the plan did not foresee
        self.probe = self._write_probe()
        try:
            self.journal_name = f"kaipai-{self.render}-journal"
            self.journal = self._actor(Journal, num_cpus=0, name=self.journal_name)
            self.gpus = float(self.ray.cluster_resources().get("GPU", 0.0))
            self.replicas = self._share_gpus(planned)
        except Exception:
            self.close()
            raise
        engine.db.clear_running()
        loop = asyncio.get_running_loop()
        self.tasks = [loop.create_task(self._pump()), loop.create_task(self._watch())]
        backends = self._backends(planned)
        for handle, capability in backends:
            with contextlib.suppress(BackendError):
                if not self._needs(handle, capability).computes:
                    self.light_threads += handle.sheet(capability).max_concurrency
        for handle, capability in backends:
            with contextlib.suppress(BackendError):  # it fails with its first job, saying why
                self.pool(handle, capability).warm()  # workers start (and load) while earlier stages run

    # ------------------------------------------------------------------ setting up

    def _write_probe(self) -> tuple[str, str] | None:
        """A file only this render can know, for workers to tell whether they see the project's storage."""
        if self.choice.transfer == "object_store":
            return None
        folder = self.engine.paths.jobs
        folder.mkdir(parents=True, exist_ok=True)
        path, token = folder / f".probe-{self.render}", secrets.token_hex(16)
        path.write_text(token)
        return str(path.absolute()), token

    def _placement(self) -> dict[str, Any]:
        """Light workers go beside the driver when they can (where the keys and the store are)."""
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        try:
            node = self.ray.get_runtime_context().get_node_id()
        except Exception:  # a Ray Client driver is not a node of the cluster
            return {}
        return {"scheduling_strategy": NodeAffinitySchedulingStrategy(node_id=node, soft=True)}

    def _actor(self, cls: type, *, num_cpus: float, name: str) -> Any:
        remote = self.ray.remote(cls)
        return remote.options(name=name, namespace="kaipai", num_cpus=num_cpus, **self._placement()).remote()

    def _light_host(self, dead: list[Any]) -> Any:
        """The one light worker beside the driver that every service client of this render shares
        (a new one when the last is dead for good)."""
        if self.light is None or any(self.light is d for d in dead):
            self.light = self.worker_class.options(
                name=f"kaipai-{self.render}-services",
                namespace="kaipai",
                num_cpus=0,
                max_concurrency=self.light_threads,
                max_restarts=RESTARTS,
                max_task_retries=0,
                **self._placement(),
            ).remote(self.journal_name)
            self.lights.append(self.light)
        return self.light

    def _needs(self, handle: BackendHandle, capability: str) -> Needs:
        return needs_for(handle.sheet(capability), self.choice, handle.name, capability)

    def _backends(self, planned: Sequence[NodeStatus]) -> list[tuple[BackendHandle, str]]:
        """(backend, capability) of each planned node that runs on a backend, once each."""
        out: dict[tuple[int, str], tuple[BackendHandle, str]] = {}
        for st in planned:
            node = self.engine.graph[st.node]
            if node.capability is not None:
                handle = self.engine.handle(self.engine.choice(node))
                out.setdefault((id(handle), node.capability), (handle, node.capability))
        return list(out.values())

    def _share_gpus(self, planned: Sequence[NodeStatus]) -> dict[tuple[int, str], int]:
        """Replicas of each GPU backend this render uses, from the planned work of each."""
        demands: dict[tuple[int, str], tuple[float, float]] = {}
        work: dict[tuple[int, str], float] = defaultdict(float)
        for st in planned:
            node = self.engine.graph[st.node]
            if node.capability is None:
                continue
            try:
                handle = self.engine.handle(self.engine.choice(node))
                needs = self._needs(handle, node.capability)
            except BackendError:
                continue
            if needs.num_gpus > 0 and needs.replicas is None:
                ident = (id(handle), node.capability)
                work[ident] += max(st.est_seconds, 1e-3)
                demands[ident] = (needs.num_gpus, work[ident])
        return share_gpus(demands, self.gpus)

    def pool(self, handle: BackendHandle, capability: str) -> Pool:
        ident = (id(handle), capability)
        if ident not in self.pools:
            needs = self._needs(handle, capability)
            sheet = handle.sheet(capability)
            replicas = needs.replicas or self.replicas.get(ident, 1)
            spec = WorkerSpec(
                backend=handle.name,
                model=handle.model,
                options=dict(handle.options),
                capability=capability,
                project_dir=str(self.engine.paths.root.resolve()),
                kaipai_version=kaipai.__version__,
                backend_version=handle.version,
                probe=self.probe,
            )
            slug = "".join(c if c.isalnum() else "-" for c in handle.label)[:40]
            self.pools[ident] = Pool(
                label=f"{handle.label} ({capability})",
                name=f"kaipai-{self.render}-{slug}-{capability}-{len(self.pools) + 1}",
                spec=spec,
                needs=needs,
                replicas=replicas,
                per_worker=sheet.max_concurrency,
                actor_class=self.worker_class,
                journal=self.journal_name,
                placement={},
                host=None if needs.computes else self._light_host,
            )
        return self.pools[ident]

    # ------------------------------------------------------------------ the executor interface

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        return await self.local.run(fn, *args)

    def width(self, handle: BackendHandle, capability: str) -> int | None:
        try:
            return self.pool(handle, capability).width
        except BackendError:
            return None

    async def check(self, handle: BackendHandle, capability: str) -> str:
        return await self.pool(handle, capability).check()

    async def generate(self, engine: Engine, prep: Prepared, cancel: threading.Event, progress: Progress) -> Generated:
        if prep.backend is None or prep.request is None or prep.node.capability is None:
            return await self.local.generate(engine, prep, cancel, progress)  # computed from the store: here
        self.cancel = cancel
        pool = self.pool(prep.backend, prep.node.capability)
        member = await pool.member()
        token = secrets.token_hex(8)
        scratch = await self.local.run(fresh_scratch, engine.paths.jobs, prep)
        try:
            job = Job(token=token, key=prep.key, request=prep.request, job_id=engine.jobs.get(prep.key))
            if member.shared:
                job.out_dir = str(scratch.absolute())  # the same path on every node of shared storage
            else:
                paths = [p for p in request_paths(prep.request) if p.is_file()]
                job.inputs = dict(zip(map(str, paths), await self.local.run(self._put_inputs, paths)))
            self.jobs[token] = (prep, progress)
            self.issued[token] = prep
            progress(0.0, f"on {member.where}", member.where)
            self.placed[token] = (prep.node.id, prep.key, prep.backend.label, member.where, now())
            reply = await self._call(pool, member, job)
            if reply.failure is not None:
                raise reply.failure.error()
            assert reply.result is not None
            result = reply.result
            if reply.blobs is not None:
                result = await self.local.run(unpack_outputs, result, reply.blobs, scratch)
            result = result.model_copy(update={"metadata": {**result.metadata, "worker": member.where}})
            return generated(prep, result, reply.seconds, scratch)
        except BaseException:
            shutil.rmtree(scratch, ignore_errors=True)
            raise
        finally:
            pool.release(member)
            self.jobs.pop(token, None)
            self.placed.pop(token, None)

    async def _call(self, pool: Pool, member: Member, job: Job) -> Reply:
        try:
            reply: Reply = await pool.run(member, job)
        except self.ray.exceptions.RayActorError as exc:
            pool.lost(member)
            raise TransientError(
                f"the worker running it on {member.where} was lost ({type(exc).__name__}); running it again"
            ) from None
        except (self.ray.exceptions.ObjectLostError, self.ray.exceptions.WorkerCrashedError) as exc:
            raise TransientError(f"the cluster lost the job's data on {member.where} ({type(exc).__name__})") from None
        return reply

    def _put_inputs(self, paths: list[Any]) -> list[Any]:
        with self.lock:
            return [self.inputs.ref(p) for p in paths]

    # ------------------------------------------------------------------ the driver's side of the journal

    async def _pump(self) -> None:
        """Commit the job ids workers report (then release them), and pass their progress on."""
        while not self.closed:
            try:
                messages = await self.journal.take.remote(0.5)
            except self.ray.exceptions.RayError:
                if self.closed:
                    return
                await asyncio.sleep(0.2)
                continue
            done = []
            for message in messages:
                if message[0] == "job_id":
                    _, token, job_id = message
                    done.append((token, job_id, await self._record(token, job_id)))
                elif message[0] == "progress":
                    _, token, fraction, text = message
                    if token in self.jobs:
                        self.jobs[token][1](fraction, text)
            if done:
                self.journal.ack.remote(done)

    async def _record(self, token: str, job_id: str) -> str:
        prep = self.issued.get(token)
        if prep is None:
            return "this render did not send that job"
        assert prep.backend is not None
        try:
            await self.local.run(self.engine.record_job, prep, prep.backend.name, job_id)
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"
        return ""

    async def _watch(self) -> None:
        """Stop the cluster's jobs when the render is cancelled; move idle GPUs to backends waiting for one;
        tell ``kaipai status`` where jobs run (twice a second, in one write)."""
        said: list[tuple[str, ...]] = []
        tick = 0
        while not self.closed:
            if self.cancel is not None and self.cancel.is_set() and not self.cancelled:
                self.cancelled = True
                for pool in self.pools.values():
                    pool.broadcast_cancel()
            self._rebalance()
            tick += 1
            if tick % 5 == 0 and sorted(self.placed.values()) != said:
                said = sorted(self.placed.values())
                with contextlib.suppress(Exception):  # a busy database only delays the next report
                    await self.local.run(self.engine.db.set_running, self.driver, said)
            await asyncio.sleep(0.1)

    def _rebalance(self) -> None:
        now = time.monotonic()
        gpu_pools = [p for p in self.pools.values() if p.needs.num_gpus > 0]
        for hungry in [p for p in gpu_pools if p.starving(now, STARVING_AFTER)]:
            if self.ray.available_resources().get("GPU", 0.0) + 1e-9 >= hungry.needs.num_gpus:
                continue  # it is only starting up
            for other in gpu_pools:
                idle = other.idle(now, IDLE_AFTER) if other is not hungry else []
                if idle:
                    other.drop(idle[0])
                    break

    def close(self) -> None:
        """End this render's workers and journal; leave Ray running unless this render started it."""
        self.closed = True
        for pool in self.pools.values():
            pool.close()
        for light in self.lights:
            with contextlib.suppress(Exception):
                self.ray.kill(light, no_restart=True)
        with contextlib.suppress(Exception):
            self.ray.kill(self.journal, no_restart=True)
        self.inputs.clear()
        if self.probe is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.probe[0])
        with contextlib.suppress(Exception):
            self.engine.db.clear_running()
        self.local.close()
        if self.started_ray:
            with contextlib.suppress(Exception):
                self.ray.shutdown()
