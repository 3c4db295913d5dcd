"""The visible AIGC notice ("AI生成" / "AI generated") on the opening frames, and finding it again.

GB 45438-2025 asks for a text notice on a video's opening frames for at least 2 s, in a corner or
on an edge, with a text height of at least 5 % of the frame's shorter side. Height means ink, not
font size (a CJK glyph's ink is about 0.92 em), so the font is sized from the rendered glyphs: the
tallest glyph's ink reaches 6 %, leaving room for what anti-aliasing and chroma subsampling take.
White text on a translucent dark box reads over any picture.

The notice is drawn by Pillow with the bundled CJK font and laid over the picture by ffmpeg; the
same drawing lets :func:`find` recognise it in a decoded frame (no OCR): inside the box the frame's
brightness must follow the drawn ink closely, which no ordinary picture does by chance.

The opening is encoded on its own and joined to the rest of the master by stream copy
(:mod:`kaipai.post.opening`), so labelling a film changes no frame and no sample after the notice.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from kaipai.fonts import cjk_font_path
from kaipai.post.ffmpeg import AssemblyError, Graph

#: the standard's floor, and what the notice is drawn to (anti-aliasing and 4:2:0 chroma cost a pixel or two)
FLOOR = 0.05
TARGET = 0.06
BOX = (0, 0, 0, 150)  # the box behind the text: about 60 % black
MARK_OPACITY = 0.6  # the persistent corner mark is lighter than the opening notice
TEXTS = {"zh": "AI生成", "en": "AI generated"}
CORNERS = ("top_left", "top_right", "bottom_left", "bottom_right")


def default_text(language: str) -> str:
    return TEXTS.get(language, TEXTS["en"])


@dataclass(frozen=True, eq=False)
class Notice:
    """The notice drawn for one frame size: the box image, where it goes, and its ink."""

    text: str
    frame: tuple[int, int]
    corner: str
    image: Image.Image = field(repr=False)  # RGBA, the box with the text
    ink_alpha: np.ndarray = field(repr=False)  # 0..1, the text's ink inside the box
    x: int
    y: int
    font_size: int
    ink: int  # the tallest glyph's ink height in pixels

    @property
    def size(self) -> tuple[int, int]:
        return self.image.size

    @property
    def ink_ratio(self) -> float:
        return self.ink / min(self.frame)

    @property
    def ink_mask(self) -> np.ndarray:
        return self.ink_alpha >= 0.5

    def faded(self, opacity: float = MARK_OPACITY) -> Image.Image:
        img = self.image.copy()
        img.putalpha(img.getchannel("A").point(lambda a: round(a * opacity)))
        return img

    def full_frame(self) -> Image.Image:
        """The notice on a transparent frame of the film's size (for an NLE's upper video track, which
        would scale a small image up to the frame)."""
        frame = Image.new("RGBA", self.frame, (0, 0, 0, 0))
        frame.alpha_composite(self.image, (self.x, self.y))
        return frame


def _glyph_ink(font: ImageFont.FreeTypeFont, text: str) -> int:
    """The tallest single glyph's ink: for Latin text with descenders the whole line's ink overstates
    the text height, so each glyph is measured on its own."""
    heights = [font.getbbox(c)[3] - font.getbbox(c)[1] for c in text if not c.isspace()]
    return max(heights, default=0)


@cache
def notice(text: str, width: int, height: int, corner: str = "top_left") -> Notice:
    """Draw ``text`` for a ``width``×``height`` frame, its ink at least 6 % of the shorter side."""
    if corner not in CORNERS:
        raise ValueError(f"corner must be one of {', '.join(CORNERS)}")
    short = min(width, height)
    need = math.ceil(TARGET * short)
    size = max(4, need)
    while True:
        font = ImageFont.truetype(str(cjk_font_path()), size)
        ink = _glyph_ink(font, text)
        if ink >= need:
            break
        size += 1
    left, top, right, bottom = font.getbbox(text)
    pad = max(2, round(0.3 * need))
    w, h = right - left + 2 * pad, bottom - top + 2 * pad
    box = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    ImageDraw.Draw(box).rounded_rectangle((0, 0, w - 1, h - 1), radius=pad // 2, fill=BOX)
    ink_layer = Image.new("L", (w, h), 0)
    ImageDraw.Draw(ink_layer).text((pad - left, pad - top), text, font=font, fill=255)
    box.paste(Image.new("RGBA", (w, h), (255, 255, 255, 255)), (0, 0), ink_layer)
    margin = math.ceil(FLOOR * short)
    # ffmpeg places an overlay on a 4:2:0 picture at even coordinates only
    x = margin if corner.endswith("left") else width - margin - w
    y = margin if corner.startswith("top") else height - margin - h
    x, y = x - x % 2, y - y % 2
    if x < 0 or y < 0:
        raise ValueError(f"the notice {text!r} does not fit a {width}x{height} frame; shorten publish.label_text")
    alpha = np.asarray(ink_layer, dtype=np.float32) / 255
    return Notice(text, (width, height), corner, box, alpha, x, y, size, ink)


# --------------------------------------------------------------------------- on the picture


def write_images(n: Notice, folder: Path) -> tuple[Path, Path]:
    """The opening notice and the lighter corner mark as PNGs (named by what they show, so reused)."""
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(f"{n.text}|{n.frame}|{n.corner}|{n.font_size}".encode()).hexdigest()[:16]
    stem = f"notice-{digest}"
    opening, mark = folder / f"{stem}.png", folder / f"{stem}-mark.png"
    for path, img in ((opening, n.image), (mark, n.faded())):
        if not path.exists():
            tmp = path.with_suffix(".partial.png")
            img.save(tmp)
            tmp.replace(path)
    return opening, mark


@dataclass(frozen=True)
class OnPicture:
    """The notice as the master carries it: on frames ``[0, opening)``, then as a corner mark or not."""

    notice: Notice
    images: tuple[Path, Path]  # from write_images
    opening: int
    mark: bool = False


def overlay(g: Graph, picture: str, p: OnPicture, fps: int, mark: bool | None = None) -> str:
    """Lay the notice over ``picture``'s opening (and the corner mark over the rest); return the new label."""
    n = p.notice
    k = g.add_input("-loop", "1", "-framerate", str(fps), "-i", str(p.images[0]))
    g.chains.append(f"[{picture}][{k}:v]overlay=x={n.x}:y={n.y}:shortest=1:enable='lt(n,{p.opening})'[noticed]")
    if not (p.mark if mark is None else mark):
        return "noticed"
    m = g.add_input("-loop", "1", "-framerate", str(fps), "-i", str(p.images[1]))
    g.chains.append(f"[noticed][{m}:v]overlay=x={n.x}:y={n.y}:shortest=1:enable='gte(n,{p.opening})'[marked]")
    return "marked"


