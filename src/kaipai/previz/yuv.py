"""Frames kept in the encoder's own pixel format (yuv420p, BT.601 limited range).

Converting every frame from RGB costs more than encoding it, so the previz picture is converted
once per clip and the camera moves, the band and the lip-sync mouths work on the planes directly.
A frame is one ``(height * 3 / 2, width)`` uint8 array: Y, then U, then V, as PyAV expects.
"""

from __future__ import annotations

import numpy as np

#: BT.601 limited-range RGB → YCbCr, the matrix FFmpeg assumes for untagged SD/HD video.
_M = (
    np.array([[65.481, 128.553, 24.966], [-37.797, -74.203, 112.0], [112.0, -93.786, -18.214]], dtype=np.float32)
    / 255.0
)
_OFFSET = np.array([16.0, 128.0, 128.0], dtype=np.float32)


def rgb_to_ycc(rgb: np.ndarray) -> np.ndarray:
    """Per-pixel (Y, Cb, Cr) as float32 for an ``(..., 3)`` uint8 RGB array."""
    return rgb.astype(np.float32) @ _M.T + _OFFSET


def colour_yuv(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    y, u, v = rgb_to_ycc(np.array(rgb, dtype=np.uint8))
    return round(y), round(u), round(v)


def planes(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Y at full size, U and V at half size (2×2 averages) for an even-sized RGB picture."""
    h, w = rgb.shape[0] // 2 * 2, rgb.shape[1] // 2 * 2
    ycc = rgb_to_ycc(rgb[:h, :w])
    y = np.clip(ycc[..., 0] + 0.5, 0, 255).astype(np.uint8)
    chroma = ycc[..., 1:].reshape(h // 2, 2, w // 2, 2, 2).mean(axis=(1, 3))
    u = np.clip(chroma[..., 0] + 0.5, 0, 255).astype(np.uint8)
    v = np.clip(chroma[..., 1] + 0.5, 0, 255).astype(np.uint8)
    return y, u, v


def pack(y: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """One yuv420p frame array from its planes."""
    h, w = y.shape
    return np.concatenate([y.reshape(-1), u.reshape(-1), v.reshape(-1)]).reshape(h * 3 // 2, w)


def views(frame: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Writable Y, U and V views into a packed yuv420p frame (which must be C-contiguous)."""
    h, w = frame.shape[0] * 2 // 3, frame.shape[1]
    flat = frame.reshape(-1)
    q = (h // 2) * (w // 2)
    y = flat[: h * w].reshape(h, w)
    u = flat[h * w : h * w + q].reshape(h // 2, w // 2)
    v = flat[h * w + q : h * w + 2 * q].reshape(h // 2, w // 2)
    return y, u, v


def stack(
    top: tuple[np.ndarray, np.ndarray, np.ndarray], bottom: tuple[np.ndarray, np.ndarray, np.ndarray] | None
) -> np.ndarray:
    """A packed frame of the picture planes with the caption band's planes below them."""
    if bottom is None:
        return pack(*top)
    return pack(*(np.concatenate([a, b], axis=0) for a, b in zip(top, bottom, strict=True)))
