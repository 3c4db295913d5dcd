"""Quality control as the director reads it: each take's scores and why it failed, each shot's flags.

``shots_qc`` answers per shot: the verdict on its circled takes (what the edit uses) and the
continuity breaks at the cut into it, with every take's report for ``kaipai qc SHOT`` and the
studio. Reports were stored when the takes were made; ``check`` measures takes that have none
(made before quality control, or by an interrupted render) and, with ``again``, every take.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from kaipai.document.io import DocumentError, Problem
from kaipai.document.models import Document
from kaipai.engine.db import Take, TakesDB
from kaipai.engine.engine import Engine
from kaipai.engine.quality import Quality
from kaipai.project import ProjectPaths, load_document
from kaipai.qc.report import stored

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


def _take(t: Take) -> TakeQC:
    report = stored(t.qc)
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


def shots_qc(paths: ProjectPaths, shot_id: str | None = None) -> list[ShotQC]:
    """Every shot (or one) in film order, with its verdict, reasons and every take's report."""
    doc = load_document(paths)
    if shot_id is not None and doc.shot(shot_id) is None:
        raise _unknown_shot(paths, shot_id)
    if not paths.database.exists():
        return [ShotQC(shot=s.id, verdict="missing") for s in doc.ordered_shots() if shot_id in (None, s.id)]
    with TakesDB(paths.database) as db:
        engine = Engine(paths, doc, db)
        try:
            breaks = Quality(engine).breaks()
            takes = db.all_takes() if shot_id is None else db.takes_for_shot(shot_id)
        finally:
            engine.close()
    return _summaries(doc, takes, breaks, shot_id)


def _summaries(doc: Document, takes: list[Take], breaks: dict[str, list[str]], only: str | None) -> list[ShotQC]:
    by_shot: dict[str, list[Take]] = {}
    for t in takes:
        if t.stage != "shot_audio":
            by_shot.setdefault(t.shot, []).append(t)
    out = []
    for shot in doc.ordered_shots():
        if only is not None and shot.id != only:
            continue
        mine = by_shot.get(shot.id, [])
        circled = [(t, stored(t.qc)) for t in mine if t.status == "circled"]
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
                takes=[_take(t) for t in mine],
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
