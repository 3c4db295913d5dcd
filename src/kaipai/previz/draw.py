"""Drawing a shot's keyframe from its spec, the way a storyboard artist would.

The frame has to communicate the shot to someone who has never read the script: how big the
people are (shot size), who they are (coloured figures with name tags), where they stand
(thirds, depth, facing), where the camera is (horizon and perspective from the angle), what the
light is (the set's colours). The picture fills the frame: the film, the storyboard and the NLE
exports show it clean. The animatic's info bar (shot id, size, camera move with its arrow icon, the
description) is drawn separately by :func:`draw_info_bar` and laid over the picture only where a
director asks for the slate. Each visible mouth is written into the PNG so the previz video and
lip-sync stages can animate the picture and the mouths. (Keyframes drawn by the first release had the
bar baked in below the picture; their layout says how tall, see :func:`baked_band`.)
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont
from PIL.PngImagePlugin import PngInfo

from kaipai.document.cast import Character
from kaipai.document.scenes import Scene
from kaipai.document.settings import Style
from kaipai.document.shots import Shot
from kaipai.fonts import cjk_font_path
from kaipai.previz.figures import (
    Figure,
    draw_figure,
    draw_from_above,
    face_box,
    horizon_y,
    name_tag,
    place,
    standing,
)
from kaipai.previz.look import RGB, SetLook, set_look
from kaipai.previz.scenery import backdrop, draw_object

BAND = 0.14  # the info bar, as a fraction of the frame height
META_KEY = "kaipai-previz"
DUTCH = 12  # degrees the dutch angle tilts the picture
WALL_DISTANCE = 2.2  # an interior's back wall, in multiples of the main figure's distance

SIZE_NAMES = {
    "zh": {
        "ECU": "大特写",
        "CU": "特写",
        "MCU": "近景",
        "MS": "中景",
        "MLS": "中全景",
        "LS": "全景",
        "WS": "远景",
        "EWS": "大远景",
    },
    "en": {
        "ECU": "extreme close-up",
        "CU": "close-up",
        "MCU": "medium close-up",
        "MS": "medium shot",
        "MLS": "medium long shot",
        "LS": "long shot",
        "WS": "wide shot",
        "EWS": "extreme wide shot",
    },
}
MOVE_NAMES = {
    "zh": {
        "static": "固定",
        "push_in": "推",
        "pull_out": "拉",
        "pan_left": "左摇",
        "pan_right": "右摇",
        "tilt_up": "上摇",
        "tilt_down": "下摇",
        "truck_left": "左移",
        "truck_right": "右移",
        "crane_up": "升",
        "crane_down": "降",
        "handheld": "手持",
        "orbit": "环绕",
    },
    "en": {
        m: m.replace("_", " ")
        for m in (
            "static",
            "push_in",
            "pull_out",
            "pan_left",
            "pan_right",
            "tilt_up",
            "tilt_down",
            "truck_left",
            "truck_right",
            "crane_up",
            "crane_down",
            "handheld",
            "orbit",
        )
    },
}


@dataclass
class Layout:
    """What later stages need to know about the picture: its band, and each visible mouth."""

    width: int
    height: int
    band: int
    mouths: dict[str, tuple[float, float, float, float]] = field(default_factory=dict)  # id → (cx, cy, w, h) in pixels
    figures: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)  # id → bbox in pixels

    def to_json(self) -> str:
        return json.dumps(
            {
                "width": self.width,
                "height": self.height,
                "band": self.band,
                "mouths": self.mouths,
                "figures": self.figures,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Layout:
        data = json.loads(text)
        return cls(
            data["width"],
            data["height"],
            data["band"],
            {k: tuple(v) for k, v in data["mouths"].items()},
            {k: tuple(v) for k, v in data["figures"].items()},
        )  # type: ignore[misc]


@lru_cache(maxsize=32)
def font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(cjk_font_path()), size)


def _arrow(draw: ImageDraw.ImageDraw, x0: float, y0: float, x1: float, y1: float, colour: RGB, width: int) -> None:
    draw.line([(x0, y0), (x1, y1)], fill=colour, width=width)
    ang = math.atan2(y1 - y0, x1 - x0)
    size = width * 3.5
    pts = [
        (x1, y1),
        (x1 - size * math.cos(ang - 0.5), y1 - size * math.sin(ang - 0.5)),
        (x1 - size * math.cos(ang + 0.5), y1 - size * math.sin(ang + 0.5)),
    ]
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


def draw_info_bar(shot: Shot, language: str, width: int, height: int) -> Image.Image:
    """The animatic's info bar for ``shot`` (``width`` × the bar's height): the shot id, size, camera move
    and its icon, and the description, to lay over the bottom of the frame."""
    band = int(round(height * BAND / 2) * 2)
    img = Image.new("RGB", (width, band))
    _caption(img, shot, language, band)
    return img


def _caption(img: Image.Image, shot: Shot, lang: str, band: int) -> None:
    w, h = img.size
    draw = ImageDraw.Draw(img)
    draw.rectangle([0, h - band, w, h], fill=(12, 12, 14))
    names = "zh" if lang == "zh" else "en"
    size = max(12, int(band * 0.3))
    title = (
        f"{shot.id}  ·  {shot.size.value} {SIZE_NAMES[names].get(shot.size.value, '')}  ·  "
        f"{MOVE_NAMES[names].get(shot.move.value, shot.move.value)}"
    )
    draw.text((band * 1.5, h - band + band * 0.1), title, font=font(size), fill=(255, 210, 80))
    desc = " ".join((shot.description or shot.action or "").split())
    small = font(max(10, int(size * 0.8)))
    limit = w - band * 1.8
    while desc and draw.textlength(desc, font=small) > limit:
        desc = desc[:-2] + "…"
        if len(desc) <= 2:
            break
    draw.text((band * 1.5, h - band + band * 0.55), desc, font=small, fill=(235, 235, 235))
    pad = band * 0.15
    draw_move_icon(draw, shot.move.value, (pad, h - band + pad, band * 1.3 - pad, h - pad))


@dataclass
class Scenery:
    """A shot's empty set: its look, its horizon and the picture area without anybody in it."""

    look: SetLook
    horizon: float | None
    plate: Image.Image
    band: int


