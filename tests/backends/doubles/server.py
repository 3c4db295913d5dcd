"""Run an ASGI app on a free local port in a background thread, for the length of a test."""

from __future__ import annotations

import contextlib
import io
import socket
import threading
import time
import wave
from collections.abc import Iterator
from functools import cache
from typing import Any

import uvicorn


@contextlib.contextmanager
def serve(app: Any) -> Iterator[str]:
    """Yield the base URL (http://127.0.0.1:PORT) of ``app`` served by uvicorn."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, log_level="warning", lifespan="off", ws="websockets-sansio", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the protocol double did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)
        sock.close()


@cache
def png_bytes(width: int = 64, height: int = 48, colour: tuple[int, int, int] = (200, 80, 40)) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buf, format="PNG")
    return buf.getvalue()


@cache
def mp4_bytes(
    width: int = 64, height: int = 48, frames: int = 10, fps: int = 16, colour: tuple[int, int, int] | None = None
) -> bytes:
    """A short H.264 clip: a grey ramp, or ``colour`` brightening frame by frame (to tell providers apart)."""
    import av

    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(frames):
            img = _frame(width, height, i, colour)
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buf.getvalue()


def _frame(width: int, height: int, i: int, colour: tuple[int, int, int] | None) -> Any:
    import numpy as np

    if colour is None:
        return np.full((height, width, 3), (i * 20) % 255, dtype=np.uint8)
    shade = 0.6 + 0.4 * ((i % 10) / 9)
    return np.broadcast_to(np.array([round(c * shade) for c in colour], dtype=np.uint8), (height, width, 3)).copy()


@cache
def wav_bytes(seconds: float = 0.5, rate: int = 24000) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as fh:
        fh.setnchannels(1)
        fh.setsampwidth(2)
        fh.setframerate(rate)
        fh.writeframes(b"\x00\x01" * int(seconds * rate))
    return buf.getvalue()


def talking_mp4(audio: bytes, width: int = 64, height: int = 48, fps: int = 25, video: bytes | None = None) -> bytes:
    """An MP4 whose sound is ``audio`` (any format PyAV reads), as a lip-sync or speech-to-video service returns.

    The picture is ``video``'s frames when given (looped to the sound's length), else a moving grey; the
    sound is re-encoded to AAC like the providers' outputs, so a test can check the voice it sent came back.
    """
    import av
    import numpy as np

    pcm, rate = decoded_audio(audio)
    frames_in: list[Any] = []
    if video is not None:
        with av.open(io.BytesIO(video)) as clip:
            frames_in = [f.to_ndarray(format="rgb24") for f in clip.decode(video=0)]
        height, width = frames_in[0].shape[:2]
    seconds = len(pcm) / rate
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        vstream = out.add_stream("libx264", rate=fps)
        vstream.width, vstream.height, vstream.pix_fmt = width, height, "yuv420p"
        astream = out.add_stream("aac", rate=rate)
        astream.layout = "mono"
        for i in range(max(1, round(seconds * fps))):
            img = frames_in[i % len(frames_in)] if frames_in else np.full((height, width, 3), (i * 9) % 255, np.uint8)
            for packet in vstream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        for packet in vstream.encode():
            out.mux(packet)
        step = 1024
        for start in range(0, len(pcm), step):
            chunk = pcm[start : start + step].reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(chunk, format="flt", layout="mono")
            frame.sample_rate = rate
            for packet in astream.encode(frame):
                out.mux(packet)
        for packet in astream.encode():
            out.mux(packet)
    return buf.getvalue()


def decoded_audio(data: bytes | str) -> tuple[Any, int]:
    """(mono float samples, rate) of a media file's sound, read with PyAV."""
    import av
    import numpy as np

    source = av.open(data if isinstance(data, str) else io.BytesIO(data))
    with source:
        stream = source.streams.audio[0]
        rate = stream.rate or 24000
        parts = [f.to_ndarray() for f in source.decode(stream)]
    pcm = np.concatenate([p.reshape(p.shape[0] if p.ndim > 1 else 1, -1).mean(axis=0) for p in parts])
    if parts[0].dtype.kind == "i":  # the mean above is float already: scale by what was decoded
        pcm = pcm / 32768.0
    return pcm.astype(np.float32), rate


@cache
def mp4_with_sound_bytes(
    width: int = 64,
    height: int = 48,
    frames: int = 24,
    fps: int = 24,
    tone_hz: float = 440.0,
    colour: tuple[int, int, int] | None = None,
) -> bytes:
    """A clip with its own sound, as Veo, Seedance 1.5/2.0 and Vidu q3 return one: H.264 and a mono AAC tone."""
    import av
    import numpy as np

    rate = 48000
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        sound = out.add_stream("aac", rate=rate)
        sound.layout = "mono"
        for i in range(frames):
            img = _frame(width, height, i, colour)
            for packet in video.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        for packet in video.encode():
            out.mux(packet)
        samples = int(rate * frames / fps)
        wave_ = (0.3 * np.sin(2 * np.pi * tone_hz * np.arange(samples) / rate)).astype(np.float32)
        for start in range(0, samples, 1024):
            chunk = wave_[start : start + 1024].reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
            frame.sample_rate = rate
            frame.pts = start
            for packet in sound.encode(frame):
                out.mux(packet)
        for packet in sound.encode():
            out.mux(packet)
    return buf.getvalue()
