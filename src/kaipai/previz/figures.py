"""Storyboard figures: where each character stands in the frame, and how they are drawn.

Every figure is the same seven-heads-tall body; the shot size only decides how big the head is
and where it sits, and the frame edge crops the rest, exactly as a lens would. The horizon
crosses every standing figure at the camera's height (eyes for an eye-level shot, knees for a
low one, above the heads for a high one), which is what makes the angle readable.
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import ImageDraw, ImageFont

from kaipai.document.cast import Character
from kaipai.document.shots import Shot
from kaipai.previz.look import RGB, SetLook, character_colour, lit, shade, skin

#: Body landmarks in head heights from the top of the head.
CHIN, SHOULDER, WAIST, HIP, KNEE, FEET = 1.0, 1.3, 3.0, 3.5, 5.3, 7.0
EYES = 0.45

#: shot size → (head height, head top) as fractions of the picture height, for the main figure.
FRAMING: dict[str, tuple[float, float]] = {
    "ECU": (1.35, -0.2),
    "CU": (0.62, 0.09),
    "MCU": (0.42, 0.10),
    "MS": (0.27, 0.11),
    "MLS": (0.165, 0.10),
    "LS": (0.112, 0.08),
    "WS": (0.058, 0.41),
    "EWS": (0.024, 0.47),
}
FULL_BODY = frozenset({"LS", "WS", "EWS"})
#: camera angle → the body height (head heights from the top of the head) the horizon crosses.
CAMERA_HEIGHT: dict[str, float] = {
    "eye": EYES,
    "ots": EYES,
    "pov": EYES,
    "dutch": EYES,
    "low": 4.4,
    "worms_eye": 6.8,
    "high": -2.2,
}
THIRD_X = {"left": 1 / 3, "center": 0.5, "right": 2 / 3}
DEPTH_SCALE = {"foreground": 1.45, "midground": 1.0, "background": 0.6}


@dataclass
class Figure:
    character: Character
    x: float  # body centre, pixels
    top: float  # top of the head, pixels
    head: float  # head height, pixels
    facing: str
    depth: str
    colour: RGB


def horizon_y(shot: Shot, ph: int) -> float | None:
    """Where the horizon crosses the picture (may lie outside it); None looking straight down."""
    angle = shot.angle.value
    if angle == "overhead":
        return None
    head, top = FRAMING.get(shot.size.value, FRAMING["MS"])
    return (top + camera_height(shot) * head) * ph


def camera_height(shot: Shot) -> float:
    """The camera's height in head heights from the top of the main figure's head (negative: above it)."""
    angle = shot.angle.value
    if angle == "high":  # a wide high shot is taken from far above: the horizon near the top of the frame
        return -max(2.2, 0.3 / FRAMING.get(shot.size.value, FRAMING["MS"])[0])
    return CAMERA_HEIGHT.get(angle, EYES)


def standing(shot: Shot, ph: int, distance: float) -> tuple[float, float] | None:
    """(feet y, height) in pixels of a person ``distance`` times as far as the main figure; None overhead."""
    hy = horizon_y(shot, ph)
    if hy is None:
        return None
    head = FRAMING.get(shot.size.value, FRAMING["MS"])[0] * ph / distance
    return hy + (FEET - camera_height(shot)) * head, FEET * head


def place(shot: Shot, characters: list[Character], w: int, ph: int, hy: float | None, look: SetLook) -> list[Figure]:
    """The figures of the shot's composition, far to near (the drawing order)."""
    by_id = {c.id: c for c in characters}
    head_frac, top_frac = FRAMING.get(shot.size.value, FRAMING["MS"])
    camera = camera_height(shot)
    full = shot.size.value in FULL_BODY
    figures: list[Figure] = []
    placed = [p for p in shot.composition if p.character in by_id]
    per_third = {t: sum(1 for p in placed if p.third.value == t) for t in THIRD_X}
    crowd: dict[str, int] = {}
    for p in placed:
        scale = DEPTH_SCALE[p.depth.value]
        if not full:  # a close shot has little depth to play with
            scale = 1 + (scale - 1) * 0.5
        head = head_frac * ph * scale
        if hy is None:  # overhead: depth is height above the floor, not position
            top = top_frac * ph
        else:
            top = hy - camera * head
            if not full:  # keep every face in a close shot, whatever the depth
                top = min(max(top, 0.04 * ph - (0.6 if shot.size.value == "ECU" else 0) * head), ph * 0.6)
        k = crowd.get(p.third.value, 0)
        crowd[p.third.value] = k + 1
        same = per_third[p.third.value]
        room = w * 0.8 if same == len(placed) else w / 3  # a group alone in the frame may use all of it
        spacing = min(head * 2.6, room / max(1, same - 1))
        x = w * THIRD_X[p.third.value] + (k - (per_third[p.third.value] - 1) / 2) * spacing  # a crowd shares its third
        colour = lit(character_colour(p.character, by_id[p.character].color), look)
        figures.append(Figure(by_id[p.character], x, top, head, p.facing.value, p.depth.value, colour))
    order = ("background", "midground", "foreground")
    figures.sort(key=lambda f: (order.index(f.depth), f.head))
    return figures