def scenery(shot: Shot, scene: Scene | None, style: Style, width: int, height: int, neutral: bool = False) -> Scenery:
    """The set a shot's figures stand in (``neutral``: plain grey with a floor, as a reference sheet wants)."""
    band = int(round(height * BAND / 2) * 2) if neutral else 0  # a reference sheet keeps its caption
    ph = height - band
    lighting = f"{style.lighting} {shot.lighting}".strip()
    look = set_look(
        scene.int_ext.value if scene else "INT", scene.time_of_day.value if scene else "day", style.palette, lighting
    )
    hy = horizon_y(shot, ph)
    wall = standing(shot, ph, WALL_DISTANCE)
    if neutral:
        plate = Image.new("RGB", (width, ph), (150, 150, 152))
        if hy is not None:
            ImageDraw.Draw(plate).rectangle([0, int(hy), width, ph], fill=(128, 128, 130))
    else:
        plate = backdrop(width, ph, hy, look, (scene.location or scene.id) if scene else "", wall)
    return Scenery(look, hy, plate, band)


def draw_keyframe(
    shot: Shot,
    scene: Scene | None,
    characters: list[Character],
    style: Style,
    width: int,
    height: int,
    language: str = "zh",
    neutral: bool = False,
) -> tuple[Image.Image, Layout]:
    """Draw the frame for ``shot``. Deterministic: the same spec always gives the same pixels.

    ``neutral`` puts the figures on plain grey with a floor, as a reference sheet wants them.
    """
    sc = scenery(shot, scene, style, width, height, neutral)
    figures = place(shot, characters, width, height - sc.band, sc.horizon, sc.look)
    return compose(shot, sc, figures, width, height, language)


