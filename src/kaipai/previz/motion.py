"""Previz camera moves: the keyframe animated over the shot's duration.

Each move is a crop window over the picture that changes with eased time; the frame is that
window scaled back to full size. The same function tells the lip-sync stage where each mouth
is in every frame, so the two stages can never disagree.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

from kaipai.previz.draw import Layout, read_layout

ZOOM = 0.78  # the tightest window of a push in / the start of a pull out, as a fraction of the picture
TRAVEL = 0.16  # how far a pan, tilt, truck or crane travels, as a fraction of the picture


def ease(u: float) -> float:
    """Smooth start and stop (cosine ease in-out), as a camera operator would move."""
    return 0.5 - 0.5 * math.cos(math.pi * max(0.0, min(1.0, u)))


def window(move: str, u: float, w: float, h: float, seed: int = 0) -> tuple[float, float, float, float]:
    """The crop window (x, y, width, height) over a ``w``×``h`` picture at normalised time ``u``."""
    e = ease(u)
    if move == "push_in":
        s = 1 - (1 - ZOOM) * e
    elif move == "pull_out":
        s = ZOOM + (1 - ZOOM) * e
    elif move in ("static",):
        return 0.0, 0.0, w, h
    else:
        s = 1 - TRAVEL
    cw, ch = w * s, h * s
    x, y = (w - cw) / 2, (h - ch) / 2
    span_x, span_y = w - cw, h - ch
    if move in ("pan_left", "truck_left"):
        x = span_x * (1 - e)
    elif move in ("pan_right", "truck_right"):
        x = span_x * e
    elif move in ("tilt_up", "crane_up"):
        y = span_y * (1 - e)
    elif move in ("tilt_down", "crane_down"):
        y = span_y * e
    elif move == "handheld":
        t = u * 6.0 + (seed % 97) * 0.1
        x = span_x / 2 + span_x * 0.35 * (math.sin(t * 2.1) * 0.6 + math.sin(t * 5.3 + 1.0) * 0.4)
        y = span_y / 2 + span_y * 0.35 * (math.sin(t * 1.7 + 2.0) * 0.6 + math.sin(t * 4.1) * 0.4)
    elif move == "orbit":
        x = span_x / 2 + span_x / 2 * math.sin(2 * math.pi * e - math.pi / 2) * -1
    return x, y, cw, ch


def frame_count(duration: float, fps: int) -> int:
    return max(1, int(round(duration * fps)))


def split_band(img: Image.Image) -> tuple[Image.Image, Image.Image | None, Layout | None]:
    """The picture above the caption band, and the band, for a previz keyframe; the whole image otherwise."""
    layout = read_layout(img)
    rgb = img.convert("RGB")
    if layout is None or layout.band <= 0:
        return rgb, None, layout
    w, h = rgb.size
    return rgb.crop((0, 0, w, h - layout.band)), rgb.crop((0, h - layout.band, w, h)), layout


def frames(keyframe: Path, move: str, duration: float, fps: int, width: int, height: int, seed: int = 0) -> Iterator[np.ndarray]:
    """Every frame of the animated keyframe as an RGB array of ``height``×``width``."""
    src = Image.open(keyframe)
    src.load()
    picture, band, _ = split_band(src)
    band_h = 0
    if band is not None:
        band_h = int(round(band.height * height / src.height / 2) * 2)
        band_arr = np.asarray(band.resize((width, band_h), Image.BILINEAR))
    ph = height - band_h
    pw_src, ph_src = picture.size
    n = frame_count(duration, fps)
    still: np.ndarray | None = None
    for i in range(n):
        u = i / max(1, n - 1)
        if move == "static" and still is not None:
            yield still
            continue
        x, y, cw, ch = window(move, u, pw_src, ph_src, seed)
        part = picture.transform((width, ph), Image.EXTENT, (x, y, x + cw, y + ch), Image.BILINEAR)
        arr = np.asarray(part)
        if band_h:
            arr = np.concatenate([arr, band_arr], axis=0)
        if move == "static":
            still = arr
        yield arr


def encode(frames_iter: Iterator[np.ndarray], out: Path, fps: int, width: int, height: int, metadata: dict[str, str] | None = None, on_frame: Callable[[int], None] | None = None) -> int:
    """H.264 yuv420p MP4 of the frames, with ``metadata`` in the container; returns the frame count."""
    count = 0
    with av.open(str(out), "w", format="mp4") as container:
        for k, v in (metadata or {}).items():
            container.metadata[k] = v
        stream = container.add_stream("libx264", rate=Fraction(fps, 1))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "18"}  # an intermediate: the cut re-encodes it
        stream.codec_context.time_base = Fraction(1, fps)
        for arr in frames_iter:
            frame = av.VideoFrame.from_ndarray(arr, format="rgb24")
            frame.pts = count
            for packet in stream.encode(frame):
                container.mux(packet)
            count += 1
            if on_frame is not None:
                on_frame(count)
        for packet in stream.encode():
            container.mux(packet)
    return count


def previz_metadata(container: av.container.InputContainer) -> dict | None:
    """The move and layout a previz clip was made with (for lip sync), or None."""
    text = container.metadata.get("comment", "")
    if not text.startswith("{"):
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return None