# --------------------------------------------------------------------------- finding it again


@dataclass(frozen=True)
class Sighting:
    """The notice found in one frame: its text and corner, how closely the frame follows its ink
    (correlation), how much brighter the ink is than the box (levels), and the ink height measured."""

    text: str
    corner: str
    correlation: float
    contrast: float
    ink: int
    short_side: int

    @property
    def ink_ratio(self) -> float:
        return self.ink / self.short_side


def _luma(frame: np.ndarray) -> np.ndarray:
    if frame.ndim == 2:
        return frame.astype(np.float32)
    rgb = frame[..., :3].astype(np.float32)
    return 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]


def look(frame: np.ndarray, n: Notice, correlation: float = 0.6, contrast: float = 40.0) -> Sighting | None:
    """The notice ``n`` in ``frame`` (RGB or grey, the film's size), or None.

    Inside the box, the frame's brightness must follow the drawn ink (correlation at least
    ``correlation``) with the ink at least ``contrast`` levels above the box: the box flattens the
    picture behind the text, so a labelled frame correlates near 1 and any other picture near 0.
    The ink height is measured in the frame: the rows holding pixels brighter than halfway from
    the box to the ink."""
    h, w = frame.shape[:2]
    if (w, h) != n.frame:
        return None
    bw, bh = n.size
    edge = max(1, bh // 8)
    inner = (slice(edge, bh - edge), slice(edge, bw - edge))
    region = _luma(frame)[n.y : n.y + bh, n.x : n.x + bw][inner]
    ink = n.ink_alpha[inner]
    a, b = ink.ravel(), region.ravel()
    if b.std() < 1e-3 or a.std() < 1e-3:
        return None
    r = float(np.corrcoef(a, b)[0, 1])
    slope = float(np.polyfit(a, b, 1)[0])  # brightness of full ink over the box
    if r < correlation or slope < contrast:
        return None
    box = float(np.median(b[a < 0.05]))
    bright = region > box + slope / 2
    rows = np.flatnonzero(bright.any(axis=1))
    height = int(rows[-1] - rows[0] + 1) if len(rows) else 0
    return Sighting(n.text, n.corner, round(r, 3), round(slope, 1), height, min(w, h))


def find(frame: np.ndarray, texts: list[str], corners: tuple[str, ...] = CORNERS) -> Sighting | None:
    """The strongest notice among ``texts`` in any of ``corners`` of ``frame``, or None."""
    h, w = frame.shape[:2]
    best: Sighting | None = None
    for text in texts:
        for corner in corners:
            try:
                n = notice(text, w, h, corner)
            except ValueError:
                continue
            seen = look(frame, n)
            if seen is not None and (best is None or seen.correlation > best.correlation):
                best = seen
    return best


def check_fits(text: str, width: int, height: int, corner: str) -> None:
    """Raise AssemblyError when the notice cannot be drawn on this frame."""
    try:
        notice(text, width, height, corner)
    except ValueError as exc:
        raise AssemblyError(str(exc)) from None
