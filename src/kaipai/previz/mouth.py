"""Previz lip sync: a speaker's mouth opens with the loudness of their line, and nobody else's.

The clip carries the previz layout and camera move in its metadata, so every mouth can be found
in every frame even while the camera pushes in or pans. Only the mouth region of the character
speaking at that moment is redrawn; the rest of the frame is decoded and re-encoded untouched.
"""

from __future__ import annotations

import json
import wave
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np

from kaipai.previz import yuv
from kaipai.previz.motion import encode, frame_count, previz_metadata, window
from kaipai.previz.yuv import colour_yuv

MOUTH_DARK = (70, 20, 25)
TEETH = (235, 230, 225)
MOUTH_YUV = colour_yuv(MOUTH_DARK)
TEETH_YUV = colour_yuv(TEETH)


def envelope(audio: Path, fps: int, n: int) -> np.ndarray:
    """Loudness per video frame, 0..1 (RMS over the frame, normalised to the loudest frame)."""
    with wave.open(str(audio), "rb") as w:
        rate, width, channels = w.getframerate(), w.getsampwidth(), w.getnchannels()
        raw = w.readframes(w.getnframes())
    dtype = {1: np.uint8, 2: np.int16, 4: np.int32}[width]
    pcm = np.frombuffer(raw, dtype=dtype).astype(np.float32)
    if channels > 1:
        pcm = pcm.reshape(-1, channels).mean(axis=1)
    hop = rate / fps
    env = np.zeros(n, dtype=np.float32)
    for i in range(n):
        seg = pcm[int(i * hop) : int((i + 1) * hop)]
        env[i] = float(np.sqrt(np.mean(seg * seg))) if len(seg) else 0.0
    peak = float(env.max()) if n else 0.0
    return env / peak if peak > 0 else env


def speakers_at(t: float, speakers: list[tuple[str, float, float]]) -> list[str]:
    """Everyone speaking at ``t``: more than one while two speeches overlap (dual dialogue)."""
    return list(dict.fromkeys(cid for cid, start, end in speakers if start <= t < end))


def _ellipse(
    shape: tuple[int, int], cx: float, cy: float, w: float, h: float
) -> tuple[slice, slice, np.ndarray, np.ndarray] | None:
    """The bounding slices of an ellipse in a plane of ``shape``, its mask there and the rows' y."""
    x0, x1 = int(max(0, cx - w / 2 - 1)), int(min(shape[1], cx + w / 2 + 2))
    y0, y1 = int(max(0, cy - h / 2 - 1)), int(min(shape[0], cy + h / 2 + 2))
    if x1 <= x0 or y1 <= y0:
        return None
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32) + 0.5
    inside = ((xs - cx) / (w / 2)) ** 2 + ((ys - cy) / (h / 2)) ** 2 <= 1.0
    return slice(y0, y1), slice(x0, x1), inside, ys


def open_mouth(frame: np.ndarray, cx: float, cy: float, mw: float, mh: float, openness: float) -> None:
    """Draw an open mouth (a dark ellipse with a line of teeth) in place on a packed yuv420p frame."""
    h = max(1.0, mh * openness)
    w = max(2.0, mw * (0.75 + 0.25 * openness))
    y_plane, u_plane, v_plane = yuv.views(frame)
    luma = _ellipse(y_plane.shape, cx, cy, w, h)
    if luma is None:
        return
    rows, cols, inside, ys = luma
    teeth = inside & (ys < cy - h * 0.2)
    region = y_plane[rows, cols]
    region[inside] = MOUTH_YUV[0]
    region[teeth] = TEETH_YUV[0]
    chroma = _ellipse(u_plane.shape, cx / 2, cy / 2, w / 2, h / 2)
    if chroma is not None:
        rows, cols, inside, _ = chroma
        u_plane[rows, cols][inside] = MOUTH_YUV[1]
        v_plane[rows, cols][inside] = MOUTH_YUV[2]


def lipsync_frames(
    video: Path, audio: Path, speakers: list[tuple[str, float, float]], fps: int
) -> tuple[Iterator[np.ndarray], dict, int, int, int]:
    """Frames of ``video`` (packed yuv420p) with the speakers' mouths moving;
    also its metadata, size and frame count."""
    container = av.open(str(video))
    stream = container.streams.video[0]
    meta = previz_metadata(container) or {}
    width, height = stream.codec_context.width, stream.codec_context.height
    n = stream.frames or frame_count(float(container.duration or 0) / 1e6, fps)
    env = envelope(audio, fps, n)
    layout = json.loads(meta["layout"]) if meta.get("layout") else None
    track = meta.get("mouth_track") or {}  # a clip that moves to its end: every frame's mouths
    move, seed = meta.get("move", "static"), int(meta.get("seed", 0))
    pw, ph_src = meta.get("picture", [width, height])
    band_h = int(meta.get("band_h", 0))
    out_ph = height - band_h

    def gen() -> Iterator[np.ndarray]:
        try:
            for i, frame in enumerate(container.decode(stream)):
                arr = np.ascontiguousarray(frame.to_ndarray(format="yuv420p"))
                talking = [
                    c for c in speakers_at(i / fps, speakers) if layout and (c in track or c in layout["mouths"])
                ]
                if talking and i < len(env) and env[i] > 0.08:
                    x, y, cw, ch = window(move, i / max(1, n - 1), pw, ph_src, seed, (n - 1) / fps)
                    sx, sy = width / cw, out_ph / ch
                    for who in talking:
                        moving = track.get(who)
                        mouth = moving[i] if moving and i < len(moving) else layout["mouths"].get(who)
                        if mouth is None:
                            continue
                        mx, my, mw, mh = mouth
                        open_mouth(arr, (mx - x) * sx, (my - y) * sy, mw * sx * 1.2, mh * sy * 2.4, float(env[i]))
                yield arr
        finally:
            container.close()

    return gen(), meta, width, height, n


def lipsync_clip(video: Path, audio: Path, speakers: list[tuple[str, float, float]], fps: int, out: Path) -> int:
    frames_iter, meta, width, height, _ = lipsync_frames(video, audio, speakers, fps)
    return encode(
        frames_iter, out, fps, width, height, {"comment": json.dumps({**meta, "lipsync": True})} if meta else None
    )
