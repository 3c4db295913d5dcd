"""What quality control says about one take: each check's score and reason, and the verdict.

A :class:`QCReport` is stored with the take (the ``qc`` column of the takes database) as plain
JSON, so ``kaipai qc``, the studio and the shot list read it without measuring again.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from kaipai.backends.base import Observed

#: Bumped when what is measured changes; older reports are shown but re-measured by ``kaipai qc --recheck``.
QC_VERSION = 1

#: The stages quality control looks at, by what it reads (here, not beside the checks: a render that
#: checks nothing asks only these, without loading numpy and OpenCV).
IMAGE_STAGES = frozenset({"sheet", "keyframe", "end_keyframe"})
VIDEO_STAGES = frozenset({"clip", "lipsync"})
AUDIO_STAGES = frozenset({"voice", "music"})
QC_STAGES = IMAGE_STAGES | VIDEO_STAGES | AUDIO_STAGES


class Check(BaseModel):
    """One measurement. A failed ``hard`` check fails the take; a soft one only lowers its score."""

    name: str
    passed: bool = True
    score: float = Field(default=1.0, ge=0, le=1)
    hard: bool = True
    reason: str = Field(default="", description="Why it failed or what is off; empty when all is well.")
    details: dict[str, Any] = Field(default_factory=dict)


class FaceSeen(BaseModel):
    """A face found in a picture: its box as fractions of the frame, and the colour worn below it."""

    x: float
    y: float
    w: float
    h: float
    torso: tuple[int, int, int] | None = Field(default=None, description="Mean colour (RGB) under the face.")

    @property
    def centre(self) -> float:
        return self.x + self.w / 2


class QCReport(BaseModel):
    """The verdict on one take."""

    version: int = QC_VERSION
    passed: bool
    score: float = Field(ge=0, le=1, description="Mean of the checks' scores: what best-of ranks by.")
    checks: list[Check] = Field(default_factory=list)
    faces: list[FaceSeen] = Field(default_factory=list, description="Faces in the picture (a keyframe) or mid-clip.")
    observed: dict[str, Observed] = Field(default_factory=dict, description="What the judge saw each character wear.")
    seconds: float = Field(default=0.0, description="Wall time of the checks.")
    cost: float = Field(default=0.0, description="What the judge charged.")

    @property
    def reasons(self) -> list[str]:
        """Why it failed (hard checks first), then what is off in the soft ones."""
        hard = [f"{c.name}: {c.reason}" for c in self.checks if not c.passed and c.reason]
        soft = [f"{c.name}: {c.reason}" for c in self.checks if c.passed and c.reason]
        return hard + soft

    def check(self, name: str) -> Check | None:
        return next((c for c in self.checks if c.name == name), None)

    @classmethod
    def of(cls, checks: list[Check], min_score: float, **extra: Any) -> QCReport:
        score = sum(c.score for c in checks) / len(checks) if checks else 1.0
        passed = all(c.passed for c in checks if c.hard) and score >= min_score - 1e-9
        if not passed and all(c.passed for c in checks if c.hard):
            checks = [*checks, Check(name="score", passed=False, score=score, reason=f"{score:.2f} < {min_score:.2f}")]
        return cls(passed=passed, score=round(score, 4), checks=checks, **extra)


def stored(qc: dict[str, Any]) -> QCReport | None:
    """The report kept with a take, or None when it was never checked (or is unreadable)."""
    if not qc or "passed" not in qc:
        return None
    try:
        return QCReport.model_validate(qc)
    except ValueError:
        return None
