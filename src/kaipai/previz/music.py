"""A previz music bed: a soft synthesized pad whose chord follows the cue's mood, so the mix,
the ducking under dialogue and the music stem can be judged before a composer or model is paid."""

from __future__ import annotations

import hashlib
import re
import wave
from pathlib import Path

import numpy as np

_MINOR = re.compile(r"sad|dark|tense|melanch|grief|night|悲|伤|暗|紧张|忧|夜|哀|孤", re.I)
ROOTS = [196.0, 220.0, 246.9, 261.6, 293.7]  # G3 A3 B3 C4 D4


def pad(prompt: str, duration: float, rate: int = 48000) -> np.ndarray:
    """Stereo float32 samples in -1..1: a slow chord with fades, deterministic for the prompt."""
    n = max(1, int(duration * rate))
    t = np.arange(n, dtype=np.float64) / rate
    h = int.from_bytes(hashlib.sha256(prompt.encode()).digest()[:2], "big")
    root = ROOTS[h % len(ROOTS)]
    third = 6 / 5 if _MINOR.search(prompt) else 5 / 4
    out = np.zeros(n)
    for ratio, amp in ((1.0, 0.5), (third, 0.35), (1.5, 0.3), (2.0, 0.15)):
        f = root * ratio
        out += amp * np.sin(2 * np.pi * f * t + 0.3 * np.sin(2 * np.pi * 0.2 * t))
    out *= 0.5 + 0.5 * np.sin(2 * np.pi * t / 8.0) ** 2  # slow swell
    fade = min(2.0, duration / 4)
    env = np.clip(np.minimum(t / max(fade, 1e-3), (duration - t) / max(fade, 1e-3)), 0, 1)
    mono = 0.25 * out * env / 1.3
    return np.stack([mono, np.roll(mono, int(0.012 * rate))], axis=1).astype(np.float32)


def write_pad(path: Path, prompt: str, duration: float, rate: int = 48000) -> float:
    samples = pad(prompt, duration, rate)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((samples * 32767).astype("<i2").tobytes())
    return len(samples) / rate
