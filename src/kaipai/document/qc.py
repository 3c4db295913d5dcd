"""Quality control in the document: the ``qc`` policy blocks and the rules in force for one stage of
one shot; and the continuity ledger's entries (``scenes[].continuity``).

A policy is written sparsely: ``qc: {all: {max_retakes: 2}, clip: {best_of: 3}}`` in the document,
``qc: {clip: {min_score: 0.7}}`` on a shot. Each field is taken from the most specific block that
sets it — the shot's stage, the shot's ``all``, the document's stage, the document's ``all`` — and
from :data:`DEFAULT` when none does.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from kaipai.document.strict import Strict

if TYPE_CHECKING:  # the models import this module: only their names are needed here
    from kaipai.document.models import Document
    from kaipai.document.shots import Shot

QCStage = Literal["all", "sheet", "voice", "keyframe", "end_keyframe", "clip", "lipsync", "music"]
QCCheck = Literal[
    "black", "frozen", "flash", "length", "size", "silence", "clipping", "loudness", "faces", "lipsync", "judge"
]


class QCPolicy(Strict):
    """Quality control of a stage's takes; an unset field comes from the next block out (see the module)."""

    checks: list[QCCheck] | None = Field(default=None, description="Checks to run; all that apply when unset.")
    min_score: float | None = Field(default=None, ge=0, le=1, description="Lowest overall score (0–1) that passes.")
    best_of: int | None = Field(default=None, ge=1, le=16, description="Takes to make at once; the best is circled.")
    max_retakes: int | None = Field(
        default=None, ge=0, le=20, description="New seeds to try when no take passes (0: flag the shot only)."
    )
    budget: float | None = Field(
        default=None, ge=0, description="Most one shot may spend on this stage in a render; extra takes stop before it."
    )


class Continuity(Strict):
    """One character through one scene (the continuity ledger): what they wear and hold, and their screen
    direction. Filled by the planner from the screenplay and the shots; the director's edits are kept."""

    character: str = Field(description="Character id.")
    wardrobe: str = Field(default="", description="What they wear in this scene, e.g. 'red wool coat'.")
    holds: list[str] = Field(default_factory=list, description="What they carry, e.g. ['sealed envelope'].")
    side: Literal["left", "center", "right"] | None = Field(
        default=None, description="The side of the frame they keep (the 180° line)."
    )
    facing: Literal["camera", "left", "right", "away"] | None = Field(
        default=None, description="The screen direction they look: left or right."
    )


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


def ledger_errors(doc: Document, characters: set[str]) -> list[tuple[tuple[str | int, ...], str]]:
    """Ledger entries naming a character the cast does not have, located for the loader."""
    return [
        (("scenes", i, "continuity", j, "character"), f"unknown character {entry.character!r}")
        for i, scene in enumerate(doc.scenes)
        for j, entry in enumerate(scene.continuity)
        if entry.character not in characters
    ]
