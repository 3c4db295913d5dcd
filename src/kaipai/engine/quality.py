"""Quality control inside the engine: which nodes are checked, what a take is checked against, the
judge it is shown to, and the take that gets circled.

:mod:`kaipai.qc` measures; this module knows the engine's side — the document, the takes database,
the backends — and turns a stored take into a :class:`~kaipai.qc.inspect.Subject`. The report is
stored with the take (``takes.qc``) before anything is decided on it, so a render killed while
retaking loses no measurement.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from kaipai.backends.base import JobContext, JudgeRequest, Verdict, call_backend
from kaipai.document.backend_choice import BackendChoice
from kaipai.document.qc import QCRules, qc_rules
from kaipai.document.shots import Shot
from kaipai.engine import requests as rq
from kaipai.engine.breaks import breaks
from kaipai.engine.db import Take
from kaipai.engine.graph import Node, node_id
from kaipai.engine.jobs import estimate
from kaipai.qc.report import QC_STAGES, QCReport

if TYPE_CHECKING:
    from kaipai.engine.engine import Engine
    from kaipai.qc.inspect import Judge, Subject

#: Files quality control can read; anything else (a simulated byte stand-in) is left unchecked.
MEDIA = frozenset({".png", ".jpg", ".jpeg", ".webp", ".mp4", ".mov", ".webm", ".mkv", ".wav", ".mp3", ".flac", ".m4a"})
#: Stages ``--best-of`` applies to when no stage is named: the pictures.
PICTURE_STAGES = frozenset({"keyframe", "end_keyframe", "clip", "lipsync"})


class Quality:
    """Quality control for one engine (a render, or ``kaipai qc``)."""

    def __init__(
        self, engine: Engine, best_of: int | None = None, best_of_stages: frozenset[str] = PICTURE_STAGES
    ) -> None:
        self.e = engine
        self.best_of = best_of
        self.best_of_stages = best_of_stages
        self.cancel = threading.Event()
        #: Checks run beside the backends' work, on this machine (where the store and the database are),
        #: at most one per core: they are CPU work and ffmpeg processes.
        self.slots = asyncio.Semaphore(max(1, os.cpu_count() or 1))
        #: Checks that broke instead of answering, for the render's notes.
        self.broken: list[str] = []

    async def check(self, node: Node, take: Take, rules: QCRules) -> QCReport | None:
        """:meth:`inspect` off the event loop, within the machine's cores.

        A check that breaks (a library missing a part, a bug) leaves the take unchecked: quality control
        never fails a render, and a take it could not judge is not retaken and paid for again."""
        async with self.slots:
            try:
                return await asyncio.to_thread(self.inspect, node, take, rules)
            except Exception as exc:  # whatever broke, the take stands unchecked
                self.broken.append(f"{node.id} take {take.id}: {type(exc).__name__}: {exc}")
                return None

    @staticmethod
    def warm() -> None:
        """Load OpenCV on this thread before workers use it: its first import is not thread-safe."""
        import cv2  # noqa: F401

    # ------------------------------------------------------------------ rules and subjects

    def rules(self, node: Node) -> QCRules | None:
        """The node's rules, or None for a stage quality control does not look at (shot audio)."""
        if node.stage not in QC_STAGES:
            return None
        shot = None if node.shared else self.e.shots.get(node.shot)
        best_of = self.best_of if node.stage in self.best_of_stages else None
        return qc_rules(self.e.doc, shot, node.stage, best_of=best_of)

    def _stored(self, recorded: str) -> Path:
        """A file a request named, found in this project's store: a request records the path as the render
        saw it (relative to where it ran), so a check made from another folder looks it up by its store name."""
        path = Path(recorded)
        stored = self.e.store.path(f"{path.parent.name}/{path.name}")
        return stored if stored.exists() else path

    def subject(self, node: Node, take: Take) -> Subject:
        from kaipai.qc.inspect import Subject  # numpy and OpenCV: only when a take is checked

        doc, req = self.e.doc, take.request
        shot = None if node.shared else self.e.shots.get(node.shot)
        if shot is not None and node.stage == "end_keyframe":
            shot = shot.end_state()  # the last frame is checked against where the shot ends
        framed = rq.framed_characters(doc, shot) if shot is not None else []
        if node.stage == "sheet" and doc.character(node.item) is not None:
            framed = [doc.character(node.item)]  # type: ignore[list-item]
        drawn = own_sound = False
        try:
            sheet = self.e.handle(self.e.choice(node)).sheet(node.capability or "")
            drawn, own_sound = sheet.drawn, sheet.native_audio and node.stage == "clip"
        except Exception:  # a backend no longer set up: check the file as it is
            pass
        scene = doc.scene(shot.scene) if shot is not None else None
        wanted = {c.id for c in framed}
        speakers = [tuple(s) for s in req.get("speakers", [])] if node.stage == "lipsync" else []
        voice = self._stored(req["audio"]) if req.get("audio") and (speakers or node.stage == "clip") else None
        if node.stage == "clip" and voice is not None:
            speakers = self._speakers(node.shot)
        return Subject(
            stage=node.stage,
            media=self.e.store.path(take.media),
            shot=shot,
            names={c.id: c.name for c in doc.cast.characters},
            size=(int(req["width"]), int(req["height"])) if req.get("width") and req.get("height") else None,
            fps=float(req["fps"]) if req.get("fps") else None,
            seconds=float(req["duration"]) if req.get("duration") else None,
            drawn=drawn,
            own_sound=own_sound,
            voice=voice,
            speakers=speakers,  # type: ignore[arg-type]
            prompt=str(req.get("prompt") or ""),
            characters=framed,
            references=self._references(framed),
            continuity=[e for e in scene.continuity if e.character in wanted] if scene is not None else [],
            language=doc.project.language.value,
        )

    def _speakers(self, shot: str) -> list[tuple[str, float, float]]:
        audio = self.e.circled.get(node_id(shot, "shot_audio"))
        lines = audio.params.get("lines", []) if audio is not None else []
        return [(str(x[1]), float(x[2]), float(x[3])) for x in lines if x[4]]

    def _references(self, framed: list) -> dict[str, Path]:  # type: ignore[type-arg]
        out: dict[str, Path] = {}
        for c in framed:
            if c.reference_images:
                out[c.id] = self.e.paths.inside(c.reference_images[0])
                continue
            sheet = next((t for t in self.e.circled_takes() if t.stage == "sheet" and t.item == c.id), None)
            if sheet is not None:
                out[c.id] = self.e.store.path(sheet.media)
        return out

    # ------------------------------------------------------------------ the judge

    def judge(self, shot: Shot | None) -> Judge | None:
        """The document's judge (``backends.judge``, or the shot's own), or None when none is set."""
        own = shot.generation.backends.get("judge") if shot is not None else None
        choice: BackendChoice | None = own or self.e.doc.backends.get("judge")
        if choice is None:
            return None
        handle = self.e.handle(choice)

        def ask(request: JudgeRequest) -> tuple[Verdict, float]:
            sheet = handle.sheet("judge")
            assert handle.instance is not None
            scratch = self.e.paths.jobs / f"judge-{uuid.uuid4().hex[:12]}"
            scratch.mkdir(parents=True, exist_ok=True)
            try:
                ctx = JobContext(out_dir=scratch, key=f"judge-{scratch.name}", cancel_event=self.cancel)
                result = call_backend(handle.instance, request, ctx)
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
            verdict = Verdict.model_validate(result.metadata.get("verdict") or {})
            return verdict, result.cost or estimate(sheet, request, 0.0)[0]

        return ask

    # ------------------------------------------------------------------ checking and choosing

    def inspect(self, node: Node, take: Take, rules: QCRules) -> QCReport | None:
        """Check a take and store the report with it (in a worker thread). None: not a file QC reads."""
        from kaipai.qc.inspect import inspect

        subject = self.subject(node, take)
        if subject.media.suffix.lower() not in MEDIA:
            return None
        report = inspect(subject, rules, self.judge(subject.shot))
        data = report.model_dump(mode="json")
        self.e.db.set_qc(take.id, data)
        take.qc = data
        return report

    def circle(self, take: Take) -> Take:
        """Circle the take on the engine's behalf."""
        updated = self.e.db.set_status(take.id, "circled", by="engine")
        self.e.remember(updated)
        return updated

    def breaks(self) -> dict[str, list[str]]:
        """Shot → continuity breaks across its cut in (wardrobe seen changing, the line crossed)."""
        return breaks(self.e.doc, self.e.circled_takes())


def best(candidates: list[tuple[Take, QCReport | None]]) -> tuple[Take, QCReport | None]:
    """Passing takes first, then the higher score, then the earlier take."""

    def rank(item: tuple[Take, QCReport | None]) -> tuple[bool, float, int]:
        take, report = item
        return (report is None or report.passed, report.score if report else 1.0, -take.id)

    return max(candidates, key=rank)
