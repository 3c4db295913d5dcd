"""What a picture file is, read from its headers with PyAV (there is no ffprobe in the bundle).

The master only rescales, re-times or re-encodes what needs it: a clip already at the film's size,
pixel format and frame rate skips normalisation, and a film made only of such clips joined by cuts
is stream-copied.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import av


@dataclass(frozen=True)
class VideoInfo:
    codec: str
    width: int
    height: int
    pix_fmt: str
    rate: Fraction | None
    frames: int  # from the container header; 0 when unknown
    sar: Fraction | None
    extradata: bytes | None
    start: float  # seconds of the first frame

    def conforms(self, width: int, height: int, fps: int) -> bool:
        """Already at the film's size, 4:2:0 and frame rate: nothing to normalise."""
        square = self.sar in (None, Fraction(0), Fraction(1))
        return (
            (self.width, self.height) == (width, height) and self.pix_fmt == "yuv420p" and self.rate == fps and square
        )

    def copyable(self, width: int, height: int, fps: int, frames: int) -> bool:
        """Can go into the master as it is: H.264 that conforms, exactly ``frames`` long, starting at 0."""
        return (
            self.codec == "h264"
            and self.conforms(width, height, fps)
            and self.frames == frames
            and abs(self.start) < 1e-6
        )


def start_seconds(stream: av.stream.Stream) -> float:
    """When a stream's first frame is presented, in seconds (0 when the container does not say)."""
    return float(stream.start_time * stream.time_base) if stream.start_time is not None and stream.time_base else 0.0


@lru_cache(maxsize=512)
def _probe(path: str, mtime: float, size: int) -> VideoInfo | None:
    try:
        with av.open(path) as container:
            if not container.streams.video:
                return None
            stream = container.streams.video[0]
            ctx = stream.codec_context
            return VideoInfo(
                codec=ctx.name,
                width=ctx.width,
                height=ctx.height,
                pix_fmt=ctx.format.name if ctx.format is not None else "",
                rate=Fraction(stream.average_rate) if stream.average_rate else None,
                frames=int(stream.frames or 0),
                sar=Fraction(stream.sample_aspect_ratio) if stream.sample_aspect_ratio else None,
                extradata=bytes(ctx.extradata) if ctx.extradata else None,
                start=start_seconds(stream),
            )
    except (av.error.FFmpegError, OSError):
        return None


def probe_video(path: Path) -> VideoInfo | None:
    """Header facts of the first video stream of ``path``; None when it has none or cannot be read."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return _probe(str(path), stat.st_mtime, stat.st_size)


@lru_cache(maxsize=512)
def _audio(path: str, mtime: float, size: int) -> bool:
    try:
        with av.open(path) as container:
            return bool(container.streams.audio)
    except (av.error.FFmpegError, OSError):
        return False


def has_audio(path: Path) -> bool:
    """Whether ``path`` carries a sound stream (a clip from a video model with native audio)."""
    try:
        stat = path.stat()
    except OSError:
        return False
    return _audio(str(path), stat.st_mtime, stat.st_size)
