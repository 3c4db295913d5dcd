"""The render engine: resolve the artifact graph against the takes database, run what is
not current, and record every result as a new take.

A node is resolved in two steps. When all its inputs are current, its request is built,
snapped to what the backend accepts and checked (so nothing impossible is paid for), and
its key computed; a take with that key is a cache hit. Otherwise the node runs, within its
backend's concurrency and rate limits, with retries for transient failures, inside the
cost budget. Results move into the content-addressed store and are committed to the
database in one transaction; an asynchronous backend's job id is committed before it is
waited on, so a killed render resumes the job instead of paying for it twice.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import shutil
import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kaipai.backends.base import (
    BackendError,
    CapabilitySheet,
    JobContext,
    Result,
    UnsupportedRequest,
    VideoRequest,
    call_backend,
    check_request,
    snap_request,
)
from kaipai.backends.registry import Registry
from kaipai.document.backend_choice import BackendChoice
from kaipai.document.execution import ExecutorChoice
from kaipai.document.models import Document
from kaipai.document.shots import Shot
from kaipai.engine import requests as rq
from kaipai.engine.db import Take, TakesDB
from kaipai.engine.events import EventSink
from kaipai.engine.graph import Node, cue_length, effective_duration, graph_of, needed, place_lines
from kaipai.engine.inputs import Sources, build, end_frame_refusal
from kaipai.engine.jobs import (
    BackendHandle,
    Blocked,
    Generated,
    Prepared,
    estimate,
    fresh_scratch,
    generated,
    speech_seconds,
)
from kaipai.engine.keys import ENGINE_VERSION, artifact_key, default_seed, file_digest, inputs_key
from kaipai.engine.lock import render_lock
from kaipai.engine.memo import KeyMemo
from kaipai.engine.report import NodeStatus, RenderSummary
from kaipai.engine.routing import lipsync_routes
from kaipai.engine.scheduling import RetryPolicy
from kaipai.engine.store import Store
from kaipai.project import ProjectPaths

ENGINE_BACKEND = "kaipai"  # the "backend" of computed artifacts (shot_audio)


@dataclass(frozen=True)
class EngineSettings:
    """Knobs a user rarely touches; tests and benchmarks shorten the backoff."""

    retry: RetryPolicy = field(default_factory=RetryPolicy)
    write_durations: bool = True
    jitter_seed: int | None = None
    executor: ExecutorChoice | None = None  # where jobs run; None: the document's ``executor``


class Engine:
    """Resolves and renders one document against one project's store and database."""

    def __init__(
        self,
        paths: ProjectPaths,
        doc: Document,
        db: TakesDB,
        *,
        registry: Registry | None = None,
        settings: EngineSettings | None = None,
        shots: set[str] | None = None,
    ) -> None:
        self.paths = paths
        self.doc = doc
        self.db = db
        self.store = Store(paths.store)
        self.registry = registry or Registry()
        self.settings = settings or EngineSettings()
        self.shots: dict[str, Shot] = {s.id: s for s in doc.shots}
        self._lock = threading.RLock()
        self._backends: dict[str, BackendHandle] = {}
        self._choices: dict[str, BackendChoice] = {}
        self._handle_of: dict[int, tuple[BackendChoice, BackendHandle]] = {}
        self._digests: dict[Path, str] = {}
        self._sheet_marks: dict[tuple[int, str], str] = {}
        self.keys = KeyMemo(paths.state / "cache" / "keys.json", doc, paths.root, enabled=shots is None)
        routes = lipsync_routes(doc, self._video_sheet_or_none)
        self.graph = graph_of(doc, routes)
        #: shot id → what a director should know about it (dialogue that is not lip-synced)
        self.notes: dict[str, str] = {sid: r.note for sid, r in routes.items() if r.note}
        self.sources = Sources(
            doc, self.shots, lambda media: self.store.path(media), self._resolve, self._file_digest, self._video_sheet
        )
        self._prepared: dict[tuple[Any, ...], Prepared | Blocked] = {}
        self.by_key: dict[str, Take] = {}
        self.by_node: dict[str, list[Take]] = defaultdict(list)
        self.circled: dict[str, Take] = {}
        self.scope = shots  # a status of these shots only: their takes and those of what they depend on
        self._scoped = None if shots is None else needed(self.graph, shots)
        scoped = None if self._scoped is None else {n.shot for n in self._scoped}
        for take in db.all_takes() if scoped is None else db.takes_for_shots(scoped):
            self.remember(take)
        self.failures = db.failures()
        self.jobs = db.jobs()  # key → job id of submitted asynchronous jobs (this engine is their only writer)

    # ------------------------------------------------------------------ bookkeeping

    def remember(self, take: Take) -> None:
        """Hold a new or changed take in memory (the one circled take per node follows it)."""
        with self._lock:
            old = self.by_key.get(take.key)
            if old is not None:
                self.by_node[take.node] = [t for t in self.by_node[take.node] if t.id != old.id]
            self.by_key[take.key] = take
            self.by_node[take.node].append(take)
            if take.status == "circled":
                prev = self.circled.get(take.node)
                if prev is not None and prev.id != take.id:
                    demoted = copy.copy(prev)  # its JSON columns stay as read
                    demoted.status = "pending"
                    self.by_key[prev.key] = demoted
                    self.by_node[take.node] = [demoted if t.id == prev.id else t for t in self.by_node[take.node]]
                self.circled[take.node] = take

    def close(self) -> None:
        """Release the backends; keep the keys computed for the next run."""
        self.keys.save()
        for handle in self._backends.values():
            handle.close()
        self._backends.clear()
        self._handle_of.clear()
        self._sheet_marks.clear()  # keyed by the handles' ids, which new handles may take

    def handles(self) -> list[BackendHandle]:
        return list(self._backends.values())

    def circled_takes(self) -> list[Take]:
        """The circled take of every node, as of now (safe while a render is changing them)."""
        with self._lock:
            return list(self.circled.values())

    def choice(self, node: Node) -> BackendChoice:
        found = self._choices.get(node.id)  # asked several times per node; a feature film has thousands
        if found is None:
            found = self._choices[node.id] = self._choose(node)
        return found

    def _choose(self, node: Node) -> BackendChoice:
        shot = self.shots[node.shot]
        if node.stage == "voice":
            line = next(d for d in shot.dialogue if d.id == node.item)
            return rq.speech_choice(self.doc, shot, self.doc.character(line.speaker))
        cap = node.capability
        assert cap is not None
        return self.doc.backend_for(cap, None if node.shared else shot)

    def handle(self, choice: BackendChoice) -> BackendHandle:
        known = self._handle_of.get(id(choice))
        if known is not None and known[0] is choice:
            return known[1]
        ident = json.dumps([choice.use, choice.model, choice.options], sort_keys=True, default=str)
        with self._lock:
            if ident not in self._backends:
                self._backends[ident] = BackendHandle(choice, self.registry, self.paths.root)
            self._handle_of[id(choice)] = (choice, self._backends[ident])
            return self._backends[ident]

    def _video_sheet(self, shot: Shot) -> CapabilitySheet:
        return self.handle(self.doc.backend_for("video", shot)).sheet("video")

    def _video_sheet_or_none(self, shot: Shot) -> CapabilitySheet | None:
        try:
            return self._video_sheet(shot)
        except BackendError:
            return None

    def _file_digest(self, path: Path) -> str:
        self.keys.hashed(path)
        if path not in self._digests:
            if not path.exists():
                raise FileNotFoundError(
                    f"{path} does not exist; add it to the project or remove the reference from kaipai.yaml"
                )
            self._digests[path] = file_digest(path)
        return self._digests[path]

    def _resolve(self, relative: str) -> Path:
        return self.paths.inside(relative)

    # ------------------------------------------------------------------ resolving one node

    def _shot_audio(self, node: Node, upstream: dict[str, Take], recall: bool) -> Prepared:
        mark = self.keys.mark(node.id, node.deps, upstream, ENGINE_BACKEND + ENGINE_VERSION)
        ik = self.keys.recall(node.id, mark) if recall else None
        if ik is not None and (take := self._usable(key := artifact_key(ik, 0))) is not None:
            return Prepared(node, None, None, {}, ik, 0, key, {}, take, 0.0, 0.0, recalled=True)
        shot = self.shots[node.shot]
        voices = [upstream[d] for d in node.deps]
        durations = {t.item: float(t.duration or 0.0) for t in voices}
        placed = place_lines(shot, durations)
        length = effective_duration(shot, durations)
        lines = [(self.store.path(t.media), p.start) for t, p in zip(voices, placed)]
        params = {"length": length, "lines": [[p.line, p.speaker, p.start, p.end, p.on_screen] for p in placed]}
        inputs = {d: upstream[d].key for d in node.deps}
        ik = inputs_key(node.stage, node.id, inputs, ENGINE_BACKEND, ENGINE_VERSION, "", params)
        self.keys.learn(node.id, mark, [], ik)
        key = artifact_key(ik, 0)
        return Prepared(node, None, None, inputs, ik, 0, key, params, self._usable(key), 0.0, 0.0, lines, length)

    def _usable(self, key: str) -> Take | None:
        take = self.by_key.get(key)
        return take if take is not None and take.status != "rejected" else None

    def prepare(self, node: Node, upstream: dict[str, Take], seed: int | None = None) -> Prepared | Blocked:
        """Build, snap and check the node's request and compute its key (inputs must be current).

        Memoised on the node, its inputs' keys and the seed: the status computed before a
        render is reused by the render itself. A node whose key the previous run left (see
        :mod:`kaipai.engine.memo`) and whose take is usable gets no request: it will not run.
        """
        memo = (node.id, tuple(upstream[d].key for d in node.deps), seed)
        with self._lock:
            found = self._prepared.get(memo)
        if found is None:
            found = self._prepare(node, upstream, seed)
            with self._lock:
                self._prepared[memo] = found
        if isinstance(found, Prepared):
            found.take = self.by_key.get(found.key)
            if found.recalled and self._usable(found.key) is None:
                found = self._prepare(node, upstream, seed, recall=False)  # it must run after all
                with self._lock:
                    self._prepared[memo] = found
        return found

    def _prepare(
        self, node: Node, upstream: dict[str, Take], seed: int | None, recall: bool = True
    ) -> Prepared | Blocked:
        if node.stage == "shot_audio":
            return self._shot_audio(node, upstream, recall and seed is None)
        shot = self.shots[node.shot]
        choice = self.choice(node)
        handle = self.handle(choice)
        cap = node.capability
        assert cap is not None
        try:
            sheet = handle.sheet(cap)
            mark = self.keys.mark(node.id, node.deps, upstream, self._backend_mark(node, shot, handle, cap))
            if recall and seed is None and (ik := self.keys.recall(node.id, mark)) is not None:
                chosen = self._seed(node, shot, ik, None)
                if not isinstance(chosen, Blocked) and (take := self._usable(chosen[1])) is not None:
                    return Prepared(node, handle, None, {}, ik, chosen[0], take.key, {}, take, 0.0, 0.0, recalled=True)
            with self.keys.watching() as hashed:
                deps = {d: upstream[d] for d in node.deps}  # a status passes every take resolved so far
                built = build(self.sources, node, shot, deps, choice, sheet)
                request, media_seconds = built.request, built.media_seconds
                request = snap_request(sheet, request)
                check_request(sheet, request)
                params = rq.key_params(request, self._file_digest, self._resolve)
        except (BackendError, FileNotFoundError) as exc:
            return Blocked(str(exc))
        except Exception as exc:  # a document problem: one message, not a traceback
            return Blocked(f"{type(exc).__name__}: {exc}")
        if isinstance(request, VideoRequest):
            media_seconds = request.duration
        model = choice.model or sheet.model
        # A clip follows its keyframes and its length, music and ambience their span and its length;
        # the voices only decide lengths, so a reworded line of the same length leaves them alone. The
        # sheets reach a clip only as reference images, which its params hold by content. An effect
        # follows the clip only when the backend makes sound from the picture.
        inputs = {
            d: upstream[d].key
            for d in node.deps
            if not (node.stage in ("clip", "music", "ambience") and "/voice/" in d)
            and not (node.stage == "clip" and "/sheet/" in d)
            and not (node.stage == "sfx" and not sheet.video_input)
        }
        ik = inputs_key(node.stage, node.id, inputs, handle.name, handle.version, model, params)
        self.keys.learn(node.id, mark, hashed, ik)
        chosen = self._seed(node, shot, ik, seed)
        if isinstance(chosen, Blocked):
            return chosen
        seed, key = chosen
        cost, secs = estimate(sheet, request, media_seconds)
        request = request.model_copy(update={"seed": seed})
        prep = Prepared(node, handle, request, inputs, ik, seed, key, params, self.by_key.get(key), cost, secs)
        prep.provenance = built.provenance
        return prep

    def _seed(self, node: Node, shot: Shot, ik: str, seed: int | None) -> tuple[int, str] | Blocked:
        """The seed and key: the seed asked for; else the shot's fixed seed, the circled take's, or the
        node's own, passing over seeds whose take was rejected."""
        if seed is not None:
            return seed, artifact_key(ik, seed)
        fixed = shot.generation.seed
        if fixed is not None:
            seed = fixed
        elif node.id in self.circled:
            seed = self.circled[node.id].seed
        else:
            seed = default_seed(node.id)
        salt = 0
        while (t := self.by_key.get(key := artifact_key(ik, seed))) is not None and t.status == "rejected":
            if fixed is not None:
                return Blocked(
                    f"take {t.id} was rejected and the shot fixes generation.seed = {fixed}; change or remove the seed"
                )
            salt += 1
            seed = default_seed(node.id, salt)
        return seed, key

    def _backend_mark(self, node: Node, shot: Shot, handle: BackendHandle, cap: str) -> str:
        """The backend a node's key follows (name, version, capability sheet); an end keyframe's also
        follows the shot's video model (whether it takes a last frame)."""
        mark = self._sheet_mark(handle, cap)
        if node.stage == "end_keyframe":
            mark += "|" + self._sheet_mark(self.handle(self.doc.backend_for("video", shot)), "video")
        return mark

    def _sheet_mark(self, handle: BackendHandle, cap: str) -> str:
        found = self._sheet_marks.get((id(handle), cap))
        if found is None:
            sheet = handle.sheet(cap).model_dump_json()
            found = self._sheet_marks[(id(handle), cap)] = f"{handle.label}@{handle.version}:{sheet}"
        return found

    def rough_estimate(self, node: Node) -> tuple[float, float, str | None]:
        """Cost and time of a node whose inputs are not rendered yet (no key can be computed)."""
        if node.stage == "shot_audio":
            return 0.0, 0.0, None
        shot = self.shots[node.shot]
        try:
            sheet = self.handle(self.choice(node)).sheet(node.capability or "")
            if node.stage in ("end_keyframe", "clip"):  # an end the video model cannot take: say so before any render
                video = self.doc.backend_for("video", shot)
                if refusal := end_frame_refusal(shot, self._video_sheet(shot), video):
                    raise UnsupportedRequest(refusal)
        except BackendError as exc:
            return 0.0, 0.0, str(exc)
        seconds = shot.duration
        if node.stage == "voice":
            text = next(d.text for d in shot.dialogue if d.id == node.item)
            seconds = speech_seconds(text)
        elif node.stage in ("music", "ambience"):
            seconds = rq.bed_seconds(sheet, cue_length([self.shots[s] for s in node.span], None, self.doc.project.fps))
        cost, secs = estimate(sheet, None, seconds)
        return cost, secs, None

    # ------------------------------------------------------------------ status

    def plan(self, shots: set[str] | None = None) -> tuple[list[NodeStatus], dict[str, Take]]:
        """The state of every node (or of ``shots``' nodes and their inputs), and each one's current take."""
        resolved: dict[str, Take] = {}
        states: dict[str, str] = {}
        out: list[NodeStatus] = []
        shots = shots or self.scope
        if shots is None:
            nodes: Iterable[Node] = self.graph.values()
        else:
            nodes = self._scoped if shots == self.scope and self._scoped is not None else needed(self.graph, shots)
        for node in nodes:
            has_takes = bool(self.by_node.get(node.id))
            circled = self.circled.get(node.id)
            status = NodeStatus(
                node=node.id,
                shot=node.shot,
                stage=node.stage,
                item=node.item,
                state="missing",
                take_id=circled.id if circled else None,
            )
            bad = [d for d in node.deps if states.get(d) in ("blocked", "failed")]
            if bad:
                status.state, status.reason = "blocked", f"waits on {bad[0]}"
            elif any(d not in resolved for d in node.deps):
                cost, secs, error = self.rough_estimate(node)
                if error:
                    status.state, status.reason = "blocked", error
                else:
                    status.state = "stale" if has_takes else "missing"
                    status.est_cost, status.est_seconds = cost, secs
            else:
                prep = self.prepare(node, resolved)
                if isinstance(prep, Blocked):
                    status.state, status.reason = "blocked", prep.reason
                else:
                    status.key, status.inputs_key = prep.key, prep.inputs_key
                    status.backend = prep.backend.label if prep.backend else ENGINE_BACKEND
                    if prep.take is not None and prep.take.status != "rejected":
                        status.state, status.take_id = "current", prep.take.id
                        resolved[node.id] = prep.take
                    else:
                        status.state = "failed" if prep.key in self.failures else ("stale" if has_takes else "missing")
                        status.reason = self.failures.get(prep.key, "")
                        status.est_cost, status.est_seconds = prep.est_cost, prep.est_seconds
            if not status.backend and node.stage != "shot_audio":
                status.backend = self.handle(self.choice(node)).label
            states[node.id] = status.state
            out.append(status)
        return out, resolved

    def eta(self, statuses: list[NodeStatus]) -> float:
        """Rough wall time of the work that would run: per backend, its work over its concurrency."""
        load: dict[str, float] = defaultdict(float)
        width: dict[str, int] = {}
        for st in statuses:
            if st.will_run and st.stage != "shot_audio":
                node = self.graph[st.node]
                handle = self.handle(self.choice(node))
                try:
                    width[st.backend + st.stage] = handle.sheet(node.capability or "").max_concurrency
                except BackendError:
                    continue
                load[st.backend + st.stage] += st.est_seconds
        return max((load[k] / max(1, width[k]) for k in load), default=0.0)

    # ------------------------------------------------------------------ rendering

    def render(
        self,
        *,
        stages: set[str] | None = None,
        shots: set[str] | None = None,
        forced: dict[str, int] | None = None,
        budget: float | None = None,
        on_event: EventSink | None = None,
        cancel: threading.Event | None = None,
        circle_forced: bool | None = None,
        best_of: int | None = None,
    ) -> RenderSummary:
        """Render what is not current among the selected nodes (all by default).

        ``forced`` (node → seed) makes new takes of those nodes whatever their state (a
        retake); they are circled per ``circle_forced`` (None: only if the node has no
        circled take). Every other new take is circled: the document changed on purpose.
        Quality control checks every take and may make more (``best_of``: see RenderRun).
        """
        with render_lock(self.paths):
            self._clean_scratch()
            from kaipai.engine.run import RenderRun

            run = RenderRun(
                self, stages, shots, forced or {}, budget, on_event, cancel or threading.Event(), circle_forced, best_of
            )
            try:
                return asyncio.run(run.main())
            finally:
                self.close()

    def _clean_scratch(self) -> None:
        if self.paths.jobs.exists():
            shutil.rmtree(self.paths.jobs, ignore_errors=True)
        self.store.sweep_incoming()

    # -- executed in worker threads

    def generate(self, prep: Prepared, cancel: threading.Event, progress: Any) -> Generated:
        """Run one job in a fresh scratch folder (in a worker thread, holding a backend slot)."""
        scratch = fresh_scratch(self.paths.jobs, prep)
        started = time.monotonic()
        try:
            if prep.node.stage == "shot_audio":
                from kaipai.engine.audio import mix_lines  # numpy and PyAV: only when audio is made

                out = scratch / "shot_audio.wav"
                length = mix_lines(prep.audio_lines, prep.audio_length, out)
                return Generated(
                    Result(files=[out], duration=length),
                    ENGINE_BACKEND,
                    ENGINE_VERSION,
                    "",
                    time.monotonic() - started,
                    scratch,
                )
            assert prep.backend is not None and prep.backend.instance is not None and prep.request is not None
            handle = prep.backend
            ctx = JobContext(
                out_dir=scratch,
                key=prep.key,
                job_id=self.jobs.get(prep.key),
                on_job_id=lambda job_id: self.record_job(prep, handle.name, job_id),
                on_progress=progress,
                cancel_event=cancel,
            )
            result = call_backend(handle.instance, prep.request, ctx)
            return generated(prep, result, time.monotonic() - started, scratch)
        except BaseException:
            shutil.rmtree(scratch, ignore_errors=True)
            raise

    def commit(self, prep: Prepared, gen: Generated, attempts: int, circle: bool | None) -> Take:
        """Move a job's files into the store and record its take (in a worker thread, slot released)."""
        try:
            return self._commit(
                prep, gen.result, gen.backend, gen.version, gen.model, gen.seconds, attempts, circle, gen.scratch
            )
        finally:
            try:
                gen.scratch.rmdir()  # empty once its files moved into the store
            except OSError:
                shutil.rmtree(gen.scratch, ignore_errors=True)

    def record_job(self, prep: Prepared, backend: str, job_id: str) -> None:
        self.db.record_job(prep.key, prep.node.id, backend, job_id)  # committed before the backend waits
        with self._lock:
            self.jobs[prep.key] = job_id

    def forget_job(self, key: str) -> None:
        with self._lock:
            had = self.jobs.pop(key, None)
        if had is not None:
            self.db.clear_job(key)

    def _commit(
        self,
        prep: Prepared,
        result: Result,
        backend: str,
        version: str,
        model: str,
        seconds: float,
        attempts: int,
        circle: bool | None,
        scratch: Path,
    ) -> Take:
        if not result.files:
            raise BackendError(f"{backend} returned no file for {prep.node.id}")
        for f in result.files:
            if not Path(f).is_file():
                raise BackendError(f"{backend} said it wrote {f}, but there is no such file")
        duration = result.duration
        if duration is None and prep.node.stage == "voice":
            from kaipai.engine.audio import read_mono

            samples, rate = read_mono(Path(result.files[0]))
            duration = len(samples) / rate
        inside = str(scratch) + os.sep
        stored = [self.store.put(Path(f), move=str(f).startswith(inside)) for f in result.files]
        request = (
            prep.request.model_dump(mode="json", exclude={"shot", "scene", "characters", "style", "character"})
            if prep.request
            else {}
        )
        take = self.db.add_take(
            {
                "node": prep.node.id,
                "shot": prep.node.shot,
                "stage": prep.node.stage,
                "item": prep.node.item,
                "key": prep.key,
                "inputs_key": prep.inputs_key,
                "seed": prep.seed,
                "backend": backend,
                "backend_version": version,
                "model": model,
                "params": prep.params,
                "request": request,
                "media": stored[0],
                "files": stored,
                "duration": duration,
                "width": result.width,
                "height": result.height,
                "fps": result.fps,
                "cost": result.cost or prep.est_cost,
                "seconds": round(seconds, 3),
                "attempts": attempts,
                "metadata": {**result.metadata, **prep.provenance},
            },
            circle=circle,
            clear=prep.key in self.jobs or prep.key in self.failures,
        )
        with self._lock:
            self.jobs.pop(prep.key, None)
            self.failures.pop(prep.key, None)
        self.remember(take)
        return take
