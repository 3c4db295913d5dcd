"""Continuity across cuts: what changes between two shots of one scene that should not.

Two witnesses, compared cut by cut along each scene: the colour worn under each character's face
(measured on every checked picture, so it costs nothing more) and, when a judge is set, what the
judge saw them wear. A coat that turns from red to blue between two shots of a scene is flagged on
the later shot, as is a judge's description that contradicts the scene's continuity ledger. The
planner's 180° check (:func:`kaipai.planning.continuity.line_crossings`) adds the cuts that cross
the line.
"""

from __future__ import annotations

import math
import re
from functools import cache

from kaipai.document.models import Document
from kaipai.document.shots import Facing, ScreenThird, Shot
from kaipai.planning.continuity import garment_words, line_crossings
from kaipai.qc.report import FaceSeen, QCReport

#: Colour difference (CIE76 ΔE in Lab) beyond which clothes are not the same clothes.
WARDROBE_DELTA = 25.0
_COLOURS = re.compile(
    r"red|blue|green|yellow|black|white|gr[ae]y|brown|pink|purple|orange|beige|navy|crimson|scarlet|"
    r"红|蓝|绿|黄|黑|白|灰|棕|褐|粉|紫|橙|米",
    re.I,
)
_ORDER = {ScreenThird.left: 0, ScreenThird.center: 1, ScreenThird.right: 2}


def _linear(channel: int) -> float:
    """An sRGB channel (0–255) as linear light."""
    c = channel / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def _f(t: float) -> float:
    return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116


@cache
def lab(rgb: tuple[int, int, int]) -> tuple[float, float, float]:
    """CIE L*a*b* (D65) of an sRGB colour, with the constants OpenCV's conversion uses (a test holds it to
    OpenCV's): plain arithmetic, so finding a film's breaks loads neither numpy nor OpenCV."""
    r, g, b = (_linear(int(c)) for c in rgb)
    x = (0.412453 * r + 0.357580 * g + 0.180423 * b) / 0.950456
    y = 0.212671 * r + 0.715160 * g + 0.072169 * b
    z = (0.019334 * r + 0.119193 * g + 0.950227 * b) / 1.088754
    fy = _f(y)
    lightness = 116 * fy - 16 if y > 0.008856 else 903.3 * y
    return lightness, 500 * (_f(x) - fy), 200 * (fy - _f(z))


def colour_change(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    """ΔE (CIE76) between two colours worn."""
    return math.dist(lab(a), lab(b))


def wardrobe_differs(a: str, b: str) -> bool:
    """Two descriptions of clothes that cannot be the same clothes: other colours, or other garments."""
    ca, cb = {m.lower() for m in _COLOURS.findall(a)}, {m.lower() for m in _COLOURS.findall(b)}
    ga, gb = garment_words(a), garment_words(b)
    return bool((ca and cb and not ca & cb) or (ga and gb and not ga & gb))


def _who(shot: Shot, faces: list[FaceSeen]) -> dict[str, FaceSeen]:
    """Which face is whose: faces left to right against the visible characters' planned thirds."""
    visible = sorted((p for p in shot.composition if p.facing != Facing.away), key=lambda p: _ORDER[p.third])
    if not visible or len(faces) != len(visible):
        return {}
    return {p.character: f for p, f in zip(visible, sorted(faces, key=lambda f: f.centre))}


def film_breaks(doc: Document, reports: dict[str, QCReport], scenes: set[str] | None = None) -> dict[str, list[str]]:
    """Shot id → what breaks continuity at the cut into it. ``reports``: node id → its circled take's report;
    ``scenes``: only the shots of these scenes (breaks are found within a scene)."""
    names = {c.id: c.name for c in doc.cast.characters}
    out: dict[str, list[str]] = {}
    for crossing in line_crossings(doc, scenes):
        out.setdefault(crossing.shot, []).append(f"crosses the 180° line after {crossing.previous}: {crossing.reason}")
    ledgers = {s.id: {e.character: e for e in s.continuity} for s in doc.scenes}
    colour: dict[tuple[str, str], tuple[str, tuple[int, int, int]]] = {}  # (scene, character) → (shot, rgb)
    worn: dict[tuple[str, str], tuple[str, str]] = {}  # (scene, character) → (shot, what the judge saw)
    for shot in doc.ordered_shots():
        if scenes is not None and shot.scene not in scenes:
            continue
        picture = reports.get(f"{shot.id}/keyframe")
        judged = [r for r in (picture, reports.get(f"{shot.id}/clip")) if r is not None and r.observed]
        found = out.setdefault(shot.id, [])
        for cid, face in (_who(shot, picture.faces) if picture is not None else {}).items():
            if face.torso is None:
                continue
            before = colour.get((shot.scene, cid))
            if before is not None and colour_change(before[1], face.torso) > WARDROBE_DELTA:
                found.append(f"{names.get(cid, cid)}'s clothes change colour after {before[0]} (wardrobe)")
            colour[(shot.scene, cid)] = (shot.id, face.torso)
        for report in judged[:1]:
            for cid, seen in report.observed.items():
                if not seen.wardrobe:
                    continue
                who = names.get(cid, cid)
                before_seen = worn.get((shot.scene, cid))
                if before_seen is not None and wardrobe_differs(before_seen[1], seen.wardrobe):
                    found.append(f"{who} wears {seen.wardrobe!r}, {before_seen[1]!r} in {before_seen[0]} (wardrobe)")
                ledger = ledgers.get(shot.scene, {}).get(cid)
                if ledger is not None and ledger.wardrobe and wardrobe_differs(ledger.wardrobe, seen.wardrobe):
                    found.append(f"{who} wears {seen.wardrobe!r}; the scene's ledger says {ledger.wardrobe!r}")
                worn[(shot.scene, cid)] = (shot.id, seen.wardrobe)
    return {k: list(dict.fromkeys(v)) for k, v in out.items() if v}
