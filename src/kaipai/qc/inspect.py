"""Checking one take: the entry point the engine calls after a take is stored.

The engine describes the take as a :class:`Subject` — its stage and file, what was asked, the
shot it belongs to, the voice its mouth should follow — and :func:`inspect` runs every check
that applies and the rules allow, then returns the :class:`~kaipai.qc.report.QCReport`. Drawn
previz pictures skip the checks that look for faces and life in them (a storyboard figure has
no face for a detector, and a static storyboard frame is frozen on purpose).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from kaipai.backends.base import BackendError, JudgeRequest, Verdict
from kaipai.document.cast import Character
from kaipai.document.qc import Continuity, QCRules
from kaipai.document.shots import ScreenThird, Shot
from kaipai.qc import checks as tech
from kaipai.qc.faces import can_detect, detect, expects_faces, face_check
from kaipai.qc.lipsync import Sync, measure, mouth_from_face, mouth_from_motion, speaking_frames, sync_check
from kaipai.qc.media import (
    MediaError,
    envelope,
    peek_video,
    read_sound,
    scan_audio,
    scan_image,
    scan_video,
    stills,
)
from kaipai.qc.report import IMAGE_STAGES, VIDEO_STAGES, Check, FaceSeen, QCReport

#: A judge gets this many frames of a clip.
JUDGE_STILLS = 3
_COLUMNS = {ScreenThird.left: (0.0, 0.55), ScreenThird.center: (0.2, 0.8), ScreenThird.right: (0.45, 1.0)}

#: Scores a judge request: (verdict, what it cost). Raises BackendError when the judge cannot answer.
Judge = Callable[[JudgeRequest], tuple[Verdict, float]]


@dataclass
class Subject:
    """One take as quality control sees it."""

    stage: str
    media: Path
    shot: Shot | None = None
    names: dict[str, str] = field(default_factory=dict)  # character id → name, for reasons
    size: tuple[int, int] | None = None  # asked for
    fps: float | None = None
    seconds: float | None = None
    drawn: bool = False
    own_sound: bool = False  # the clip was asked to carry its own sound
    voice: Path | None = None  # the dialogue the mouths should follow
    speakers: list[tuple[str, float, float]] = field(default_factory=list)  # on-screen (id, start, end)
    prompt: str = ""
    characters: list[Character] = field(default_factory=list)
    references: dict[str, Path] = field(default_factory=dict)
    continuity: list[Continuity] = field(default_factory=list)
    language: str = "en"


def inspect(subject: Subject, rules: QCRules, judge: Judge | None = None) -> QCReport:
    """Run every check that applies to the take; never raises for a bad file (that fails the take)."""
    started = time.monotonic()
    faces: list[FaceSeen] = []
    extra: dict[str, object] = {}
    try:
        if subject.stage in IMAGE_STAGES:
            found, faces = _image(subject, rules)
        elif subject.stage in VIDEO_STAGES:
            found, faces = _video(subject, rules)
        else:
            found = _audio(subject, rules)
    except MediaError as exc:
        found = [Check(name="readable", passed=False, score=0.0, reason=str(exc))]
    if judge is not None and rules.wants("judge") and subject.stage in IMAGE_STAGES | VIDEO_STAGES:
        check, verdict, cost = _judged(subject, judge, rules.min_score)
        found.append(check)
        if verdict is not None:
            extra.update(observed=verdict.observed, cost=cost)
    found = [c for c in found if rules.wants(c.name) or c.name == "readable"]
    return QCReport.of(found, rules.min_score, faces=faces, seconds=round(time.monotonic() - started, 4), **extra)


def _image(subject: Subject, rules: QCRules) -> tuple[list[Check], list[FaceSeen]]:
    look = not subject.drawn and rules.wants("faces") and expects_faces(subject.shot, subject.stage) and can_detect()
    scan = scan_image(subject.media, colour=look)
    found = [tech.black_image(scan), tech.size(scan.width, scan.height, subject.size)]
    faces: list[FaceSeen] = []
    if look:
        faces = detect(scan.grey, scan.rgb)
        found.append(face_check([faces], subject.shot, subject.stage, subject.names))
    return found, faces


def _video(subject: Subject, rules: QCRules) -> tuple[list[Check], list[FaceSeen]]:
    lipsync = rules.wants("lipsync") and subject.voice is not None and bool(subject.speakers)
    look = not subject.drawn and (rules.wants("faces") or lipsync) and can_detect()
    if subject.drawn and not lipsync and not subject.own_sound:
        scan = peek_video(subject.media)  # a drawn clip: its checked keyframe moved by a known camera
    else:
        width = 480 if look else 320 if lipsync else 96
        scan = scan_video(subject.media, width=width, freeze=not subject.drawn, sound=subject.own_sound)
    found = [tech.black_video(scan)]
    if not subject.drawn:
        found.append(tech.frozen(scan))
    found += [
        tech.flash(scan),
        tech.length(scan.duration, subject.seconds, fps=subject.fps),
        tech.size(scan.width, scan.height, subject.size),
        tech.frame_rate(scan.fps, subject.fps),
    ]
    if subject.own_sound:
        if scan.audio is None:
            found.append(Check(name="silence", passed=False, score=0.0, reason="the clip has no sound"))
        else:
            found += [tech.silence(scan.audio), tech.clipping(scan.audio), tech.loudness(scan.audio)]
    n = len(scan.frames)
    faces: list[FaceSeen] = []
    per_frame: list[list[FaceSeen]] = []
    if look and n and (expects_faces(subject.shot, subject.stage) or lipsync):
        per_frame = [detect(scan.frames[min(n - 1, int(n * f))]) for f in (0.1, 0.5, 0.9)]
        faces = per_frame[1]
        if expects_faces(subject.shot, subject.stage):
            found.append(face_check(per_frame, subject.shot, subject.stage, subject.names))
    if lipsync and n and scan.fps:
        found.append(_lipsync(subject, scan.frames, scan.fps, per_frame))
    return found, faces


def _lipsync(subject: Subject, frames: np.ndarray, fps: float, per_frame: list[list[FaceSeen]]) -> Check:
    assert subject.voice is not None
    n, h, w = frames.shape
    voice = envelope(read_sound(subject.voice), 16000, fps, n)
    placed = {p.character: p for p in subject.shot.composition} if subject.shot else {}
    faces = max(per_frame, key=len) if per_frame else []
    results: dict[str, Sync] = {}
    for cid in dict.fromkeys(s[0] for s in subject.speakers):
        keep = speaking_frames(n, fps, [(a, b) for c, a, b in subject.speakers if c == cid])
        if keep.sum() < max(6, fps * 0.5):
            continue
        third = placed[cid].third if cid in placed else ScreenThird.center
        face = _face_in(faces, third, len(placed))
        region = mouth_from_face(face, w, h) if face is not None else mouth_from_motion(frames, keep, _COLUMNS[third])
        results[subject.names.get(cid, cid)] = measure(frames, fps, voice, keep, region)
    return sync_check(results)


def _face_in(faces: list[FaceSeen], third: ScreenThird, planned: int) -> FaceSeen | None:
    if not faces:
        return None
    if len(faces) == 1 and planned <= 1:
        return faces[0]
    lo, hi = _COLUMNS[third]
    inside = [f for f in faces if lo <= f.centre <= hi]
    return max(inside, key=lambda f: f.w) if inside else None


def _audio(subject: Subject, rules: QCRules) -> list[Check]:
    scan = scan_audio(subject.media)
    what = "voice" if subject.stage == "voice" else "music"
    found = [tech.silence(scan, what=what), tech.clipping(scan), tech.loudness(scan)]
    if subject.seconds:
        found.append(tech.length(scan.duration, subject.seconds, what=what))
    return found


def _judged(subject: Subject, judge: Judge, min_score: float) -> tuple[Check, Verdict | None, float]:
    """Ask the judge; a judge that cannot answer leaves the take unjudged, not failed."""
    with tempfile.TemporaryDirectory(prefix="kaipai-judge-") as tmp:
        try:
            images = (
                [subject.media] if subject.stage in IMAGE_STAGES else stills(subject.media, JUDGE_STILLS, Path(tmp))
            )
            request = JudgeRequest(
                images=images,
                prompt=subject.prompt,
                references=subject.references,
                characters=subject.characters,
                continuity=subject.continuity,
                shot=subject.shot,
                language=subject.language,
            )
            verdict, cost = judge(request)
        except (BackendError, MediaError) as exc:
            return Check(name="judge", hard=False, reason=f"not judged: {exc}"), None, 0.0
    scores = {k: v for k, v in verdict.scores.items() if k in request.criteria}
    if not scores:
        return Check(name="judge", hard=False, reason="the judge gave no score"), verdict, cost
    score = round(sum(scores.values()) / len(scores), 4)
    low = [f"{k} {v:.2f}" for k, v in scores.items() if v < 0.5]
    reason = "; ".join(verdict.reasons) or (", ".join(low) if low else "")
    passed = score >= min_score - 1e-9
    check = Check(name="judge", passed=passed, score=score, reason=reason, details={"scores": scores})
    return check, verdict, cost
