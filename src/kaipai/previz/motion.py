"""Previz camera moves: the keyframe animated over the shot's duration.

Each move is a crop window over the picture that changes with eased time; the frame is that
window scaled back to full size. The same function tells the lip-sync stage where each mouth
is in every frame, so the two stages can never disagree. Frames stay in yuv420p from the
keyframe to the encoder (see :mod:`kaipai.previz.yuv`): converting each frame from RGB would
cost more than encoding it.
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

from kaipai.previz import yuv
from kaipai.previz.draw import Layout, read_layout

ZOOM = 0.78  # the tightest window of a push in / the start of a pull out, as a fraction of the picture
TRAVEL = 0.16  # how far a pan, tilt, truck or crane travels, as a fraction of the picture


class FrameSizeError(ValueError):
    """A frame size H.264 cannot encode (odd width or height); the backend reports it as unsupported."""


def ease(u: float) -> float:
    """Smooth start and stop (cosine ease in-out), as a camera operator would move."""
    return 0.5 - 0.5 * math.cos(math.pi * max(0.0, min(1.0, u)))


HANDHELD_SCALE = 0.9  # a handheld frame is a little tighter, so its sway never shows an edge
#: handheld sway: (frequency Hz, share of the free travel, phase) per component, slow drift to tremor
SWAY_X = ((0.31, 0.30, 0.0), (0.87, 0.12, 1.0), (2.3, 0.03, 2.0))
SWAY_Y = ((0.23, 0.30, 2.0), (0.71, 0.12, 0.4), (2.9, 0.03, 1.3))


def window(
    move: str, u: float, w: float, h: float, seed: int = 0, seconds: float = 4.0
) -> tuple[float, float, float, float]:
    """The crop window (x, y, width, height) over a ``w``×``h`` picture at normalised time ``u``.

    ``seconds`` is the clip's length: a handheld sway keeps its pace in real time however long the shot.
    """
    e = ease(u)
    if move == "push_in":
        s = 1 - (1 - ZOOM) * e
    elif move == "pull_out":
        s = ZOOM + (1 - ZOOM) * e
    elif move == "static":
        return 0.0, 0.0, w, h
    elif move == "handheld":
        s = HANDHELD_SCALE
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
        t = u * seconds + (seed % 97) * 0.37
        x = span_x / 2 + span_x * sum(a * math.sin(2 * math.pi * f * t + p) for f, a, p in SWAY_X)
        y = span_y / 2 + span_y * sum(a * math.sin(2 * math.pi * f * t + p) for f, a, p in SWAY_Y)
    elif move == "orbit":
        x = span_x / 2 + span_x / 2 * math.sin(2 * math.pi * e - math.pi / 2) * -1
    return x, y, cw, ch


def frame_count(duration: float, fps: int) -> int:
    return max(1, round(duration * fps))


def split_band(img: Image.Image) -> tuple[Image.Image, Image.Image | None, Layout | None]:
    """The picture above the caption band, and the band, for a previz keyframe; the whole image otherwise."""
    layout = read_layout(img)
    rgb = img.convert("RGB")
    if layout is None or layout.band <= 0:
        return rgb, None, layout
    w, h = rgb.size
    return rgb.crop((0, 0, w, h - layout.band)), rgb.crop((0, h - layout.band, w, h)), layout


ZOOMS = frozenset({"push_in", "pull_out"})


def _even(v: float) -> int:
    return round(v / 2) * 2


def frames(
    keyframe: Path, move: str, duration: float, fps: int, width: int, height: int, seed: int = 0
) -> Iterator[np.ndarray]:
    """Every frame of the animated keyframe as a packed yuv420p array (see :mod:`kaipai.previz.yuv`).

    The picture is converted to planes once; a zoom resamples them per frame, every other move
    resamples once and then only slides a crop window, which is what makes previz clips render
    many times faster than real time.
    """
    if width % 2 or height % 2:
        raise FrameSizeError(
            f"previz video needs an even frame size for H.264, got {width}×{height}: "
            "set project.resolution in kaipai.yaml to even numbers (e.g. 1280×720)"
        )
    with Image.open(keyframe) as src:
        src.load()
        picture, band, _ = split_band(src)
        band_h = _even(band.height * height / src.height) if band is not None else 0
    band_planes = (
        yuv.planes(np.asarray(band.resize((width, band_h), Image.BILINEAR))) if band is not None and band_h else None
    )
    ph = height - band_h
    y, u, v = (Image.fromarray(p) for p in yuv.planes(np.asarray(picture)))
    pw, phs = y.size
    n = frame_count(duration, fps)
    seconds = (n - 1) / fps
    if move == "static":
        still = yuv.stack(_resampled((y, u, v), (0.0, 0.0, pw, phs), width, ph), band_planes)
        for _ in range(n):
            yield still
        return
    if move in ZOOMS:
        planes = tuple(np.asarray(p) for p in (y, u, v))
        for i in range(n):
            box = window(move, i / max(1, n - 1), pw, phs, seed, seconds)
            yield yuv.stack(_zoomed(planes, box, width, ph), band_planes)  # type: ignore[arg-type]
        return
    yield from _slide((y, u, v), move, n, pw, phs, width, ph, band_planes, seed, seconds)


def _resampled(
    src: tuple[Image.Image, Image.Image, Image.Image], box: tuple[float, float, float, float], width: int, height: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``box`` (x, y, w, h in luma pixels) of each plane scaled to the output size."""
    x, y, w, h = box
    luma = np.asarray(src[0].resize((width, height), Image.BILINEAR, box=(x, y, x + w, y + h)))
    cbox = (x / 2, y / 2, (x + w) / 2, (y + h) / 2)
    u, v = (np.asarray(p.resize((width // 2, height // 2), Image.BILINEAR, box=cbox)) for p in src[1:])
    return luma, u, v


def _zoomed(
    src: tuple[np.ndarray, np.ndarray, np.ndarray], box: tuple[float, float, float, float], width: int, height: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``box`` of the planes scaled to the output size by FFmpeg's scaler (three times Pillow's speed).

    The crop is whole pixels with an even size, so the window may be off by half a pixel: unseen
    in a camera move.
    """
    x, y, w, h = box
    full_h, full_w = src[0].shape
    cw, ch = min(full_w, max(2, _even(w))), min(full_h, max(2, _even(h)))
    ox, oy = min(max(0, round(x)), full_w - cw), min(max(0, round(y)), full_h - ch)
    cx, cy = min(ox // 2, (full_w - cw) // 2), min(oy // 2, (full_h - ch) // 2)
    crop = yuv.pack(
        src[0][oy : oy + ch, ox : ox + cw],
        src[1][cy : cy + ch // 2, cx : cx + cw // 2],
        src[2][cy : cy + ch // 2, cx : cx + cw // 2],
    )
    scaled = av.VideoFrame.from_ndarray(crop, format="yuv420p").reformat(
        width=width, height=height, interpolation="BILINEAR"
    )
    return yuv.views(np.ascontiguousarray(scaled.to_ndarray()))


def _slide(
    src: tuple[Image.Image, Image.Image, Image.Image],
    move: str,
    n: int,
    pw: int,
    phs: int,
    width: int,
    height: int,
    band: tuple[np.ndarray, np.ndarray, np.ndarray] | None,
    seed: int,
    seconds: float,
) -> Iterator[np.ndarray]:
    """A move whose window keeps its size: scale the planes once, then crop at each frame's offset."""
    cw, ch = window(move, 0.0, pw, phs, seed)[2:]
    kx, ky = width / cw, height / ch
    big_w, big_h = max(width, _even(pw * kx)), max(height, _even(phs * ky))
    luma = np.asarray(src[0].resize((big_w, big_h), Image.BILINEAR))
    u, v = (np.asarray(p.resize((big_w // 2, big_h // 2), Image.BILINEAR)) for p in src[1:])
    for i in range(n):
        x, y, _, _ = window(move, i / max(1, n - 1), pw, phs, seed, seconds)
        ox = min(max(0, round(x * kx)), big_w - width)
        oy = min(max(0, round(y * ky)), big_h - height)
        cx, cy = min(ox // 2, (big_w - width) // 2), min(oy // 2, (big_h - height) // 2)
        planes = (
            luma[oy : oy + height, ox : ox + width],
            u[cy : cy + height // 2, cx : cx + width // 2],
            v[cy : cy + height // 2, cx : cx + width // 2],
        )
        yield yuv.stack(planes, band)


def encode(
    frames_iter: Iterator[np.ndarray],
    out: Path,
    fps: int,
    width: int,
    height: int,
    metadata: dict[str, str] | None = None,
    on_frame: Callable[[int], None] | None = None,
) -> int:
    """H.264 yuv420p MP4 of the frames, with ``metadata`` in the container; returns the frame count.

    Frames are packed yuv420p arrays (2-D) or RGB arrays (3-D); the former skip a costly conversion.
    """
    count = 0
    with av.open(str(out), "w", format="mp4") as container:
        for k, v in (metadata or {}).items():
            container.metadata[k] = v
        stream = container.add_stream("libx264", rate=Fraction(fps, 1))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "18"}  # an intermediate: the cut re-encodes it
        stream.codec_context.time_base = Fraction(1, fps)
        for arr in frames_iter:
            frame = av.VideoFrame.from_ndarray(arr, format="yuv420p" if arr.ndim == 2 else "rgb24")
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


def is_previz_clip(path: Path) -> bool:
    """Whether a clip was made by the previz video stage (it carries its move and layout)."""
    try:
        with av.open(str(path)) as container:
            return previz_metadata(container) is not None  # type: ignore[arg-type]
    except (av.error.FFmpegError, OSError):
        return False
