"""One render in flight: every node a task on one asyncio loop, awaiting its inputs, then
running within its backend's slots and rate limit, retried on transient failures, inside the
budget, and committed through the :class:`~kaipai.engine.engine.Engine`.

A take is made by :meth:`RenderRun.attempt`; :meth:`RenderRun.settle` ends the node with it (or
with why it was not made). Nodes quality control looks at go through :mod:`kaipai.engine.retakes`
in between, which may make more takes of the node before settling it on the best.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from typing import TYPE_CHECKING, Any

from kaipai.backends.base import BackendError, TransientError
from kaipai.engine.db import Take
from kaipai.engine.durations import write_durations
from kaipai.engine.events import (
    EventSink,
    NodeEvent,
    RenderDone,
    RenderPlanned,
    RenderTotals,
)
from kaipai.engine.executor import Executor, open_executor
from kaipai.engine.graph import Node
from kaipai.engine.jobs import Blocked, Missed, Prepared
from kaipai.engine.quality import PICTURE_STAGES, Quality
from kaipai.engine.report import RenderSummary
from kaipai.engine.retakes import render_checked
from kaipai.engine.scheduling import RateLimiter, Slots
from kaipai.engine.stages import STAGES

if TYPE_CHECKING:
    from kaipai.engine.engine import Engine


class RenderRun:
    """The state of one render in flight (one asyncio loop)."""

    def __init__(
        self,
        engine: Engine,
        stages: set[str] | None,
        shots: set[str] | None,
        forced: dict[str, int],
        budget: float | None,
        on_event: EventSink | None,
        cancel: threading.Event,
        circle_forced: bool | None,
        best_of: int | None = None,
    ) -> None:
        """``best_of`` (``render --best-of``) overrides the document's for the picture stages, or for
        the ``stages`` named."""
        self.e = engine
        self.stages = stages
        self.shots = shots
        self.forced = forced
        self.budget = budget
        self.sink = on_event
        self.cancel = cancel
        self.circle_forced = circle_forced
        self.summary = RenderSummary(budget=budget, notes=dict(engine.notes))
        self.spent = 0.0
        self.reserved = 0.0
        self.stopped: dict[str, str] = {}  # shot → why it was stopped
        self.resolved: dict[str, Take] = {}
        self.rng = random.Random(engine.settings.jitter_seed)
        self.quality = Quality(engine, best_of, frozenset(stages) if stages else PICTURE_STAGES)
        self.quality.cancel = cancel
        self.started = time.monotonic()
        self.voices_left = sum(1 for n in engine.graph.values() if n.stage == "voice")
        self.durations_task: asyncio.Task[list[str]] | None = None
        # A character's sheet is filed under the first shot showing them but serves them all:
        # rendering any picture that needs it renders it too, whatever the shot or stage filter.
        graph = engine.graph
        self.pulled = {d for n in graph.values() if self._chosen(n) for d in n.deps if graph[d].stage == "sheet"}

    def emit(self, event: Any) -> None:
        if self.sink is not None:
            self.sink(event)

    def node_event(self, kind: str, node: Node, **kw: Any) -> None:
        self.emit(NodeEvent(kind=kind, node=node.id, shot=node.shot, stage=node.stage, **kw))  # type: ignore[arg-type]

    def stopped_by(self, node: Node) -> str | None:
        """Why the node is not run because its shot was stopped by a failure, or None."""
        if node.shared or node.shot not in self.stopped:
            return None
        return f"shot stopped: {self.stopped[node.shot]}"

    def _chosen(self, node: Node) -> bool:
        return (self.stages is None or node.stage in self.stages) and (self.shots is None or node.shot in self.shots)

    def selected(self, node: Node) -> bool:
        return node.id in self.forced or self._chosen(node) or node.id in self.pulled

    async def main(self) -> RenderSummary:
        statuses, _ = self.e.plan()
        to_run: dict[str, int] = dict.fromkeys(STAGES, 0)
        reused: dict[str, int] = dict.fromkeys(STAGES, 0)
        est_cost = 0.0
        planned = []
        for st in statuses:
            node = self.e.graph[st.node]
            if st.node in self.forced or (st.will_run and self.selected(node)):
                planned.append(st)
                to_run[st.stage] += 1
                est_cost += st.est_cost
            elif st.state == "current":
                reused[st.stage] += 1
        self.emit(
            RenderPlanned(
                stages=to_run,
                reused=reused,
                est_seconds=self.e.eta([s for s in statuses if self.selected(self.e.graph[s.node])]),
                est_cost=est_cost,
            )
        )
        if planned:  # takes will be made and checked (a no-op loads no OpenCV)
            self.quality.warm()
        workers = sum(h.concurrency() for h in self.e.handles())
        self.executor: Executor = open_executor(self.e, planned, max(2, workers + 1))
        try:
            self.futures: dict[str, asyncio.Future[Take | None]] = {
                n: asyncio.get_running_loop().create_future() for n in self.e.graph
            }
            tasks = [asyncio.create_task(self.run_node(node)) for node in self.e.graph.values()]
            await asyncio.gather(*tasks)
        finally:
            await asyncio.to_thread(self.executor.close)
        for shot, breaks in self.quality.breaks().items():
            self.summary.flagged.setdefault(shot, []).extend(breaks)
        if self.quality.broken:
            first, more = self.quality.broken[0], len(self.quality.broken) - 1
            self.summary.notes["quality control"] = (
                f"could not check {first}{f' (and {more} more takes)' if more else ''}; those takes stand unchecked"
            )
        if self.durations_task is not None:
            try:
                self.summary.durations_updated = await self.durations_task
            except Exception as exc:  # the document changed under us; the takes are safe either way
                self.summary.failures["kaipai.yaml"] = f"shot durations not written back: {exc}"
        self.summary.cancelled = self.cancel.is_set()
        self.summary.seconds = round(time.monotonic() - self.started, 3)
        self.summary.cost = round(self.spent, 6)
        self.emit(
            RenderDone(
                totals=RenderTotals(
                    generated=self.summary.generated,
                    reused=self.summary.reused,
                    failed=self.summary.failed,
                    skipped=self.summary.skipped,
                    cost=self.summary.cost,
                    seconds=self.summary.seconds,
                    cancelled=self.summary.cancelled,
                )
            )
        )
        return self.summary

    def finish(self, node: Node, take: Take | None) -> None:
        if take is not None:
            self.resolved[node.id] = take
        self.futures[node.id].set_result(take)
        if node.stage == "voice":
            self.voices_left -= 1
            if self.voices_left == 0 and self.e.settings.write_durations:
                # Every voice is settled: shot lengths are known, so the document can say so now,
                # while pictures are still rendering.
                self.durations_task = asyncio.create_task(
                    asyncio.to_thread(write_durations, self.e.paths.document, self.e.shots, dict(self.resolved))
                )

    def skip(self, node: Node, reason: str) -> None:
        self.summary.skipped += 1
        if node.id in self.forced or self.selected(node):
            self.summary.failures.setdefault(node.id, reason)
        self.node_event("skipped", node, message=reason)
        self.finish(node, None)

    def fail(self, node: Node, reason: str, key: str | None = None, attempts: int = 1) -> None:
        self.summary.failed += 1
        self.summary.failures[node.id] = reason
        if not node.shared:
            self.stopped.setdefault(node.shot, f"{node.id} failed")
        if key is not None:
            self.e.db.record_failure(key, node.id, reason, attempts)
            self.e.failures[key] = reason
        self.node_event("failed", node, message=reason)
        self.finish(node, None)

    async def run_node(self, node: Node) -> None:
        upstream: dict[str, Take] = {}
        for dep in node.deps:
            take = await self.futures[dep]
            if take is None:
                self.skip(node, f"waits on {dep}, which did not render")
                return
            upstream[dep] = take
        prep = self.e.prepare(node, upstream, self.forced.get(node.id))
        if isinstance(prep, Blocked):
            if self.selected(node):
                self.fail(node, prep.reason)
            else:
                self.skip(node, prep.reason)
            return
        if prep.take is not None:  # a rejected take only comes back here when a retake names its seed
            self.summary.reused += 1
            self.node_event("reused", node, take_id=prep.take.id)
            self.finish(node, prep.take)
            return
        if not self.selected(node):
            self.skip(node, "not selected (--stage/--shot)")
            return
        if (why := self.stopped_by(node)) is not None:
            self.skip(node, why)
            return
        self.node_event("queued", node, est_seconds=prep.est_seconds)
        rules = self.quality.rules(node)
        if rules is None:
            self.settle(node, await self.attempt(node, prep, self.circle_for(node)))
        else:
            await render_checked(self, node, prep, upstream, rules)

    def circle_for(self, node: Node) -> bool | None:
        """Whether the node's new take is circled: a retake per ``circle_forced``; any other, yes (the
        document changed on purpose)."""
        return self.circle_forced if node.id in self.forced else True

    def settle(self, node: Node, got: Take | Missed, cost: float | None = None) -> None:
        """End the node with its take (``cost``: of every take it made, when more than one), or with why
        there is none."""
        if isinstance(got, Missed):
            if got.skipped:
                self.skip(node, got.reason)
            else:
                self.fail(node, got.reason, got.key, got.attempts)
            return
        self.summary.takes[node.id] = got.id
        spent = got.cost if cost is None else cost
        self.node_event("done", node, take_id=got.id, cost=spent, seconds=got.seconds)
        self.finish(node, got)

    async def attempt(self, node: Node, prep: Prepared, circle: bool | None) -> Take | Missed:
        """Make and store one take of the node: within its backend's slots, rate limit and the budget,
        retrying transient failures."""
        cap = node.capability
        if prep.backend is not None and cap is not None:
            slots, limiter = prep.backend.limits(cap, self.executor.width(prep.backend, cap))
            if not prep.backend.checked:
                prep.backend.checked = True
                try:
                    await self.executor.check(prep.backend, cap)
                except BackendError as exc:
                    prep.backend.error = str(exc)
            if prep.backend.error:
                return Missed(prep.backend.error, key=prep.key)
        else:
            slots, limiter = Slots(1_000_000), RateLimiter(None)
        priority = (0 if node.stage == "voice" else 1, node.position, STAGES.index(node.stage))
        loop = asyncio.get_running_loop()

        def progress(fraction: float, message: str, where: str = "") -> None:
            loop.call_soon_threadsafe(
                lambda: self.node_event("progress", node, fraction=fraction, message=message, where=where)
            )

        attempt = 0
        while True:
            attempt += 1
            await slots.acquire(priority)
            transient: TransientError | None = None
            reserved = generated_ok = False
            try:
                if self.cancel.is_set():
                    return Missed("cancelled", skipped=True)
                if (why := self.stopped_by(node)) is not None:
                    return Missed(why, skipped=True)
                if self.budget is not None and self.spent + self.reserved + prep.est_cost > self.budget + 1e-9:
                    left = max(0.0, self.budget - self.spent - self.reserved)
                    why = f"over budget: needs {prep.est_cost:.2f}, {left:.2f} of {self.budget:.2f} left"
                    return Missed(why, skipped=True)
                self.reserved += prep.est_cost
                reserved = True
                await limiter.wait()
                self.node_event("started", node, est_seconds=prep.est_seconds)
                generated = await self.executor.generate(self.e, prep, self.cancel, progress)
                generated_ok = True
            except TransientError as exc:
                transient = exc
            except BackendError as exc:
                self.e.forget_job(prep.key)
                return Missed(str(exc), key=prep.key, attempts=attempt)
            except Exception as exc:  # a backend bug must not take the whole render down
                return Missed(f"{type(exc).__name__}: {exc}", key=prep.key, attempts=attempt)
            finally:
                slots.release()  # the provider is free again; storing the result does not need it
                if reserved and not generated_ok:
                    self.reserved -= prep.est_cost
            if transient is not None:
                if attempt >= self.e.settings.retry.max_attempts:
                    return Missed(f"gave up after {attempt} attempts: {transient}", key=prep.key, attempts=attempt)
                wait = self.e.settings.retry.delay(attempt, transient.retry_after, self.rng)
                self.node_event(
                    "retry", node, message=f"attempt {attempt} failed ({transient}); retrying in {wait:.1f} s"
                )
                if await self._sleep_or_cancel(wait):
                    return Missed("cancelled", skipped=True)
                continue
            try:
                take = await self.executor.run(self.e.commit, prep, generated, attempt, circle)
            except Exception as exc:
                why = f"the result could not be stored: {type(exc).__name__}: {exc}"
                return Missed(why, key=prep.key, attempts=attempt)
            finally:
                self.reserved -= prep.est_cost
            self.spent += take.cost
            self.summary.generated += 1
            return take

    async def _sleep_or_cancel(self, seconds: float) -> bool:
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            if self.cancel.is_set():
                return True
            await asyncio.sleep(min(left, 0.1))
        return self.cancel.is_set()