def compose(
    shot: Shot, sc: Scenery, figures: list[Figure], width: int, height: int, language: str
) -> tuple[Image.Image, Layout]:
    """The frame: the set, the ``figures`` (far to near) with their name tags, and the caption band.

    A previz clip that moves from a shot's start to its end composes each frame from moving figures.
    """
    ph = height - sc.band
    hy, look = sc.horizon, sc.look
    picture = sc.plate.copy()
    draw = ImageDraw.Draw(picture)
    layout = Layout(width, height, sc.band)
    tag_size = max(12, int(ph * 0.035))
    for f in figures:
        if hy is None:
            layout.figures[f.character.id] = draw_from_above(draw, f, look)
            continue
        box, mouth = draw_figure(draw, f, look)
        layout.figures[f.character.id] = box
        if mouth is not None:
            layout.mouths[f.character.id] = mouth
    taken = [face_box(f) for f in figures if f.facing != "away" and hy is not None]
    for f in reversed(figures):  # the nearest first: it has the least choice
        taken.append(name_tag(draw, f, font(int(min(ph * 0.07, max(tag_size, f.head * 0.26)))), width, ph, taken))
    if not figures and (shot.kind.value == "insert" or shot.props):
        draw_object(draw, shot, width, ph, hy, look, font(max(14, int(ph * 0.05))))
    if shot.angle.value == "dutch":
        picture = picture.rotate(DUTCH, resample=Image.BILINEAR, expand=False, fillcolor=look.ground)
        layout.mouths = {k: rotate_point(v, width, ph, DUTCH) for k, v in layout.mouths.items()}
    if not sc.band:  # the picture fills the frame: the info bar is the animatic's, laid over it later
        return picture, layout
    img = Image.new("RGB", (width, height))
    img.paste(picture, (0, 0))
    _caption(img, shot, language, sc.band)
    return img, layout


def rotate_point(
    m: tuple[float, float, float, float], w: int, h: int, degrees: float
) -> tuple[float, float, float, float]:
    """A mouth (cx, cy, w, h) where it lands when the picture turns by ``degrees`` (a dutch angle)."""
    a = math.radians(degrees)
    cx, cy = w / 2, h / 2
    x, y = m[0] - cx, m[1] - cy
    return (cx + x * math.cos(a) + y * math.sin(a), cy - x * math.sin(a) + y * math.cos(a), m[2], m[3])


def save_keyframe(img: Image.Image, layout: Layout, path: str) -> None:
    info = PngInfo()
    info.add_text(META_KEY, layout.to_json())
    img.save(path, pnginfo=info, compress_level=1)


def baked_band(path: str) -> float:
    """The share of a previz picture's height taken by an info bar baked into it by the first release
    (0.0 for a clean picture, or one made elsewhere): a keyframe's layout, or a clip's metadata."""
    try:
        if path.lower().endswith(".png"):
            with Image.open(path) as img:
                layout = read_layout(img)
            return layout.band / layout.height if layout is not None and layout.height else 0.0
        import av

        from kaipai.previz.motion import previz_metadata  # motion draws with this module: read when asked

        with av.open(path) as container:
            meta = previz_metadata(container) or {}
            height = container.streams.video[0].codec_context.height if container.streams.video else 0
        return float(meta.get("band_h", 0)) / height if height else 0.0
    except Exception:  # unreadable, or not media at all: not a previz picture either
        return 0.0


def read_layout(img: Image.Image) -> Layout | None:
    """The previz layout written into a keyframe, or None for a picture made elsewhere."""
    text = getattr(img, "text", {}).get(META_KEY) if hasattr(img, "text") else None
    return Layout.from_json(text) if text else None
