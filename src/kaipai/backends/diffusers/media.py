"""Pictures in and out of the diffusers pipelines: fitting a keyframe, writing a clip, laying out a sheet."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageOps


def fit_image(path: Path, width: int, height: int) -> Image.Image:
    """The image cropped to the target aspect (centred) and resized, so the clip starts on the keyframe's framing."""
    with Image.open(path) as im:
        return ImageOps.fit(im.convert("RGB"), (width, height), method=Image.Resampling.LANCZOS)


def reference_images(paths: list[Path]) -> list[Image.Image]:
    """The reference pictures as RGB images, each embedded on its own by the IP-Adapter's image encoder."""
    out = []
    for p in paths:
        with Image.open(p) as im:
            out.append(im.convert("RGB"))
    return out


def side_by_side(views: list[Image.Image], background: tuple[int, int, int] = (200, 200, 200)) -> Image.Image:
    w, h = views[0].size
    sheet = Image.new("RGB", (w * len(views), h), background)
    for i, v in enumerate(views):
        sheet.paste(v, (i * w, 0))
    return sheet


def to_uint8(frames: np.ndarray) -> np.ndarray:
    """Pipeline output (floats in [0, 1], or uint8) as uint8 frames (F, H, W, 3)."""
    arr = np.asarray(frames)
    if arr.ndim == 5:
        arr = arr[0]
    if arr.dtype != np.uint8:
        arr = (np.clip(arr, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    return arr


def write_mp4(frames: np.ndarray, fps: int, path: Path, crf: int = 18) -> None:
    """H.264 (yuv420p) MP4 at exactly ``fps``, one encoded frame per generated frame."""
    frames = to_uint8(frames)
    _, h, w, _ = frames.shape
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = w - w % 2, h - h % 2
        stream.pix_fmt = "yuv420p"
        # x264's macroblock tree reads memory it never wrote on small frames, so the same frames could
        # encode differently from one clip to the next; without it the backend repeats itself exactly.
        stream.options = {"crf": str(crf), "preset": "medium", "x264-params": "mbtree=0"}
        for frame in frames:
            vf = av.VideoFrame.from_ndarray(
                np.ascontiguousarray(frame[: stream.height, : stream.width]), format="rgb24"
            )
            for packet in stream.encode(vf):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
