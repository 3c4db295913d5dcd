"""The quality-control rules in force for one stage of one shot, from the document's ``qc`` blocks.

A policy is written sparsely: ``qc: {all: {max_retakes: 2}, clip: {best_of: 3}}`` in the document,
``qc: {clip: {min_score: 0.7}}`` on a shot. Each field is taken from the most specific block that
sets it — the shot's stage, the shot's ``all``, the document's stage, the document's ``all`` — and
from :data:`DEFAULT` when none does.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from kaipai.document.models import Document, QCPolicy, Shot


@dataclass(frozen=True)
class QCRules:
    """The resolved policy: every field set."""

    checks: frozenset[str] | None  # None: every check that applies to the stage
    min_score: float
    best_of: int
    max_retakes: int
    budget: float | None

    def wants(self, check: str) -> bool:
        return self.checks is None or check in self.checks


#: Measure every take; flag, never retake, unless the director sets a retake budget.
DEFAULT = QCRules(checks=None, min_score=0.5, best_of=1, max_retakes=0, budget=None)


def qc_rules(doc: Document, shot: Shot | None, stage: str, *, best_of: int | None = None) -> QCRules:
    """The rules for ``stage`` of ``shot`` (None: a stage shared by the film, such as a reference sheet).

    ``best_of`` (the command line's ``--best-of``) overrides the document.
    """
    layers: list[QCPolicy | None] = [doc.qc.get("all"), doc.qc.get(stage)]  # type: ignore[call-overload]
    if shot is not None:
        layers += [shot.qc.get("all"), shot.qc.get(stage)]  # type: ignore[call-overload]
    rules = DEFAULT
    for policy in layers:
        if policy is None:
            continue
        rules = replace(
            rules,
            checks=frozenset(policy.checks) if policy.checks is not None else rules.checks,
            min_score=policy.min_score if policy.min_score is not None else rules.min_score,
            best_of=policy.best_of if policy.best_of is not None else rules.best_of,
            max_retakes=policy.max_retakes if policy.max_retakes is not None else rules.max_retakes,
            budget=policy.budget if policy.budget is not None else rules.budget,
        )
    if best_of is not None:
        rules = replace(rules, best_of=best_of)
    return rules
