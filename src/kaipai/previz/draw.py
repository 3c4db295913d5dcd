"""Drawing a shot's keyframe from its spec, the way a storyboard artist would.

The frame has to communicate the shot to someone who has never read the script: how big the
people are (shot size), who they are (coloured figures with name tags), where they stand
(thirds, depth, facing), where the camera is (horizon and perspective from the angle), what the
light is (the set's colours), and how the camera moves (an arrow in the caption band).
The picture area sits above a caption band; the band's height and each visible mouth are written
into the PNG so the previz video and lip-sync stages can animate the picture and the mouths.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from PIL.PngImagePlugin import PngInfo

from kaipai.document.models import Character, Scene, Shot, Style
from kaipai.fonts import cjk_font_path
from kaipai.previz.look import RGB, SetLook, character_colour, lit, set_look, skin

BAND = 0.14  # caption band, as a fraction of the frame height
META_KEY = "kaipai-previz"

#: shot size → (head height as a fraction of the picture height, head centre y, full figure visible)
SIZES: dict[str, tuple[float, float, bool]] = {
    "ECU": (1.25, 0.55, False),
    "CU": (0.58, 0.46, False),
    "MCU": (0.40, 0.38, False),
    "MS": (0.26, 0.32, False),
    "MLS": (0.17, 0.27, False),
    "LS": (0.105, 0.0, True),
    "WS": (0.06, 0.0, True),
    "EWS": (0.024, 0.0, True),
}
SIZE_NAMES = {
    "zh": {"ECU": "大特写", "CU": "特写", "MCU": "近景", "MS": "中景", "MLS": "中全景", "LS": "全景", "WS": "远景", "EWS": "大远景"},
    "en": {"ECU": "extreme close-up", "CU": "close-up", "MCU": "medium close-up", "MS": "medium shot", "MLS": "medium long shot", "LS": "long shot", "WS": "wide shot", "EWS": "extreme wide shot"},
}
MOVE_NAMES = {
    "zh": {"static": "固定", "push_in": "推", "pull_out": "拉", "pan_left": "左摇", "pan_right": "右摇", "tilt_up": "上摇", "tilt_down": "下摇", "truck_left": "左移", "truck_right": "右移", "crane_up": "升", "crane_down": "降", "handheld": "手持", "orbit": "环绕"},
    "en": {m: m.replace("_", " ") for m in ("static", "push_in", "pull_out", "pan_left", "pan_right", "tilt_up", "tilt_down", "truck_left", "truck_right", "crane_up", "crane_down", "handheld", "orbit")},
}
THIRD_X = {"left": 1 / 3, "center": 0.5, "right": 2 / 3}
DEPTH = {"foreground": (1.45, 0.10), "midground": (1.0, 0.0), "background": (0.6, -0.08)}  # scale, y shift


@dataclass
class Figure:
    character: Character
    x: float  # centre, pixels
    head_y: float
    head: float  # head height, pixels
    facing: str
    depth: str
    full: bool
    colour: RGB


@dataclass
class Layout:
    """What later stages need to know about the picture: its band, and each visible mouth."""

    width: int
    height: int
    band: int
    mouths: dict[str, tuple[float, float, float, float]] = field(default_factory=dict)  # id → (cx, cy, w, h) in pixels
    figures: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)  # id → bbox in pixels

    def to_json(self) -> str:
        return json.dumps({"width": self.width, "height": self.height, "band": self.band, "mouths": self.mouths, "figures": self.figures})

    @classmethod
    def from_json(cls, text: str) -> Layout:
        data = json.loads(text)
        return cls(data["width"], data["height"], data["band"], {k: tuple(v) for k, v in data["mouths"].items()}, {k: tuple(v) for k, v in data["figures"].items()})  # type: ignore[misc]


@lru_cache(maxsize=32)
def font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(cjk_font_path()), size)


HORIZON = {"eye": 0.45, "ots": 0.45, "pov": 0.45, "dutch": 0.45, "high": 0.2, "low": 0.78, "worms_eye": 0.92, "overhead": None}


def horizon_y(angle: str, h: float) -> float | None:
    """Where the horizon sits: a low camera looks up (horizon low), a high one looks down; none overhead."""
    frac = HORIZON.get(angle, 0.45)
    return None if frac is None else h * frac


def _gradient(w: int, h: int, top: RGB, mid: RGB, bottom: RGB, horizon: float | None) -> np.ndarray:
    ys = np.arange(h, dtype=np.float32)[:, None]
    if horizon is None:  # overhead: all ground
        col = np.array(bottom, np.float32)[None, None, :] * (0.85 + 0.15 * ys[:, :, None] / max(h, 1))
        return np.broadcast_to(col, (h, w, 3)).astype(np.uint8)
    top_a, mid_a, bot_a = (np.array(c, np.float32) for c in (top, mid, bottom))
    t_sky = np.clip(ys / max(horizon, 1), 0, 1)[:, :, None]
    sky = top_a * (1 - t_sky) + mid_a * t_sky
    t_ground = np.clip((ys - horizon) / max(h - horizon, 1), 0, 1)[:, :, None]
    ground = bot_a * (0.8 + 0.2 * t_ground)
    img = np.where((ys < horizon)[:, :, None], sky, ground)
    return np.broadcast_to(img, (h, w, 3)).astype(np.uint8)


def _set(draw: ImageDraw.ImageDraw, w: int, h: int, hy: float | None, look: SetLook) -> None:
    """Perspective lines on the ground towards a vanishing point, a window or moon for the light."""
    line = tuple(max(0, c - 30) for c in look.ground)
    if hy is None:
        step = w / 8
        for i in range(9):
            draw.line([(i * step, 0), (i * step, h)], fill=line, width=2)
            draw.line([(0, i * step), (w, i * step)], fill=line, width=2)
        return
    vx = w * 0.5
    for i in range(-6, 7):
        draw.line([(vx, hy), (vx + i * w * 0.25, h)], fill=line, width=2)
    for k in range(1, 6):
        y = hy + (h - hy) * (k / 6) ** 1.8
        draw.line([(0, y), (w, y)], fill=line, width=1)
    if look.exterior and hy > h * 0.15:
        r = h * 0.05
        cx, cy = w * 0.82, hy * 0.35
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=(235, 235, 210) if look.night else (255, 240, 170))
    elif not look.exterior and hy > h * 0.25:
        wx, wy, ww, wh = w * 0.7, hy * 0.25, w * 0.14, hy * 0.5
        glass = (40, 60, 110) if look.night else (190, 220, 245)
        draw.rectangle([wx, wy, wx + ww, wy + wh], fill=glass, outline=line, width=3)
        draw.line([(wx + ww / 2, wy), (wx + ww / 2, wy + wh)], fill=line, width=3)


def _figures(shot: Shot, characters: list[Character], w: int, h: int, hy: float | None, look: SetLook) -> list[Figure]:
    by_id = {c.id: c for c in characters}
    head_frac, head_y_frac, full = SIZES.get(shot.size.value, SIZES["MS"])
    placed = [p for p in shot.composition if p.character in by_id]
    figures = []
    n_same_third: dict[str, int] = {}
    for p in placed:
        scale, shift = DEPTH.get(p.depth.value, (1.0, 0.0))
        if not full:
            scale = 1 + (scale - 1) * 0.5  # a close shot has little depth to play with
        head = h * head_frac * scale
        k = n_same_third.get(p.third.value, 0)
        n_same_third[p.third.value] = k + 1
        x = w * THIRD_X[p.third.value] + k * head * 1.2 * (1 if p.third.value != "right" else -1)
        if full:
            ground = (hy if hy is not None else h * 0.3) + (h - (hy or h * 0.3)) * (0.55 + shift * 2.5)
            head_y = ground - head * 6.5
        else:
            head_y = h * (head_y_frac + shift)
        figures.append(Figure(by_id[p.character], x, head_y, head, p.facing.value, p.depth.value, full, lit(character_colour(p.character, by_id[p.character].color), look)))
    figures.sort(key=lambda f: ("background", "midground", "foreground").index(f.depth))
    return figures


def _draw_figure(draw: ImageDraw.ImageDraw, f: Figure, look: SetLook, layout: Layout, lang: str) -> None:
    hw = f.head * 0.4  # head half-width
    cx, cy = f.x, f.head_y
    body_top = cy + f.head * 0.5
    shoulders = f.head * 1.15
    body_bottom = cy + f.head * (6.5 if f.full else 4.0)
    outline = (20, 20, 20) if not look.night else (5, 5, 10)
    ow = max(1, int(f.head / 40))
    draw.polygon([(cx - shoulders, body_top + f.head * 0.35), (cx + shoulders, body_top + f.head * 0.35), (cx + shoulders * 0.8, body_bottom), (cx - shoulders * 0.8, body_bottom)], fill=f.colour, outline=outline)
    draw.rounded_rectangle([cx - shoulders, body_top + f.head * 0.15, cx + shoulders, body_top + f.head * 0.9], radius=f.head * 0.3, fill=f.colour, outline=outline)
    draw.rectangle([cx - hw * 0.35, body_top - f.head * 0.05, cx + hw * 0.35, body_top + f.head * 0.25], fill=skin(look))
    hair = lit(tuple(int(c * 0.35) for c in f.colour), look)  # type: ignore[arg-type]
    draw.ellipse([cx - hw, cy - f.head * 0.5, cx + hw, cy + f.head * 0.5], fill=skin(look) if f.facing != "away" else hair, outline=outline, width=ow)
    layout.figures[f.character.id] = (int(cx - shoulders), int(cy - f.head * 0.5), int(cx + shoulders), int(body_bottom))
    if f.facing != "away":
        draw.chord([cx - hw, cy - f.head * 0.5, cx + hw, cy + f.head * 0.1], 180, 360, fill=hair)
        look_dx = {"camera": 0.0, "left": -0.35, "right": 0.35}.get(f.facing, 0.0) * hw
        eye_r = max(1.0, f.head * 0.055)
        for side in (-1, 1) if f.facing == "camera" else (-0.5, 0.5):
            ex, ey = cx + look_dx + side * hw * 0.42, cy + f.head * 0.02
            draw.ellipse([ex - eye_r, ey - eye_r, ex + eye_r, ey + eye_r], fill=(25, 25, 30))
        mx, my = cx + look_dx * 0.8, cy + f.head * 0.27
        mw, mh = hw * 0.55, f.head * 0.16
        draw.line([(mx - mw / 2, my), (mx + mw / 2, my)], fill=(120, 40, 40), width=max(1, int(f.head / 50)))
        layout.mouths[f.character.id] = (mx, my, mw, mh)
    size = max(12, min(48, int(f.head * 0.28)))
    tag = f.character.name
    tf = font(size)
    tw = draw.textlength(tag, font=tf)
    ty = max(2, cy - f.head * 0.5 - size * 1.6)
    draw.rounded_rectangle([cx - tw / 2 - size * 0.4, ty, cx + tw / 2 + size * 0.4, ty + size * 1.35], radius=size * 0.4, fill=f.colour, outline=(255, 255, 255), width=2)
    draw.text((cx, ty + size * 0.68), tag, font=tf, fill=(255, 255, 255) if sum(f.colour) < 450 else (0, 0, 0), anchor="mm")


def _arrow(draw: ImageDraw.ImageDraw, x0: float, y0: float, x1: float, y1: float, colour: RGB, width: int) -> None:
    draw.line([(x0, y0), (x1, y1)], fill=colour, width=width)
    ang = math.atan2(y1 - y0, x1 - x0)
    size = width * 3.5
    pts = [(x1, y1), (x1 - size * math.cos(ang - 0.5), y1 - size * math.sin(ang - 0.5)), (x1 - size * math.cos(ang + 0.5), y1 - size * math.sin(ang + 0.5))]
    draw.polygon(pts, fill=colour)


def draw_move_icon(draw: ImageDraw.ImageDraw, move: str, box: tuple[float, float, float, float]) -> None:
    """A small frame with arrows for the camera move, as storyboards draw it."""
    x0, y0, x1, y1 = box
    c = (255, 210, 80)
    w = max(2, int((y1 - y0) / 14))
    draw.rectangle(box, outline=(220, 220, 220), width=max(1, w // 2))
    cx, cy, rx, ry = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2, (y1 - y0) / 2
    if move == "push_in":
        for sx, sy in ((-1, -1), (1, -1), (-1, 1), (1, 1)):
            _arrow(draw, cx + sx * rx * 0.9, cy + sy * ry * 0.9, cx + sx * rx * 0.35, cy + sy * ry * 0.35, c, w)
    elif move == "pull_out":
        for sx, sy in ((-1, -1), (1, -1), (-1, 1), (1, 1)):
            _arrow(draw, cx + sx * rx * 0.2, cy + sy * ry * 0.2, cx + sx * rx * 0.85, cy + sy * ry * 0.85, c, w)
    elif move in ("pan_left", "truck_left"):
        _arrow(draw, cx + rx * 0.7, cy, cx - rx * 0.7, cy, c, w)
    elif move in ("pan_right", "truck_right"):
        _arrow(draw, cx - rx * 0.7, cy, cx + rx * 0.7, cy, c, w)
    elif move in ("tilt_up", "crane_up"):
        _arrow(draw, cx, cy + ry * 0.7, cx, cy - ry * 0.7, c, w)
    elif move in ("tilt_down", "crane_down"):
        _arrow(draw, cx, cy - ry * 0.7, cx, cy + ry * 0.7, c, w)
    elif move == "handheld":
        pts = [(x0 + rx * 0.2 + i * rx * 0.2, cy + (ry * 0.4 if i % 2 else -ry * 0.4)) for i in range(9)]
        draw.line(pts, fill=c, width=w)
    elif move == "orbit":
        draw.arc([cx - rx * 0.7, cy - ry * 0.5, cx + rx * 0.7, cy + ry * 0.5], 200, 520, fill=c, width=w)
        _arrow(draw, cx + rx * 0.5, cy + ry * 0.35, cx + rx * 0.7, cy, c, w)
    else:
        draw.ellipse([cx - w * 2, cy - w * 2, cx + w * 2, cy + w * 2], fill=c)


def _caption(img: Image.Image, shot: Shot, lang: str, band: int) -> None:
    w, h = img.size
    draw = ImageDraw.Draw(img)
    draw.rectangle([0, h - band, w, h], fill=(12, 12, 14))
    names = "zh" if lang == "zh" else "en"
    size = max(12, int(band * 0.3))
    title = f"{shot.id}  ·  {shot.size.value} {SIZE_NAMES[names].get(shot.size.value, '')}  ·  {MOVE_NAMES[names].get(shot.move.value, shot.move.value)}"
    draw.text((band * 1.5, h - band + band * 0.1), title, font=font(size), fill=(255, 210, 80))
    desc = " ".join((shot.description or shot.action or "").split())
    small = font(max(10, int(size * 0.8)))
    limit = w - band * 1.8
    while desc and draw.textlength(desc, font=small) > limit:
        desc = desc[:-2] + "…" if not desc.endswith("…") else desc[:-2] + "…"
        if len(desc) <= 2:
            break
    draw.text((band * 1.5, h - band + band * 0.55), desc, font=small, fill=(235, 235, 235))
    pad = band * 0.15
    draw_move_icon(draw, shot.move.value, (pad, h - band + pad, band * 1.3 - pad, h - pad))


def draw_keyframe(
    shot: Shot, scene: Scene | None, characters: list[Character], style: Style, width: int, height: int, language: str = "zh"
) -> tuple[Image.Image, Layout]:
    """Draw the frame for ``shot``. Deterministic: the same spec always gives the same pixels."""
    band = int(round(height * BAND / 2) * 2)
    ph = height - band
    look = set_look(scene.int_ext.value if scene else "INT", scene.time_of_day.value if scene else "day", style.palette, style.lighting)
    angle = shot.angle.value
    hy = horizon_y(angle, ph)
    picture = Image.fromarray(np.ascontiguousarray(_gradient(width, ph, look.top, look.horizon, look.ground, hy)))
    draw = ImageDraw.Draw(picture)
    _set(draw, width, ph, hy, look)
    layout = Layout(width, height, band)
    for f in _figures(shot, characters, width, ph, hy, look):
        _draw_figure(draw, f, look, layout, language)
    if angle == "dutch":
        picture = picture.rotate(12, resample=Image.BILINEAR, expand=False, fillcolor=look.ground)
        layout.mouths = {k: _rotate(v, width, ph, 12) for k, v in layout.mouths.items()}
    img = Image.new("RGB", (width, height))
    img.paste(picture, (0, 0))
    _caption(img, shot, language, band)
    return img, layout


def _rotate(m: tuple[float, float, float, float], w: int, h: int, degrees: float) -> tuple[float, float, float, float]:
    a = math.radians(degrees)
    cx, cy = w / 2, h / 2
    x, y = m[0] - cx, m[1] - cy
    return (cx + x * math.cos(a) + y * math.sin(a), cy - x * math.sin(a) + y * math.cos(a), m[2], m[3])


def save_keyframe(img: Image.Image, layout: Layout, path: str) -> None:
    info = PngInfo()
    info.add_text(META_KEY, layout.to_json())
    img.save(path, pnginfo=info, compress_level=1)


def read_layout(img: Image.Image) -> Layout | None:
    """The previz layout written into a keyframe, or None for a picture made elsewhere."""
    text = getattr(img, "text", {}).get(META_KEY) if hasattr(img, "text") else None
    return Layout.from_json(text) if text else None
