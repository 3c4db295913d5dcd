"""Synthetic people for the simulated provider: faces a face detector finds, and mouths that move.

A drawn oval face with brows, eyes, a nose shadow and a mouth, over a shirt, placed where the
shot's composition puts each character and sized by the shot size. OpenCV's frontal-face cascade
finds these faces, so a simulated clip is a fair stand-in for footage of people in quality control
tests and benchmarks; a mouth opening that follows a loudness envelope makes a talking head.
"""

from __future__ import annotations

import hashlib

import numpy as np

from kaipai.document.shots import Facing, ScreenThird, Shot, ShotSize

#: Face height as a share of the frame height, per shot size (wider shots show no readable face).
FACE_HEIGHT = {ShotSize.ECU: 0.9, ShotSize.CU: 0.55, ShotSize.MCU: 0.4, ShotSize.MS: 0.24, ShotSize.MLS: 0.15}
_X = {ScreenThird.left: 1 / 6, ScreenThird.center: 0.5, ScreenThird.right: 5 / 6}
SKIN = (225, 190, 160)


def shirt_colour(character: str, changed: bool = False) -> tuple[int, int, int]:
    """A character's shirt, the same in every shot (another colour when ``changed``)."""
    raw = hashlib.sha256(f"{character}{'|changed' if changed else ''}".encode()).digest()
    return 40 + raw[0] % 170, 40 + raw[1] % 170, 40 + raw[2] % 170


def placements(shot: Shot | None, width: int, height: int) -> list[tuple[str, int, int, int]]:
    """(character, centre x, centre y, face height) for each visible character of the shot."""
    if shot is None or shot.size not in FACE_HEIGHT:
        return []
    size = int(FACE_HEIGHT[shot.size] * height)
    if shot.size == ShotSize.ECU:
        return []  # a face cut off at the brows and chin: nothing to draw whole
    out = []
    for p in shot.composition:
        if p.facing == Facing.away:
            continue
        cx = int(_X[p.third] * width)
        cx = min(max(cx, int(size * 0.4)), width - int(size * 0.4))
        out.append((p.character, cx, int(height * 0.42), size))
    return out


def draw_person(
    img: np.ndarray,
    cx: int,
    cy: int,
    size: int,
    mouth: float = 0.0,
    shirt: tuple[int, int, int] = (60, 80, 140),
) -> None:
    """Draw a head ``size`` pixels high centred at (cx, cy), over a shirt, in place on an RGB image."""
    import cv2

    w = int(size * 0.75)
    h = img.shape[0]
    top = cy + int(size * 0.55)
    cv2.rectangle(img, (cx - int(w * 1.1), top), (cx + int(w * 1.1), h), shirt, -1)  # shoulders and chest
    cv2.ellipse(
        img, (cx, cy), (w // 2 + max(2, size // 30), size // 2 + max(2, size // 30)), 0, 0, 360, (40, 30, 30), -1
    )
    cv2.ellipse(img, (cx, cy), (w // 2, size // 2), 0, 0, 360, SKIN, -1)
    cv2.ellipse(img, (cx, cy - int(size * 0.35)), (w // 2 + 2, int(size * 0.2)), 0, 180, 360, (60, 40, 40), -1)
    ey, ex = cy - int(size * 0.08), int(w * 0.2)
    for dx in (-ex, ex):
        cv2.ellipse(
            img, (cx + dx, ey - int(size * 0.09)), (int(w * 0.13), int(size * 0.025)), 0, 180, 360, (70, 50, 50), -1
        )
        cv2.ellipse(img, (cx + dx, ey), (int(w * 0.1), int(size * 0.045)), 0, 0, 360, (255, 255, 255), -1)
        cv2.circle(img, (cx + dx, ey), max(1, int(size * 0.035)), (30, 30, 40), -1)
    thick = max(1, int(size * 0.02))
    cv2.line(img, (cx, ey + int(size * 0.05)), (cx - int(w * 0.05), cy + int(size * 0.15)), (180, 140, 120), thick)
    cv2.ellipse(img, (cx, cy + int(size * 0.17)), (int(w * 0.08), int(size * 0.02)), 0, 0, 180, (170, 130, 110), -1)
    opening = max(1, int(size * (0.012 + 0.06 * max(0.0, min(1.0, mouth)))))
    cv2.ellipse(img, (cx, cy + int(size * 0.3)), (int(w * 0.2), opening), 0, 0, 360, (90, 30, 40), -1)


def loudness_per_frame(samples: np.ndarray, rate: int, fps: float, n: int) -> np.ndarray:
    """0–1 loudness of the sound under each of ``n`` frames (RMS, the loudest frame = 1)."""
    hop = rate / fps
    env = np.array(
        [
            float(np.sqrt(np.mean(s * s))) if len(s := samples[int(i * hop) : int((i + 1) * hop)]) else 0.0
            for i in range(n)
        ]
    )
    peak = float(env.max()) if n else 0.0
    return env / peak if peak > 0 else env
