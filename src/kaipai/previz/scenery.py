"""The set behind the figures: sky or wall, ground or floor, the horizon and what stands on it.

Perspective lines run to a vanishing point on the horizon, so the camera height reads at once;
an exterior gets a skyline (lit windows at night), an interior a back wall with a door and a
window. The skyline is derived from the location, so every shot of one place shows the same one.
An insert with nobody in it shows its object, named, at the size the shot size implies.
"""

from __future__ import annotations

import random
import re

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from kaipai.document.shots import Shot
from kaipai.previz.look import RGB, SetLook, character_colour, lit, mix, shade

#: shot size → the height of an insert's object as a fraction of the picture height.
OBJECT_SIZE = {"ECU": 0.78, "CU": 0.6, "MCU": 0.45, "MS": 0.32, "MLS": 0.24, "LS": 0.16, "WS": 0.1, "EWS": 0.06}


def backdrop(
    w: int, ph: int, hy: float | None, look: SetLook, location: str, person_at_wall: tuple[float, float] | None = None
) -> Image.Image:
    """The empty set as an RGB picture ``w``×``ph``.

    ``person_at_wall`` is (feet y, height) in pixels of someone standing against an interior's back
    wall, which places the wall's foot and sizes its door; without it the wall meets the floor on
    the horizon.
    """
    interior = not look.exterior and hy is not None
    base = person_at_wall[0] if interior and person_at_wall else hy
    img = Image.fromarray(_gradient(ph, look, hy, base)).resize((w, ph), Image.NEAREST)
    draw = ImageDraw.Draw(img)
    line = shade(look.ground, 0.75)
    if hy is None or base is None:  # overhead: a floor grid seen from above
        step = w / 10
        for i in range(11):
            draw.line([(i * step, 0), (i * step, ph)], fill=line, width=2)
        for j in range(int(ph / step) + 1):
            draw.line([(0, j * step), (w, j * step)], fill=line, width=2)
        return img
    rng = random.Random(location)
    if base < ph:  # the floor: lines running to the vanishing point, from where the floor starts
        vx = w * 0.5
        start = max(base, hy)
        for i in range(-8, 9):
            x_far, y_far = vx + i * w * 0.2, hy + (ph - hy) * 4
            t = (start - hy) / (y_far - hy)
            draw.line([(vx + (x_far - vx) * t, start), (x_far, y_far)], fill=line, width=2)
        for k in range(1, 7):
            y = start + (ph - start) * (k / 7) ** 1.8
            draw.line([(0, y), (w, y)], fill=line, width=1)
    if base > 0:
        if not interior:
            _skyline(draw, w, hy, look, rng)
        else:
            height = person_at_wall[1] if person_at_wall else base * 0.6
            _room(draw, w, base, height * 1.15, look, rng)
    return img


def _gradient(ph: int, look: SetLook, hy: float | None, base: float | None) -> np.ndarray:
    """One column of the sky-to-ground (or wall-to-floor, split at ``base``) gradient, ``ph``×1 RGB."""
    ys = np.arange(ph, dtype=np.float32)[:, None]
    top, mid, bottom = (np.array(c, np.float32) for c in (look.top, look.horizon, look.ground))
    if hy is None or base is None:
        col = bottom[None, :] * (0.85 + 0.15 * ys / max(ph, 1))
    else:
        t_sky = np.clip(ys / max(base, 1.0), 0, 1)
        sky = top[None, :] * (1 - t_sky) + mid[None, :] * t_sky
        ground = bottom[None, :] * (0.8 + 0.2 * np.clip((ys - base) / max(ph - base, 1.0), 0, 1))
        col = np.where(ys < base, sky, ground)
    return np.ascontiguousarray(col[:, None, :].astype(np.uint8))


def _skyline(draw: ImageDraw.ImageDraw, w: int, hy: float, look: SetLook, rng: random.Random) -> None:
    """Hazy blocks standing on the horizon, with the sun or moon above them."""
    sky = min(hy, w * 0.5625)
    if sky > 0.2 * w * 0.5625:
        r = sky * 0.08
        cx, cy = w * 0.84, sky * 0.22
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=(235, 235, 210) if look.night else (255, 240, 170))
    body = shade(look.top, 0.6) if look.night else mix(look.horizon, look.ground, 0.45)
    lamp = (250, 215, 120)
    x = -rng.uniform(0, w * 0.05)
    while x < w:
        bw = rng.uniform(0.04, 0.11) * w
        bh = min(hy * 0.95, rng.uniform(0.06, 0.2) * w)
        if rng.random() < 0.25:  # a gap in the skyline
            x += bw * 0.6
            continue
        draw.rectangle([x, hy - bh, x + bw, hy], fill=body)
        if look.night:
            size = max(2.0, bw / 9)
            for wy in np.arange(hy - bh + size, hy - size * 2, size * 2.2):
                for wx in np.arange(x + size, x + bw - size * 1.5, size * 2.2):
                    if rng.random() < 0.35:
                        draw.rectangle([wx, wy, wx + size, wy + size], fill=lamp)
        x += bw + rng.uniform(0, 0.02) * w


