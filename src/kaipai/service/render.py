"""Rendering a project: the service API the CLI and the studio call.

``render`` builds what is not current (voices, shot audio, keyframes, clips, lip sync, music),
reusing every take whose key is unchanged; ``status`` says, per shot and stage, what is
current and what a render would do and cost. Both are synchronous: call them from a
worker thread in an async server (the render runs its own event loop).
"""

from __future__ import annotations

import dataclasses
import os
import socket
import threading

from kaipai.document.execution import ExecutorChoice
from kaipai.document.io import DocumentError, Problem
from kaipai.document.models import Document
from kaipai.engine.db import TakesDB
from kaipai.engine.engine import Engine, EngineSettings
from kaipai.engine.events import EventSink
from kaipai.engine.report import NodeStatus, RenderSummary
from kaipai.engine.stages import STAGES, with_along
from kaipai.project import ProjectPaths, load_document

__all__ = ["EngineSettings", "NodeStatus", "RenderSummary", "render", "status"]


def _selection(
    paths: ProjectPaths, doc: Document, stages: list[str] | set[str] | None, shots: list[str] | set[str] | None
) -> tuple[set[str] | None, set[str] | None]:
    problems = []
    for stage in stages or ():
        if stage not in STAGES:
            problems.append(
                Problem(
                    str(paths.document), 0, 0, "--stage", f"unknown stage {stage!r}; choose from {', '.join(STAGES)}"
                )
            )
    known = {s.id for s in doc.shots}
    for sid in shots or ():
        if sid not in known:
            problems.append(
                Problem(
                    str(paths.document), 0, 0, "shots", f"no shot {sid!r} in the document; 'kaipai shots' lists them"
                )
            )
    if problems:
        raise DocumentError(problems)
    return (with_along(set(stages)) if stages else None), (set(shots) if shots else None)


def _executor(paths: ProjectPaths, doc: Document, executor: str | None, address: str | None) -> ExecutorChoice | None:
    """The command line's executor over the document's (``--address`` alone means Ray)."""
    if executor is None and address is None:
        return None
    use = executor or "ray"
    where = str(paths.document)
    if use not in ("thread", "ray"):
        raise DocumentError([Problem(where, 0, 0, "--executor", f"unknown executor {use!r}; choose thread or ray")])
    if use == "thread" and address:
        raise DocumentError([Problem(where, 0, 0, "--address", "--address names a Ray cluster; use --executor ray")])
    return doc.executor.model_copy(update={"use": use, "address": address or doc.executor.address})


def _alive(driver: str) -> bool:
    """Whether the render that wrote a running row (host:pid) still runs; one on another host is taken at its word."""
    host, _, pid = driver.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def running_now(db: TakesDB) -> dict[str, str]:
    """node → the cluster worker rendering it, for renders still alive."""
    return {r["node"]: r["worker"] for r in db.running() if _alive(r["driver"])}


def render(
    paths: ProjectPaths,
    *,
    budget: float | None = None,
    dry_run: bool = False,
    stages: list[str] | set[str] | None = None,
    shots: list[str] | set[str] | None = None,
    on_event: EventSink | None = None,
    cancel: threading.Event | None = None,
    settings: EngineSettings | None = None,
    executor: str | None = None,
    address: str | None = None,
    best_of: int | None = None,
) -> RenderSummary:
    """Render the project's takes; return what was generated, reused, failed and spent.

    - ``budget``: a cost ceiling (in the backends' currency); work that would pass it is not started.
    - ``dry_run``: change nothing; the summary lists every node (``nodes``) with its state and
      the estimated cost and time of what would run.
    - ``stages``/``shots``: restrict the work (nodes outside still serve as inputs when current).
    - ``on_event``: receives :mod:`kaipai.engine.events` events on the calling thread.
    - ``cancel``: set it (from any thread) to stop: no new work starts and running jobs are asked to stop.
    - ``executor``/``address``: ``thread`` (this machine) or ``ray`` and the cluster's address, over the
      document's ``executor``.
    - ``best_of``: make this many takes of each keyframe, clip and lip sync that renders (of each
      stage in ``stages`` when given) and circle the best, overriding the document's ``qc`` policy.

    Raises DocumentError for an unusable document, RenderBusy when another render holds the project.
    """
    doc = load_document(paths)
    stage_set, shot_set = _selection(paths, doc, stages, shots)
    chosen_executor = _executor(paths, doc, executor, address)
    if chosen_executor is not None:
        settings = dataclasses.replace(settings or EngineSettings(), executor=chosen_executor)
    with TakesDB(paths.database) as db:
        engine = Engine(paths, doc, db, settings=settings, shots=shot_set if dry_run else None)
        if dry_run and not engine.by_key:
            engine.keys.enabled = False  # nothing rendered yet: no key to reuse, none worth keeping for status
        if not dry_run:
            return engine.render(
                stages=stage_set, shots=shot_set, budget=budget, on_event=on_event, cancel=cancel, best_of=best_of
            )
        try:
            statuses, _ = engine.plan(shot_set)
            chosen = [
                s
                for s in statuses
                if (stage_set is None or s.stage in stage_set) and (shot_set is None or s.shot in shot_set)
            ]
            running = [s for s in chosen if s.will_run]
            workers = running_now(db)
            for s in chosen:
                s.running_on = workers.get(s.node, s.running_on)
            return RenderSummary(
                dry_run=True,
                budget=budget,
                nodes=chosen,
                est_cost=round(sum(s.est_cost for s in running), 6),
                est_seconds=round(engine.eta(running), 3),
                reused=sum(1 for s in chosen if s.state == "current"),
                notes={sid: n for sid, n in engine.notes.items() if shot_set is None or sid in shot_set},
            )
        finally:
            engine.close()


def status(paths: ProjectPaths, shots: list[str] | set[str] | None = None) -> list[NodeStatus]:
    """Per shot and stage (and voice line): current / stale / missing / blocked / failed, with estimates.

    With ``shots``, only those shots' nodes (what they depend on is resolved, not listed): the
    studio asks for the shots on screen, not a feature film's thousands.
    """
    return render(paths, dry_run=True, shots=shots).nodes
