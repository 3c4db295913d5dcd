"""The workers of one backend and capability on the cluster: what each holds, how many, which one is free.

A backend's capability sheet says what one worker holds (``num_gpus``, ``num_cpus``,
``memory_gb``); the project's ``executor.resources`` overrides it per capability, backend or
both. A backend that computes on the cluster (it holds GPUs or cores) scales out: the
cluster's GPUs are shared among the render's GPU backends in proportion to their planned
work, each replica running as many jobs as the sheet's ``max_concurrency``. A client of a
remote service holds nothing and runs as one light worker: the provider's concurrency and
rate limits, which the driver enforces before it sends a job, then hold across the whole
cluster.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import ray

from kaipai.backends.base import CapabilitySheet, NotConfigured
from kaipai.document.execution import ExecutorChoice
from kaipai.engine.cluster.transfer import Failure
from kaipai.engine.cluster.worker import WorkerSpec

#: Restarts Ray makes of a worker whose process died before the pool replaces it.
RESTARTS = 3
#: Seconds a restarting worker may stay unreachable before the pool gives up on it.
RESTART_WAIT = 120.0


@dataclass(frozen=True)
class Needs:
    """What one worker of a backend holds on the cluster."""

    num_gpus: float
    num_cpus: float
    memory_gb: float
    replicas: int | None = None

    @property
    def computes(self) -> bool:
        """It uses this cluster's GPUs or cores (rather than a remote service's)."""
        return self.num_gpus > 0 or self.num_cpus > 0

    def describe(self) -> str:
        parts = [f"{self.num_gpus:g} GPU" if self.num_gpus else "", f"{self.num_cpus:g} CPU" if self.num_cpus else ""]
        if self.memory_gb:
            parts.append(f"{self.memory_gb:g} GiB")
        return ", ".join(p for p in parts if p) or "nothing"

    def options(self) -> dict[str, Any]:
        out: dict[str, Any] = {"num_gpus": self.num_gpus, "num_cpus": self.num_cpus}
        if self.memory_gb:
            out["memory"] = int(self.memory_gb * 2**30)
        return out


def needs_for(sheet: CapabilitySheet, choice: ExecutorChoice, backend: str, capability: str) -> Needs:
    """The sheet's resources with the project's overrides, the most specific key winning."""
    values: dict[str, Any] = {
        "num_gpus": sheet.num_gpus,
        "num_cpus": sheet.num_cpus,
        "memory_gb": sheet.memory_gb,
        "replicas": None,
    }
    for key in (capability, backend, f"{backend}/{capability}"):
        override = choice.resources.get(key)
        if override is not None:
            values.update({k: v for k, v in override.model_dump().items() if v is not None})
    return Needs(**values)


def share_gpus(demands: dict[Any, tuple[float, float]], total: float) -> dict[Any, int]:
    """Replicas per GPU pool: one each, then the remaining GPUs to whichever has the most work per replica.

    ``demands`` maps a pool to (GPUs per worker, planned seconds of work).
    """
    replicas = dict.fromkeys(demands, 1)
    left = total - sum(gpus for gpus, _ in demands.values())
    while True:
        fits = [p for p, (gpus, _) in demands.items() if 0 < gpus <= left + 1e-9]
        if not fits:
            return replicas
        best = max(fits, key=lambda p: demands[p][1] / replicas[p])
        if demands[best][1] <= 0:
            return replicas
        replicas[best] += 1
        left -= demands[best][0]


def fits_somewhere(needs: Needs) -> bool:
    """Whether any live node of the cluster is big enough for one worker."""
    for node in ray.nodes():
        if not node.get("Alive"):
            continue
        have = node.get("Resources", {})
        if (
            have.get("GPU", 0.0) + 1e-9 >= needs.num_gpus
            and have.get("CPU", 0.0) + 1e-9 >= needs.num_cpus
            and have.get("memory", 0.0) + 1 >= needs.memory_gb * 2**30
        ):
            return True
    return False


@dataclass
class Member:
    """One worker actor of a pool."""

    actor: Any
    name: str
    ready: bool = False
    where: str = "starting"
    shared: bool = False
    busy: int = 0
    idle_since: float = field(default_factory=time.monotonic)
    started: float = field(default_factory=time.monotonic)


class Pool:
    """The workers of one backend for one capability, started on first use and replaced when lost."""

    def __init__(
        self,
        label: str,
        name: str,
        spec: WorkerSpec,
        needs: Needs,
        replicas: int,
        per_worker: int,
        actor_class: Any,
        journal: str,
        placement: dict[str, Any],
        host: Callable[[list[Any]], Any] | None = None,
    ) -> None:
        self.label = label
        self.name = name
        self.spec = spec
        self.needs = needs
        self.replicas = replicas
        self.per_worker = max(1, per_worker)
        self.actor_class = actor_class
        self.journal = journal
        self.placement = placement
        # The light worker this pool shares with other service clients, given the dead ones (None: its own).
        self.host = host
        self.dead_hosts: list[Any] = []
        self.members: list[Member] = []
        self.waiting = 0
        self._changed = asyncio.Event()
        self._count = 0
        self.unfit: bool | None = None  # no node is big enough for one worker (asked once)
        self.failures = 0  # workers in a row that died before they were ready
        self.last_failure = ""

    @property
    def width(self) -> int:
        """Jobs it runs at once: every replica's share when it computes here, else the provider's limit."""
        return self.per_worker * (self.replicas if self.needs.computes else 1)

    def _start(self) -> None:
        self._count += 1
        if self.host is not None:
            member = Member(actor=self.host(self.dead_hosts), name=self.name)
        else:
            name = f"{self.name}-{self._count}"
            actor = self.actor_class.options(
                name=name,
                namespace="kaipai",
                max_concurrency=self.per_worker + 4,  # control calls (add, cancel, check) answer while jobs run
                max_restarts=RESTARTS,
                max_task_retries=0,  # the run loop retries, resuming paid jobs by id
                **self.needs.options(),
                **self.placement,
            ).remote(self.journal)
            member = Member(actor=actor, name=name)
        self.members.append(member)
        asyncio.get_running_loop().create_task(self._await_ready(member))

    async def _await_ready(self, member: Member) -> None:
        """Have the worker build the pool's backend (again, after a restart); drop it if it is dead for good."""
        deadline = time.monotonic() + RESTART_WAIT
        while True:
            try:
                info = await member.actor.add.remote(self.name, self.spec)
                break
            except ray.exceptions.ActorUnavailableError:  # restarting: Ray brings it back, maybe elsewhere
                if time.monotonic() < deadline:
                    await asyncio.sleep(0.5)
                    continue
                self._failed(member, "it stayed unreachable")
                return
            except ray.exceptions.RayError as exc:
                self._failed(member, str(exc).splitlines()[0][:300])
                return
        self.failures = 0
        member.where, member.shared, member.ready = info["where"], info["shared"], True
        member.idle_since = time.monotonic()
        self._changed.set()

    def _failed(self, member: Member, why: str) -> None:
        self.failures += 1
        self.last_failure = why
        if self.host is not None:
            self.dead_hosts.append(member.actor)  # a new light worker replaces it
        self.drop(member)

    def drop(self, member: Member) -> None:
        """Forget a worker (dead for good, or retired to free its GPU)."""
        if member in self.members:
            self.members.remove(member)
            with contextlib.suppress(Exception):  # already gone
                if self.host is None:
                    ray.kill(member.actor, no_restart=True)
        self._changed.set()

    def lost(self, member: Member) -> None:
        """A job's worker died: Ray restarts it (elsewhere if its node is gone); ask where it is now."""
        if member in self.members and member.ready:
            member.ready, member.where, member.started = False, "restarting", time.monotonic()
            asyncio.get_running_loop().create_task(self._await_ready(member))

    def warm(self) -> None:
        """Start the workers before the first job comes (a backend that fits nowhere waits for its first job)."""
        if not self.members and (not self.needs.computes or fits_somewhere(self.needs)):
            while len(self.members) < self.replicas:
                self._start()

    def _unfit(self) -> bool:
        """No node is big enough for one worker (the cluster is asked once; a service client always fits)."""
        if self.unfit is None:
            self.unfit = self.needs.computes and not fits_somewhere(self.needs)
        return self.unfit

    async def member(self) -> Member:
        """A ready worker with a free slot, starting workers up to the pool's size as work arrives."""
        if self._unfit():
            raise NotConfigured(
                f"no node of the Ray cluster can hold a worker of {self.label} ({self.needs.describe()}); "
                f"add such a node, or lower executor.resources for it in kaipai.yaml"
            )
        self.waiting += 1
        try:
            while True:
                free = [m for m in self.members if m.ready and m.busy < self.per_worker]
                if free:
                    chosen = min(free, key=lambda m: m.busy)
                    chosen.busy += 1
                    return chosen
                if self.failures >= RESTARTS:
                    raise NotConfigured(
                        f"the workers of {self.label} die as they start ({self.last_failure}); is the same kaipai, "
                        "with this backend's extra, installed on every node? (README: Rendering on a Ray cluster)"
                    )
                while len(self.members) < self.replicas:
                    self._start()
                self._changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), 1.0)
        finally:
            self.waiting -= 1

    def release(self, member: Member) -> None:
        member.busy -= 1
        if member.busy == 0:
            member.idle_since = time.monotonic()
        self._changed.set()

    def starving(self, now: float, after: float) -> bool:
        """Jobs wait while a worker has not been placed for ``after`` seconds (its resources are held elsewhere)."""
        return self.waiting > 0 and any(not m.ready and now - m.started > after for m in self.members)

    def idle(self, now: float, after: float) -> list[Member]:
        return [m for m in self.members if m.ready and m.busy == 0 and now - m.idle_since > after]

    async def check(self) -> str:
        """The backend's own check, on a worker (placement problems are this capability's, said by its jobs)."""
        if self._unfit():
            return "no worker to ask"
        member = await self.member()
        try:
            answer = await member.actor.check.remote(self.name)
        finally:
            self.release(member)
        if isinstance(answer, Failure):
            raise answer.error()
        return str(answer)

    def broadcast_cancel(self) -> None:
        for m in self.members:
            with contextlib.suppress(Exception):  # a worker being replaced starts with nothing to cancel
                m.actor.cancel.remote()

    async def run(self, member: Member, job: Any) -> Any:
        return await member.actor.run.remote(self.name, self.spec, job)

    def close(self) -> None:
        """Let each backend release what it holds, then end its workers (from any thread)."""
        members, self.members = self.members, []
        closing = []
        for m in members:
            with contextlib.suppress(Exception):  # already gone
                closing.append(m.actor.close.remote(self.name))
        with contextlib.suppress(Exception):  # dead or stuck: killed below either way
            ray.wait(closing, num_returns=len(closing), timeout=5)
        if self.host is None:
            for m in members:
                with contextlib.suppress(Exception):
                    ray.kill(m.actor, no_restart=True)
