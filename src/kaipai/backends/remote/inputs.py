"""What a cloud request is made of: pictures as data URIs, and the provider's names for shapes.

Providers accept a keyframe as a public URL or inline; kaipai's files live on the director's
disk, so they go inline (``data:image/png;base64,…``). Providers name a frame's shape by an
aspect ratio (``16:9``), by pixels (``1280:720``) or by a tier (``720p``); the sheet holds the
sizes, and these helpers name the nearest one the provider accepts.
"""

from __future__ import annotations

import base64
import math
import mimetypes
from pathlib import Path

from kaipai.backends.base import BackendError

#: Image types every provider here accepts; anything else is refused before it is sent.
IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp"}


def image_type(path: Path) -> str:
    kind = IMAGE_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0]
    if not kind or not kind.startswith("image/"):
        raise BackendError(f"{path.name} is not a PNG, JPEG or WebP picture; providers take only those")
    return kind


def read_image(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise BackendError(f"cannot read the picture {path}: {exc.strerror}") from None


def data_uri(path: Path) -> str:
    """``data:image/…;base64,…`` of a picture on disk."""
    return f"data:{image_type(path)};base64,{base64.b64encode(read_image(path)).decode()}"


def ratio_value(ratio: str) -> float:
    """``16:9`` or ``1280:720`` as width over height."""
    w, _, h = ratio.partition(":")
    return float(w) / float(h)


def nearest_ratio(width: int, height: int, choices: list[str]) -> str:
    """The accepted ratio (``16:9`` or ``1280:720`` form) closest in shape to ``width`` x ``height``."""
    target = width / height
    return min(choices, key=lambda r: abs(ratio_value(r) - target))


def at_least(width: int, height: int, min_pixels: int, multiple: int = 8) -> tuple[int, int]:
    """The size scaled up, keeping its shape, until it has ``min_pixels`` (providers that refuse small frames)."""
    if width * height >= min_pixels:
        return width, height
    scale = (min_pixels / (width * height)) ** 0.5
    return math.ceil(width * scale / multiple) * multiple, math.ceil(height * scale / multiple) * multiple