def draw_figure(
    draw: ImageDraw.ImageDraw, f: Figure, look: SetLook
) -> tuple[tuple[int, int, int, int], tuple[float, float, float, float] | None]:
    """Draw a standing figure; returns its bounding box and its mouth (cx, cy, w, h), if the face shows."""
    u, cx, y0 = f.head, f.x, f.top
    outline = (15, 15, 18)
    ow = max(1, int(u / 45))
    cloth = f.colour
    dark = shade(cloth, 0.7)
    legs = shade(cloth, 0.45)
    # legs and feet
    for side in (-1, 1):
        lx = cx + side * u * 0.32
        draw.rectangle(
            [lx - u * 0.24, y0 + u * HIP, lx + u * 0.24, y0 + u * (FEET - 0.15)], fill=legs, outline=outline, width=ow
        )
        draw.ellipse(
            [lx - u * 0.3 + side * u * 0.08, y0 + u * (FEET - 0.3), lx + u * 0.3 + side * u * 0.08, y0 + u * FEET],
            fill=(35, 30, 30),
        )
    # arms behind the torso edges, then the torso
    shoulder = u * 1.05
    for side in (-1, 1):
        ax = cx + side * shoulder * 0.92
        draw.rounded_rectangle(
            [ax - u * 0.24, y0 + u * (SHOULDER + 0.05), ax + u * 0.24, y0 + u * (HIP + 0.2)],
            radius=u * 0.2,
            fill=dark,
            outline=outline,
            width=ow,
        )
    draw.polygon(
        [
            (cx - shoulder * 0.8, y0 + u * SHOULDER),
            (cx + shoulder * 0.8, y0 + u * SHOULDER),
            (cx + u * 0.7, y0 + u * HIP),
            (cx - u * 0.7, y0 + u * HIP),
        ],
        fill=cloth,
        outline=outline,
    )
    draw.rounded_rectangle(
        [cx - shoulder * 0.85, y0 + u * (SHOULDER - 0.05), cx + shoulder * 0.85, y0 + u * (SHOULDER + 0.6)],
        radius=u * 0.3,
        fill=cloth,
        outline=outline,
        width=ow,
    )
    # neck and head
    skin_c = skin(look)
    draw.rectangle([cx - u * 0.14, y0 + u * (CHIN - 0.1), cx + u * 0.14, y0 + u * (SHOULDER + 0.05)], fill=skin_c)
    hw = u * 0.4
    hair = shade(cloth, 0.35)
    away = f.facing == "away"
    draw.ellipse([cx - hw, y0, cx + hw, y0 + u], fill=hair if away else skin_c, outline=outline, width=ow)
    box = (int(cx - shoulder), int(y0), int(cx + shoulder), int(y0 + u * FEET))
    if away:
        return box, None
    draw.chord([cx - hw, y0, cx + hw, y0 + u * 0.6], 180, 360, fill=hair)
    turn = {"camera": 0.0, "left": -1.0, "right": 1.0}.get(f.facing, 0.0)
    eye_r = max(1.0, u * 0.055)
    ey = y0 + u * EYES
    for side in (-1, 1):
        ex = cx + turn * hw * 0.3 + side * hw * (0.42 if turn == 0 else 0.3)
        draw.ellipse([ex - eye_r, ey - eye_r, ex + eye_r, ey + eye_r], fill=(25, 25, 30))
    if turn:  # a nose pointing where the character looks
        nx = cx + turn * hw
        draw.polygon(
            [
                (nx - turn * u * 0.04, ey + u * 0.04),
                (nx + turn * u * 0.09, y0 + u * 0.62),
                (nx - turn * u * 0.02, y0 + u * 0.66),
            ],
            fill=skin_c,
            outline=outline,
        )
    mouth = mouth_of(f)
    assert mouth is not None
    mx, my, mw, _ = mouth
    draw.line([(mx - mw / 2, my), (mx + mw / 2, my)], fill=(120, 40, 40), width=max(1, int(u / 50)))
    return box, mouth


