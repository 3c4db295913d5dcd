"""Reading a file's AIGC labels back: the visible notice (by looking at its frames), the AIGC metadata
and the C2PA manifest with its validation state. What ``kaipai verify`` prints."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import numpy as np

from kaipai.backends.remote.tasks import config_path, user_config
from kaipai.post import credentials, label
from kaipai.post.aigc import AigcError, AigcLabel, parse, read_tags

IMAGES = {".png", ".jpg", ".jpeg", ".webp"}
UNREADABLE = (OSError, ValueError, av.error.FFmpegError)
SCAN_SECONDS = 10.0  # how far into a video the opening notice is followed


@dataclass
class Visible:
    """The notice as seen in the frames."""

    found: bool
    text: str = ""
    corner: str = ""
    first: float = 0.0  # seconds of the first and last frame showing it
    last: float = 0.0
    seconds: float = 0.0  # how long it stays (frames × frame duration)
    ink_percent: float = 0.0  # measured ink height, % of the frame's shorter side
    later: bool = False  # still there after the opening (a corner mark)
    checked: str = ""


@dataclass
class Metadata:
    key: str
    value: str
    label: AigcLabel | None = None
    error: str = ""


@dataclass
class Verification:
    path: Path
    visible: Visible | None = None
    metadata: list[Metadata] = field(default_factory=list)
    c2pa: credentials.Credentials | None = None
    c2pa_checked: bool = False
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        c = self.c2pa
        return {
            "file": str(self.path),
            "visible": vars(self.visible) if self.visible else None,
            "aigc": [
                {"key": m.key, "value": m.value, "elements": m.label.elements() if m.label else None, "error": m.error}
                for m in self.metadata
            ],
            "c2pa": vars(c) if c else ({"state": "none"} if self.c2pa_checked else {"state": "not checked"}),
            "problems": self.problems,
        }


def _texts(extra: list[str] | None) -> list[str]:
    return [*dict.fromkeys([*(extra or []), *label.TEXTS.values(), "人工智能生成"])]


def _video_notice(path: Path, texts: list[str]) -> Visible:
    """Follow the notice from the first frame while it keeps its strength; a lighter corner mark that
    stays afterwards is reported as ``later``."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        fps = float(stream.average_rate or stream.guessed_rate or 24)
        duration = float(container.duration / 1e6) if container.duration else 0.0
        opening: list[tuple[int, label.Sighting]] = []
        target: label.Notice | None = None
        for i, frame in enumerate(container.decode(stream)):
            rgb = frame.to_ndarray(format="rgb24")
            if target is None:
                hit = label.find(rgb, texts)
                if hit is not None:
                    target = label.notice(hit.text, rgb.shape[1], rgb.shape[0], hit.corner)
            else:
                hit = label.look(rgb, target)
            if hit is not None and (not opening or hit.contrast >= 0.8 * opening[0][1].contrast):
                opening.append((i, hit))
            last = opening[-1][0] if opening else -1
            if (target is None and i >= fps) or (target is not None and i - last > fps) or i >= SCAN_SECONDS * fps:
                break
    if not opening or target is None:
        return Visible(False, checked=f"the first {min(1.0, duration):.1f} s of frames")
    first, hit = opening[0]
    last = opening[-1][0]
    return Visible(
        True,
        hit.text,
        hit.corner,
        round(first / fps, 3),
        round(last / fps, 3),
        round((last - first + 1) / fps, 3),
        round(100 * float(np.median([s.ink_ratio for _, s in opening])), 2),
        _later(path, target, (last + 1) / fps, duration),
        f"{last + 1} frames from the start, then samples of the rest",
    )


def _later(path: Path, target: label.Notice, end: float, duration: float) -> bool:
    """Whether the notice is still on frames well after the opening (samples at ¼, ½ and ¾ of the rest)."""
    times = [end + (duration - end) * f for f in (0.25, 0.5, 0.75)] if duration > end + 0.5 else []
    if not times:
        return False
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        hits = 0
        for t in times:
            container.seek(int(t / stream.time_base), stream=stream, backward=True)
            for frame in container.decode(stream):
                if frame.time is not None and frame.time + 1e-6 >= t:
                    hits += label.look(frame.to_ndarray(format="rgb24"), target) is not None
                    break
    return hits == len(times)


def _image_notice(path: Path, texts: list[str]) -> Visible:
    from PIL import Image

    with Image.open(path) as img:
        rgb = np.asarray(img.convert("RGB"))
    hit = label.find(rgb, texts)
    if hit is None:
        return Visible(False, checked="the image")
    return Visible(True, hit.text, hit.corner, ink_percent=round(100 * hit.ink_ratio, 2), checked="the image")


def verify(path: Path, texts: list[str] | None = None, anchors: str | None = None) -> Verification:
    """Read back every label ``path`` carries. FileNotFoundError when it does not exist."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    result = Verification(path)
    suffix = path.suffix.lower()
    try:
        tags = read_tags(path)
    except UNREADABLE as exc:  # an unreadable container is reported, never a traceback
        tags = {}
        result.problems.append(f"cannot read the file's metadata: {exc}")
    for key, value in tags.items():
        try:
            result.metadata.append(Metadata(key, value, parse(value)))
        except AigcError as exc:
            result.metadata.append(Metadata(key, value, error=str(exc)))
            result.problems.append(f"AIGC metadata {key}: {exc}")
    if len(tags) > 1:
        result.problems.append(f"{len(tags)} AIGC metadata entries; GB 45438 6.1 c) keeps one per file")
    try:
        if suffix in IMAGES:
            result.visible = _image_notice(path, _texts(texts))
        elif suffix != ".pdf" and suffix not in (".wav", ".mp3", ".flac", ".m4a"):
            result.visible = _video_notice(path, _texts(texts))
    except UNREADABLE as exc:
        result.problems.append(f"cannot decode the picture: {exc}")
    if credentials.available():
        result.c2pa_checked = True
        if anchors is None:
            trust = user_config("c2pa").get("trust_anchors")
            if trust:
                anchors = (config_path().parent / Path(str(trust)).expanduser()).read_text(encoding="utf-8")
        result.c2pa = credentials.read(path, anchors)
        if result.c2pa is not None and result.c2pa.state == "Invalid":
            result.problems.append("the C2PA manifest does not validate: " + "; ".join(result.c2pa.failures))
    return result
