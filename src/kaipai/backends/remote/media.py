"""Media as a provider will take it: image formats it reads, audio under its size limit.

Providers accept a few formats each (Kling: JPEG or PNG; lip-sync audio up to 5 MB), while a
project's keyframes and voices come from whatever backend made them. These helpers re-encode only
when the file as it is would be refused, so what the director approved is what is sent.
"""

from __future__ import annotations

import io
from pathlib import Path

from kaipai.backends.base import BackendError
from kaipai.backends.remote.inputs import read_image


def image_bytes(path: Path, accepted: tuple[str, ...] = (".png", ".jpg", ".jpeg")) -> bytes:
    """The image in a format the provider reads: as it is when it is one, else as PNG."""
    raw = read_image(path)
    if path.suffix.lower() in accepted:
        return raw
    from PIL import Image

    try:
        with Image.open(io.BytesIO(raw)) as img:
            buf = io.BytesIO()
            img.convert("RGB").save(buf, format="PNG")
    except OSError as exc:
        raise BackendError(f"{path} is not a readable image ({exc})") from None
    return buf.getvalue()


def audio_within(path: Path, max_bytes: int) -> tuple[bytes, str]:
    """(bytes, suffix) of the audio, re-encoded as AAC in .m4a only when the file is over ``max_bytes``."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BackendError(f"cannot read the audio {path} ({exc})") from None
    if len(raw) <= max_bytes:
        return raw, path.suffix.lower() or ".wav"
    import av

    buf = io.BytesIO()
    try:
        with av.open(str(path)) as source, av.open(buf, "w", format="ipod") as out:
            stream = out.add_stream("aac", rate=source.streams.audio[0].rate or 24000)
            stream.bit_rate = 96_000
            for frame in source.decode(audio=0):
                frame.pts = None
                for packet in stream.encode(frame):
                    out.mux(packet)
            for packet in stream.encode():
                out.mux(packet)
    except (av.error.FFmpegError, IndexError) as exc:
        raise BackendError(
            f"cannot re-encode the audio {path.name} under {max_bytes // 1_000_000} MB ({exc})"
        ) from None
    data = buf.getvalue()
    if len(data) > max_bytes:
        raise BackendError(
            f"the audio {path.name} is {len(raw) / 1e6:.1f} MB and still {len(data) / 1e6:.1f} MB as AAC; "
            f"the provider takes at most {max_bytes / 1e6:g} MB: shorten the shot"
        )
    return data, ".m4a"
