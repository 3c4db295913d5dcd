"""The shot's dialogue track: its voice lines placed on one timeline in one WAV.

Computed by the engine, not a backend: it is pure arithmetic on finished voice takes.
Any format PyAV can read is accepted; lines are resampled to the first line's rate.
"""

from __future__ import annotations

import wave
from pathlib import Path

import av
import numpy as np

from kaipai.previz.sound import write_wav


def _read_wav(path: Path) -> tuple[np.ndarray, int] | None:
    """16-bit PCM WAV straight from the file (most speech backends write it); None for anything else."""
    try:
        with wave.open(str(path), "rb") as fh:
            if fh.getsampwidth() != 2 or fh.getcomptype() != "NONE":
                return None
            channels, rate = fh.getnchannels(), fh.getframerate()
            data = np.frombuffer(fh.readframes(fh.getnframes()), dtype="<i2").astype(np.float32) / 32768.0
    except (wave.Error, EOFError):
        return None
    if channels > 1:
        data = data.reshape(-1, channels).mean(axis=1)
    return data, rate


def read_mono(path: Path, rate: int | None = None) -> tuple[np.ndarray, int]:
    """Decode an audio file to mono float32 in [-1, 1] (at ``rate`` when given)."""
    wav = _read_wav(path)
    if wav is not None:
        data, native = wav
        if rate is None or rate == native:
            return data, native
        if len(data) == 0:
            return data, rate
        n = round(len(data) * rate / native)
        return np.interp(np.arange(n) * (native / rate), np.arange(len(data)), data).astype(np.float32), rate
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        target = rate or stream.rate or stream.codec_context.sample_rate
        resampler = av.AudioResampler(format="flt", layout="mono", rate=target)
        chunks = []
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().reshape(-1))
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray().reshape(-1))
    samples = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)
    return samples.astype(np.float32), int(target)


def audio_rate(path: Path) -> int:
    try:
        with wave.open(str(path), "rb") as fh:
            return int(fh.getframerate())
    except (wave.Error, EOFError):
        pass
    with av.open(str(path)) as container:
        return int(container.streams.audio[0].rate)


def mix_lines(lines: list[tuple[Path, float]], length: float, out: Path) -> float:
    """Write a mono 16-bit WAV ``length`` seconds long with each (file, start) placed; return its duration."""
    rate = audio_rate(lines[0][0]) if lines else 24000
    total = max(1, round(length * rate))
    track = np.zeros(total, dtype=np.float32)
    for path, start in lines:
        samples, _ = read_mono(path, rate)
        begin = round(start * rate)
        if begin >= total:
            continue
        end = min(total, begin + len(samples))
        track[begin:end] += samples[: end - begin]
    write_wav(out, track, rate)
    return total / rate
