"""People in frame: faces found against the shot's composition.

Faces are found with OpenCV's Haar cascade for frontal faces, whose weights ship inside the
``opencv-python-headless`` wheel (``cv2.data.haarcascades``): no download, no GPU. The shot says
what to expect: a close-up of a character must show a face, a single must not show two, and a
face should stand in the third of the frame the composition plans for it. Wide shots expect
nothing (a face a few pixels high is not found reliably). Below each face the colour worn is
measured, so a coat that changes colour between the cuts of a scene can be flagged.
"""

from __future__ import annotations

import functools
import threading
from pathlib import Path
from typing import Any

import numpy as np

from kaipai.document.shots import Facing, ScreenThird, Shot, ShotKind, ShotSize
from kaipai.qc.report import Check, FaceSeen

CLOSE = frozenset({ShotSize.CU, ShotSize.MCU})
MEDIUM = frozenset({ShotSize.MS, ShotSize.MLS})
DETECT_WIDTH = 480
_THIRDS = (ScreenThird.left, ScreenThird.center, ScreenThird.right)


_local = threading.local()
_CASCADE = "haarcascade_frontalface_default.xml"


@functools.cache
def can_detect() -> bool:
    """Whether this OpenCV finds faces: the 4.x wheels ship the Haar cascades, the 5.0 wheels neither the
    cascades nor the classifier. Without them the face checks are left out (never a failed take, which
    would be retaken and paid for again) and lip sync finds the mouth from motion."""
    try:
        import cv2
    except ImportError:
        return False
    data = getattr(cv2, "data", None)
    folder = getattr(data, "haarcascades", "")
    return hasattr(cv2, "CascadeClassifier") and bool(folder) and Path(folder, _CASCADE).exists()


def _cascade() -> Any:
    """One classifier per thread: OpenCV's cascade keeps scratch state and must not be shared."""
    cascade = getattr(_local, "cascade", None)
    if cascade is None:
        import cv2

        path = cv2.data.haarcascades + _CASCADE
        cascade = cv2.CascadeClassifier(path)
        if cascade.empty():
            raise RuntimeError(f"OpenCV's face cascade is missing ({path}); reinstall opencv-python-headless")
        _local.cascade = cascade
    return cascade


def expects_faces(shot: Shot | None, stage: str) -> bool:
    """Whether the picture is framed tightly enough for faces to be checked at all."""
    if stage == "sheet":
        return True
    return shot is not None and shot.size in CLOSE | MEDIUM


def detect(grey: np.ndarray, rgb: np.ndarray | None = None, *, smallest: float = 0.08) -> list[FaceSeen]:
    """Faces in a grey picture, largest first; ``smallest`` is the least face height as a share of the frame."""
    import cv2

    h, w = grey.shape
    scale = min(1.0, DETECT_WIDTH / w)
    small = cv2.resize(grey, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA) if scale < 1 else grey
    least = max(20, int(small.shape[0] * smallest))
    found = _cascade().detectMultiScale(small, scaleFactor=1.1, minNeighbors=5, minSize=(least, least))
    sh, sw = small.shape
    faces = []
    for x, y, fw, fh in sorted((tuple(int(v) for v in f) for f in found), key=lambda f: -f[2] * f[3]):
        face = FaceSeen(x=x / sw, y=y / sh, w=fw / sw, h=fh / sh)
        if rgb is not None:
            face.torso = _torso(rgb, face)
        faces.append(face)
    return faces


def _torso(rgb: np.ndarray, face: FaceSeen) -> tuple[int, int, int] | None:
    """The median colour of what is worn: a patch a face wide, starting half a face below the chin."""
    h, w = rgb.shape[:2]
    top = int((face.y + face.h * 1.5) * h)
    bottom = min(h, int((face.y + face.h * 2.5) * h))
    left, right = max(0, int(face.x * w)), min(w, int((face.x + face.w) * w))
    if bottom - top < 4 or right - left < 4:
        return None
    patch = rgb[top:bottom, left:right].reshape(-1, 3)
    r, g, b = (int(v) for v in np.median(patch, axis=0))
    return r, g, b


def _third(centre: float) -> ScreenThird:
    return _THIRDS[min(2, int(centre * 3))]


def face_check(frames: list[list[FaceSeen]], shot: Shot | None, stage: str, names: dict[str, str]) -> Check:
    """Faces found in each sampled frame against what the shot plans."""
    counts = [len(f) for f in frames]
    details: dict[str, Any] = {"found": counts}
    if stage == "sheet":
        if not any(counts):
            return Check(
                name="faces", passed=False, score=0.0, reason="no face in the reference sheet", details=details
            )
        return Check(name="faces", details=details)
    if shot is None:
        return Check(name="faces", details=details)
    visible = [p for p in shot.composition if p.facing != Facing.away]
    who = ", ".join(names.get(p.character, p.character) for p in visible)
    majority = sorted(counts)[len(counts) // 2] if counts else 0
    if shot.size in CLOSE and visible and not any(counts):
        size = "close-up" if shot.size == ShotSize.CU else "medium close-up"
        reason = f"no face where a {size} of {who} is planned"
        return Check(name="faces", passed=False, score=0.0, reason=reason, details=details)
    single = shot.kind == ShotKind.single or len(shot.composition) == 1
    if single and visible and majority >= 2:
        reason = f"{majority} faces in a single of {who}"
        return Check(name="faces", passed=False, score=0.2, reason=reason, details=details)
    if (
        not shot.composition
        and shot.size in CLOSE
        and majority >= 1
        and shot.kind in (ShotKind.insert, ShotKind.cutaway)
    ):
        return Check(name="faces", hard=False, score=0.7, reason="a face in a shot that plans nobody", details=details)
    return _placement(frames, visible, names, details)


def _placement(
    frames: list[list[FaceSeen]], visible: list[Any], names: dict[str, str], details: dict[str, Any]
) -> Check:
    """Where the faces stand against the planned thirds (the frame where the count matches the plan)."""
    matching = [f for f in frames if len(f) == len(visible) and f]
    if not visible or not matching:
        return Check(name="faces", details=details)
    faces = sorted(matching[len(matching) // 2], key=lambda f: f.centre)
    planned = sorted(visible, key=lambda p: _THIRDS.index(p.third))
    off = []
    for face, place in zip(faces, planned):
        seen = _third(face.centre)
        if seen != place.third:
            off.append(f"{names.get(place.character, place.character)} planned {place.third.value}, found {seen.value}")
    details["thirds"] = [_third(f.centre).value for f in faces]
    if not off:
        return Check(name="faces", details=details)
    score = 1 - 0.5 * len(off) / len(planned)
    return Check(name="faces", hard=False, score=score, reason="; ".join(off), details=details)
