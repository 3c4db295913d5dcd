"""Quality control as the director reads it: each take's scores and why it failed, each shot's flags.

``shots_qc`` answers per shot: the verdict on its circled takes (what the edit uses) and the
continuity breaks at the cut into it, with every take's report for ``kaipai qc SHOT`` and the
studio. Reports were stored when the takes were made; ``check`` measures takes that have none
(made before quality control, or by an interrupted render) and, with ``again``, every take.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, Field

from kaipai.document.io import DocumentError, Problem
from kaipai.document.models import Document
from kaipai.engine.breaks import circled_breaks
from kaipai.engine.db import Take, TakesDB
from kaipai.project import ProjectPaths, load_document
from kaipai.qc.report import QCReport, stored

ShotVerdict = Literal["passed", "flagged", "unchecked", "missing"]

__all__ = ["ShotQC", "TakeQC", "check", "shots_qc"]


class TakeQC(BaseModel):
    """One take's report, flattened for a table."""

    id: int
    node: str
    stage: str
    item: str = ""
    status: str
    circled_by: str = ""
    seed: int
    checked: bool
    passed: bool | None = None
    score: float | None = None
    scores: dict[str, float] = Field(default_factory=dict, description="check → score (0–1)")
    failed: list[str] = Field(default_factory=list, description="Checks that failed.")
    reasons: list[str] = Field(default_factory=list)
    seconds: float = 0.0


class ShotQC(BaseModel):
    """A shot's standing: ``flagged`` when a circled take failed its checks or continuity breaks at its cut."""

    shot: str
    verdict: ShotVerdict
    score: float | None = Field(default=None, description="The lowest score among its circled takes.")
    reasons: list[str] = Field(default_factory=list)
    takes: list[TakeQC] = Field(default_factory=list)


def _take(t: Take, report: QCReport | None) -> TakeQC:
    base: dict[str, Any] = {
        "id": t.id,
        "node": t.node,
        "stage": t.stage,
        "item": t.item,
        "status": t.status,
        "circled_by": t.circled_by,
        "seed": t.seed,
    }
    if report is None:
        return TakeQC(**base, checked=False)
    return TakeQC(
        **base,
        checked=True,
        passed=report.passed,
        score=report.score,
        scores={c.name: c.score for c in report.checks},
        failed=[c.name for c in report.checks if not c.passed],
        reasons=report.reasons,
        seconds=report.seconds,
    )


def _unknown_shot(paths: ProjectPaths, shot_id: str) -> DocumentError:
    return DocumentError(
        [Problem(str(paths.document), 0, 0, "shots", f"no shot {shot_id!r} in the document; 'kaipai shots' lists them")]
    )


def shots_qc(
    paths: ProjectPaths, shot_id: str | None = None, *, shots: set[str] | None = None, with_takes: bool = True
) -> list[ShotQC]:
    """Every shot (or one, or ``shots``) in film order, with its verdict, reasons and every take's report
    (``with_takes=False``: the verdicts only, which is all a shot list prints).

    Continuity breaks are found within a scene, so only the takes of the asked shots' scenes are
    read (a studio page of a feature film reads a few dozen takes, not thousands).
    """
    doc = load_document(paths)
    if shot_id is not None and doc.shot(shot_id) is None:
        raise _unknown_shot(paths, shot_id)
    only = {shot_id} if shot_id is not None else shots
    if not paths.database.exists():
        return [ShotQC(shot=s.id, verdict="missing") for s in doc.ordered_shots() if only is None or s.id in only]
    scenes: set[str] | None = None
    with TakesDB(paths.database) as db:
        if only is None:
            takes = db.all_takes()
        else:
            scenes = {s.scene for s in doc.shots if s.id in only}
            near = {s.id for s in doc.shots if s.scene in scenes}
            takes = db.takes_for_shots(near) if near else []
    reports: dict[int, QCReport | None] = {}

    def report(take: Take) -> QCReport | None:  # each take's report read once
        if take.id not in reports:
            reports[take.id] = stored(take.qc)
        return reports[take.id]

    breaks = circled_breaks(doc, takes, report, scenes)
    return _summaries(doc, takes, breaks, only, report, with_takes)


def _summaries(
    doc: Document,
    takes: list[Take],
    breaks: dict[str, list[str]],
    only: set[str] | None,
    report: Callable[[Take], QCReport | None],
    with_takes: bool,
) -> list[ShotQC]:
    by_shot: dict[str, list[Take]] = {}
    for t in takes:
        if t.stage != "shot_audio":
            by_shot.setdefault(t.shot, []).append(t)
    out = []
    for shot in doc.ordered_shots():
        if only is not None and shot.id not in only:
            continue
        mine = by_shot.get(shot.id, [])
        circled = [(t, report(t)) for t in mine if t.status == "circled"]
        reasons = [f"{t.node}: {'; '.join(r.reasons)}" for t, r in circled if r is not None and not r.passed]
        reasons += breaks.get(shot.id, [])
        scores = [r.score for _, r in circled if r is not None]
        if reasons:
            verdict: ShotVerdict = "flagged"
        elif not circled:
            verdict = "missing"
        elif not scores:
            verdict = "unchecked"
        else:
            verdict = "passed"
        out.append(
            ShotQC(
                shot=shot.id,
                verdict=verdict,
                score=min(scores) if scores else None,
                reasons=reasons,
                takes=[_take(t, report(t)) for t in mine] if with_takes else [],
            )
        )
    return out


def check(paths: ProjectPaths, shot_id: str | None = None, *, again: bool = False) -> int:
    """Measure the takes that have no report (every take with ``again``); returns how many were checked.

    A judge set in the document is asked again too (a paid judge charges for it).
    """
    doc = load_document(paths)
    if shot_id is not None and doc.shot(shot_id) is None:
        raise _unknown_shot(paths, shot_id)
    if not paths.database.exists():
        return 0
    from kaipai.engine.engine import Engine  # request building and the backends: only to measure
    from kaipai.engine.quality import Quality

    done = 0
    with TakesDB(paths.database) as db:
        engine = Engine(paths, doc, db)
        try:
            quality = Quality(engine)
            quality.warm()
            for take in db.all_takes():
                node = engine.graph.get(take.node)
                if node is None or (shot_id is not None and take.shot != shot_id):
                    continue
                rules = quality.rules(node)
                if rules is None or (stored(take.qc) is not None and not again):
                    continue
                if not engine.store.path(take.media).exists():
                    continue
                if quality.inspect(node, take, rules) is not None:
                    done += 1
        finally:
            engine.close()
    return done