def _room(draw: ImageDraw.ImageDraw, w: int, base: float, door_h: float, look: SetLook, rng: random.Random) -> None:
    """A back wall: skirting where it meets the floor, a door and a window whose glass tells the time of day."""
    line = shade(look.ground, 0.7)
    draw.rectangle([0, base - max(2, door_h * 0.05), w, base], fill=shade(look.horizon, 0.8))
    door_x = rng.uniform(0.06, 0.3) * w
    dw = door_h * 0.45
    draw.rectangle([door_x, base - door_h, door_x + dw, base], fill=shade(look.top, 0.65), outline=line, width=3)
    kr = max(2.0, dw * 0.05)
    draw.ellipse(
        [door_x + dw * 0.8 - kr, base - door_h * 0.48 - kr, door_x + dw * 0.8 + kr, base - door_h * 0.48 + kr],
        fill=(200, 170, 90),
    )
    wx, ww = rng.uniform(0.58, 0.74) * w, door_h * 0.9
    wy, wh = base - door_h * 0.95, door_h * 0.5
    glass = (40, 60, 110) if look.night else (190, 220, 245)
    draw.rectangle([wx, wy, wx + ww, wy + wh], fill=glass, outline=line, width=3)
    draw.line([(wx + ww / 2, wy), (wx + ww / 2, wy + wh)], fill=line, width=3)
    draw.line([(wx, wy + wh / 2), (wx + ww, wy + wh / 2)], fill=line, width=3)


def insert_subject(shot: Shot) -> str:
    """What an insert shows: its props, else the object its description names
    ("特写：雨伞", "close-up of the lantern")."""
    if shot.props:
        return "、".join(shot.props)
    text = " ".join((shot.description or shot.action).split())
    match = re.search(r"[：:]\s*([^。.，,；;：:]+)", text) or re.search(
        r"\bof (?:the |a |an |his |her )?([^.,;]+)", text, re.I
    )
    return match.group(1).strip()[:24] if match else ""


def draw_object(
    draw: ImageDraw.ImageDraw,
    shot: Shot,
    w: int,
    ph: int,
    hy: float | None,
    look: SetLook,
    font: ImageFont.FreeTypeFont,
) -> tuple[int, int, int, int] | None:
    """An insert's object on a surface, centred and as big as the shot size says, with its name on it."""
    name = insert_subject(shot)
    if not name:
        return None
    oh = OBJECT_SIZE.get(shot.size.value, 0.3) * ph
    ow = oh * 0.8
    cx = w / 2
    base = min(ph * 0.92, max(ph * 0.5 + oh / 2, (hy or 0) + oh * 0.35))
    colour: RGB = lit(character_colour("prop:" + name, None), look)
    draw.rectangle([0, base - oh * 0.05, w, ph], fill=shade(look.ground, 0.9))
    draw.rounded_rectangle(
        [cx - ow / 2, base - oh, cx + ow / 2, base],
        radius=ow * 0.18,
        fill=colour,
        outline=(15, 15, 18),
        width=max(2, int(oh / 80)),
    )
    draw.ellipse(
        [cx - ow / 2, base - oh - ow * 0.12, cx + ow / 2, base - oh + ow * 0.12],
        fill=shade(colour, 1.25),
        outline=(15, 15, 18),
        width=max(2, int(oh / 80)),
    )
    tw = draw.textlength(name, font=font)
    size = font.size
    ty = base - oh / 2
    draw.rounded_rectangle(
        [cx - tw / 2 - size * 0.4, ty - size * 0.7, cx + tw / 2 + size * 0.4, ty + size * 0.7],
        radius=size * 0.3,
        fill=(20, 20, 24),
    )
    draw.text((cx, ty), name, font=font, fill=(255, 255, 255), anchor="mm")
    return int(cx - ow / 2), int(base - oh), int(cx + ow / 2), int(base)
