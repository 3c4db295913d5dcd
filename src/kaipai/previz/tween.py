"""A previz clip that moves from a shot's start to where it ends (the shot's ``end:``).

The figures walk from the places the start composition gives them to the places of the end
one, turned the way they walk, while the camera makes the shot's move; someone only in the
end walks in from the nearer edge, someone only in the start walks out by it. The set is drawn
once; each frame draws the figures and their name tags (and a reference sheet's caption band: the start's until half
way, then the end's). The first frame is the start keyframe and the last the end keyframe.

Every frame's mouths are known before the first is drawn, and go into the clip's metadata as a
track, so the previz lip sync finds each speaker's mouth while they walk.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import replace

import av
import numpy as np

from kaipai.document.cast import Character
from kaipai.document.scenes import Scene
from kaipai.document.settings import Style
from kaipai.document.shots import Shot
from kaipai.previz import yuv
from kaipai.previz.draw import DUTCH, compose, rotate_point, scenery
from kaipai.previz.figures import Figure, mouth_of, place
from kaipai.previz.motion import ease, frame_count, window

DEPTHS = ("background", "midground", "foreground")
OFFSTAGE = 1.6  # how far beyond the frame edge someone entering or leaving starts or ends, in head heights


def _offstage(f: Figure, width: int) -> Figure:
    x = -f.head * OFFSTAGE if f.x < width / 2 else width + f.head * OFFSTAGE
    return replace(f, x=x)


def figures_at(start: list[Figure], end: list[Figure], e: float, width: int) -> list[Figure]:
    """The figures a fraction ``e`` (eased time) of the way from the start composition to the end one."""
    first = {f.character.id: f for f in start}
    last = {f.character.id: f for f in end}
    out: list[Figure] = []
    for cid in dict.fromkeys([*first, *last]):
        a = first.get(cid) or _offstage(last[cid], width)
        b = last.get(cid) or _offstage(a, width)
        x = a.x + (b.x - a.x) * e
        walking = abs(b.x - a.x) > a.head * 0.5 and 0.12 < e < 0.88
        facing = ("right" if b.x > a.x else "left") if walking else (a.facing if e < 0.5 else b.facing)
        out.append(
            Figure(
                a.character,
                x,
                a.top + (b.top - a.top) * e,
                a.head + (b.head - a.head) * e,
                facing,
                a.depth if e < 0.5 else b.depth,
                a.colour,
            )
        )
    out = [f for f in out if -f.head * 1.1 < f.x < width + f.head * 1.1]  # nobody off stage, nor their name tag
    out.sort(key=lambda f: (DEPTHS.index(f.depth), f.head))
    return out


def tween(
    shot: Shot,
    scene: Scene | None,
    characters: list[Character],
    style: Style,
    width: int,
    height: int,
    language: str,
    duration: float,
    fps: int,
    seed: int = 0,
) -> tuple[Iterator[np.ndarray], dict[str, object], int]:
    """Frames (packed yuv420p) of the clip, its metadata for the lip sync, and the frame count."""
    last = shot.end_state()
    sc = scenery(shot, scene, style, width, height)
    ph = height - sc.band
    a = place(shot, characters, width, ph, sc.horizon, sc.look)
    b = place(last, characters, width, ph, sc.horizon, sc.look)
    n = frame_count(duration, fps)
    casts = [figures_at(a, b, ease(i / max(1, n - 1)), width) for i in range(n)]
    track: dict[str, list[list[float] | None]] = {f.character.id: [None] * n for f in [*a, *b]}
    if sc.horizon is not None:
        for i, cast in enumerate(casts):
            for f in cast:
                mouth = mouth_of(f)
                if mouth is not None and shot.angle.value == "dutch":
                    mouth = rotate_point(mouth, width, ph, DUTCH)
                track[f.character.id][i] = [round(v, 1) for v in mouth] if mouth is not None else None
    move, seconds = shot.move.value, (n - 1) / fps
    meta: dict[str, object] = {
        "move": move,
        "seed": seed,
        "picture": [width, ph],
        "band_h": sc.band,
        "layout": compose(shot, sc, a, width, height, language)[1].to_json(),
        "mouth_track": track,
        "end": True,
    }

    def frames() -> Iterator[np.ndarray]:
        bands: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        for i, cast in enumerate(casts):
            half = int(i / max(1, n - 1) >= 0.5)
            img, _ = compose(last if half else shot, sc, cast, width, height, language)
            rgb = np.asarray(img)
            if half not in bands:
                bands[half] = yuv.planes(rgb[ph:])
            x, y, cw, ch = window(move, i / max(1, n - 1), width, ph, seed, seconds)
            x0, y0 = max(0, math.floor(x)), max(0, math.floor(y))
            crop = np.ascontiguousarray(rgb[y0 : min(ph, y0 + round(ch)), x0 : min(width, x0 + round(cw))])
            scaled = av.VideoFrame.from_ndarray(crop, format="rgb24").reformat(
                width=width, height=ph, format="yuv420p", interpolation="BILINEAR"
            )
            picture = yuv.views(np.ascontiguousarray(scaled.to_ndarray()))
            yield yuv.stack(picture, bands[half])

    return frames(), meta, n


def crossfade(start: Iterator[np.ndarray], end: Iterator[np.ndarray], n: int) -> Iterator[np.ndarray]:
    """Two animated keyframes dissolved into each other over the clip (pictures previz did not draw)."""
    for i, (a, b) in enumerate(zip(start, end, strict=True)):
        e = ease(i / max(1, n - 1))
        yield ((1.0 - e) * a.astype(np.float32) + e * b.astype(np.float32) + 0.5).astype(np.uint8)