def mouth_of(f: Figure) -> tuple[float, float, float, float] | None:
    """Where a standing figure's mouth is drawn (cx, cy, w, h), or None when the face is turned away."""
    if f.facing == "away":
        return None
    u, hw = f.head, f.head * 0.4
    turn = {"camera": 0.0, "left": -1.0, "right": 1.0}.get(f.facing, 0.0)
    return f.x + turn * hw * 0.35, f.top + u * 0.77, hw * 0.55, u * 0.16


def draw_from_above(draw: ImageDraw.ImageDraw, f: Figure, look: SetLook) -> tuple[int, int, int, int]:
    """A figure seen from straight overhead: shoulders and the crown of the head, turned to the facing."""
    u, cx = f.head, f.x
    cy = f.top + u * 1.5
    outline = (15, 15, 18)
    draw.ellipse(
        [cx - u * 1.1, cy - u * 0.5, cx + u * 1.1, cy + u * 0.5],
        fill=f.colour,
        outline=outline,
        width=max(1, int(u / 40)),
    )
    dx = {"left": -0.2, "right": 0.2}.get(f.facing, 0.0) * u
    dy = {"camera": 0.15, "away": -0.15}.get(f.facing, 0.0) * u
    draw.ellipse(
        [cx + dx - u * 0.45, cy + dy - u * 0.45, cx + dx + u * 0.45, cy + dy + u * 0.45],
        fill=shade(f.colour, 0.35),
        outline=outline,
    )
    return int(cx - u * 1.1), int(cy - u * 0.5), int(cx + u * 1.1), int(cy + u * 0.5)


Box = tuple[float, float, float, float]


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def tag_box(f: Figure, text_w: float, size: int, w: int, ph: int, taken: list[Box]) -> Box:
    """Where the name tag goes: above the head, else on the chest, else beside the head;
    never on another tag or face."""
    bw, bh = text_w + size * 0.8, size * 1.35
    side = 1 if f.x < w / 2 else -1
    candidates = [
        (f.x - bw / 2, f.top - bh - size * 0.3),  # above the head
        (f.x - bw / 2, f.top + f.head * 1.75),  # on the chest, like a badge
        (f.x + side * (f.head * 0.5 + size * 0.4) - (0 if side > 0 else bw), f.top + f.head * 0.1),  # beside the head
        (f.x - side * (f.head * 0.5 + size * 0.4) - (bw if side > 0 else 0), f.top + f.head * 0.1),
    ]
    fallback: Box | None = None
    for x, y in candidates:
        box = (min(max(2, x), w - bw - 2), y, min(max(2, x), w - bw - 2) + bw, y + bh)
        if box[1] < 2 or box[3] > ph - 2:
            continue
        fallback = fallback or box
        if not any(_overlaps(box, t) for t in taken):
            return box
    if fallback is not None:
        return fallback
    y = min(max(2.0, f.top), ph - bh - 2)
    x = min(max(2, f.x - bw / 2), w - bw - 2)
    return (x, y, x + bw, y + bh)


def face_box(f: Figure) -> Box:
    return (f.x - f.head * 0.4, f.top, f.x + f.head * 0.4, f.top + f.head)


def name_tag(
    draw: ImageDraw.ImageDraw, f: Figure, font: ImageFont.FreeTypeFont, w: int, ph: int, taken: list[Box]
) -> Box:
    """Draw the character's name on their colour where it is free; returns the tag's box (add it to ``taken``)."""
    size = int(font.size)
    x0, y0, x1, y1 = box = tag_box(f, draw.textlength(f.character.name, font=font), size, w, ph, taken)
    draw.rounded_rectangle([x0, y0, x1, y1], radius=size * 0.4, fill=f.colour, outline=(255, 255, 255), width=2)
    ink = (255, 255, 255) if sum(f.colour) < 450 else (0, 0, 0)
    draw.text(((x0 + x1) / 2, (y0 + y1) / 2), f.character.name, font=font, fill=ink, anchor="mm")
    return box
