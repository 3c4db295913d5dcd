"""The colours of a previz frame: the set from INT/EXT and time of day, the figures from the cast.

A storyboard artist signals night with a dark plate and day with a bright one before anything
else; the animatic does the same, so a director reading the contact sheet sees the light of each
scene at a glance.
"""

from __future__ import annotations

import colorsys
import hashlib
from dataclasses import dataclass

RGB = tuple[int, int, int]

#: (sky or wall top, horizon, ground or floor) per (INT/EXT, time of day)
_SETS: dict[tuple[str, str], tuple[RGB, RGB, RGB]] = {
    ("EXT", "day"): ((110, 170, 225), (200, 225, 240), (120, 150, 95)),
    ("EXT", "dawn"): ((120, 110, 170), (245, 175, 140), (95, 100, 90)),
    ("EXT", "dusk"): ((70, 60, 120), (240, 140, 80), (80, 70, 60)),
    ("EXT", "night"): ((8, 12, 32), (30, 40, 70), (18, 24, 22)),
    ("INT", "day"): ((220, 205, 180), (235, 225, 205), (150, 120, 90)),
    ("INT", "dawn"): ((190, 170, 160), (215, 190, 170), (120, 100, 85)),
    ("INT", "dusk"): ((170, 130, 100), (200, 150, 110), (100, 75, 55)),
    ("INT", "night"): ((45, 38, 35), (70, 58, 45), (30, 25, 22)),
}


@dataclass(frozen=True)
class SetLook:
    top: RGB
    horizon: RGB
    ground: RGB
    night: bool
    exterior: bool


def set_look(int_ext: str, time_of_day: str, palette: list[str] | None = None, lighting: str = "") -> SetLook:
    """The set's colours, tinted by the style bible: its palette colours, else its lighting words."""
    ext = "EXT" if int_ext.upper().startswith("EXT") else "INT"
    tod = time_of_day if time_of_day in ("day", "dawn", "dusk", "night") else "day"
    top, horizon, ground = _SETS[(ext, tod)]
    tint = _average(palette) if palette else _palette_tint(lighting)
    if tint is not None:
        top, horizon, ground = (_mix(c, tint, 0.18) for c in (top, horizon, ground))
    return SetLook(top, horizon, ground, night=tod == "night", exterior=ext == "EXT")


_TINTS: dict[str, RGB] = {
    "warm": (255, 170, 90),
    "暖": (255, 170, 90),
    "cold": (90, 150, 255),
    "cool": (90, 150, 255),
    "冷": (90, 150, 255),
    "teal": (40, 160, 170),
    "青": (40, 160, 170),
    "green": (90, 180, 110),
    "绿": (90, 180, 110),
    "red": (220, 70, 60),
    "红": (220, 70, 60),
    "blue": (70, 110, 220),
    "蓝": (70, 110, 220),
    "gold": (230, 190, 80),
    "金": (230, 190, 80),
}


def _average(palette: list[str]) -> RGB:
    rgb = [(int(c[1:3], 16), int(c[3:5], 16), int(c[5:7], 16)) for c in palette]
    return (sum(c[0] for c in rgb) // len(rgb), sum(c[1] for c in rgb) // len(rgb), sum(c[2] for c in rgb) // len(rgb))


def _palette_tint(palette: str) -> RGB | None:
    lowered = palette.lower()
    for word, rgb in _TINTS.items():
        if word in lowered:
            return rgb
    return None


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    return (int(a[0] + (b[0] - a[0]) * t), int(a[1] + (b[1] - a[1]) * t), int(a[2] + (b[2] - a[2]) * t))


def character_colour(character_id: str, colour: str | None) -> RGB:
    """The document's previz colour, else a saturated colour derived from the id (stable across the film)."""
    if colour:
        return (int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16))
    h = int.from_bytes(hashlib.sha256(character_id.encode()).digest()[:2], "big") / 65535
    r, g, b = colorsys.hsv_to_rgb(h, 0.65, 0.9)
    return (int(r * 255), int(g * 255), int(b * 255))


def lit(colour: RGB, look: SetLook) -> RGB:
    """A figure's colour under the scene's light: dimmed and blued at night."""
    if look.night:
        return _mix((int(colour[0] * 0.45), int(colour[1] * 0.45), int(colour[2] * 0.5)), (20, 30, 60), 0.25)
    return colour


def skin(look: SetLook) -> RGB:
    return lit((236, 200, 170), look) if not look.night else (110, 100, 105)


def shade(colour: RGB, k: float) -> RGB:
    """The colour darkened (``k`` < 1) or lightened (``k`` > 1), as for a sleeve in shadow or hair."""
    return (min(255, int(colour[0] * k)), min(255, int(colour[1] * k)), min(255, int(colour[2] * k)))


def mix(a: RGB, b: RGB, t: float) -> RGB:
    """``a`` moved a fraction ``t`` of the way to ``b``."""
    return _mix(a, b, t)
