"""Previz sound design: ambience beds and sound effects synthesised offline from their description.

Filtered noise and simple textures (a rain hiss with droplets, the rumble of passing cars, an
engine's harmonics, a door's creak and thump, footsteps) are enough to judge the mix: that a
scene is never silent, that a bed sits under the dialogue and that an effect lands on its moment.
A description is read for the sounds it names, in English or Chinese; several layers can sound
at once ("night street, rain"). Everything is deterministic for the description and seed, and a
bed loops seamlessly so the edit can run it under a scene of any length.
"""

from __future__ import annotations

import hashlib
import re
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np

RATE = 48000
Layer = Callable[[int, np.random.Generator], np.ndarray]

# --------------------------------------------------------------------------- building blocks


def _shaped(n: int, rng: np.random.Generator, low: float, high: float, slope: float = 0.0) -> np.ndarray:
    """Noise with energy between ``low`` and ``high`` Hz, tilted by ``slope`` (−0.5 pink, −1 brown), unit RMS."""
    n = max(1, n)
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / RATE)
    gain = np.where((f >= low) & (f <= high), 1.0, 0.0)
    if slope:
        gain = gain * np.power(np.maximum(f, 1.0), slope)
    out = np.fft.irfft(spectrum * gain, n)
    rms = float(np.sqrt(np.mean(out * out))) or 1.0
    return out / rms


def _envelope(n: int, rng: np.random.Generator, period: float, depth: float) -> np.ndarray:
    """A slow random swell between 1 − depth and 1, changing about every ``period`` seconds."""
    points = max(2, int(n / RATE / period) + 2)
    knots = 1 - depth * rng.random(points)
    return np.interp(np.arange(n), np.linspace(0, n, points), knots)


def _decay(n: int, seconds: float) -> np.ndarray:
    return np.exp(-np.arange(n) / (RATE * max(seconds, 1e-3)))


def _place(out: np.ndarray, sound: np.ndarray, at: float) -> None:
    start = int(at * RATE)
    if start >= len(out):
        return
    end = min(len(out), start + len(sound))
    out[start:end] += sound[: end - start]


def _tone(seconds: float, freq: float | np.ndarray, decay: float) -> np.ndarray:
    n = int(seconds * RATE)
    phase = 2 * np.pi * np.cumsum(np.broadcast_to(freq, (n,))) / RATE
    return np.sin(phase) * _decay(n, decay)


# --------------------------------------------------------------------------- ambience layers


def _room(n: int, rng: np.random.Generator) -> np.ndarray:
    return 0.5 * _shaped(n, rng, 20, 400, -1.0)


def _traffic(n: int, rng: np.random.Generator) -> np.ndarray:
    out = 0.6 * _shaped(n, rng, 25, 600, -1.0) * _envelope(n, rng, 3.0, 0.4)
    car = _shaped(int(4 * RATE), rng, 40, 900, -0.8) * np.hanning(int(4 * RATE))
    for at in np.arange(rng.uniform(0, 3), n / RATE, rng.uniform(5, 9)):
        _place(out, 1.2 * car, float(at))
    return out


def _rain(n: int, rng: np.random.Generator) -> np.ndarray:
    out = 0.8 * _shaped(n, rng, 700, 12000, -0.4)
    drop = _shaped(int(0.03 * RATE), rng, 1500, 9000) * _decay(int(0.03 * RATE), 0.006)
    for at in rng.uniform(0, n / RATE, int(n / RATE * 14)):
        _place(out, rng.uniform(0.5, 2.0) * drop, float(at))
    return out


def _wind(n: int, rng: np.random.Generator) -> np.ndarray:
    return _shaped(n, rng, 120, 1400, -0.6) * _envelope(n, rng, 2.5, 0.8)


def _engine(n: int, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(n) / RATE
    base = 42 + 3 * np.sin(2 * np.pi * 0.11 * t)
    phase = 2 * np.pi * np.cumsum(base) / RATE
    hum = sum(np.sin(k * phase) / k for k in (1, 2, 3, 4, 6))
    return 0.5 * hum + 0.5 * _shaped(n, rng, 30, 300, -1.0)


def _birds(n: int, rng: np.random.Generator) -> np.ndarray:
    out = 0.15 * _shaped(n, rng, 200, 2000, -0.8)
    for at in rng.uniform(0, n / RATE, int(n / RATE * 1.5)):
        f0 = rng.uniform(2500, 4500)
        sweep = np.linspace(f0, f0 * rng.uniform(1.1, 1.5), int(0.12 * RATE))
        chirp = _tone(0.12, sweep, 0.05) * np.hanning(int(0.12 * RATE))
        for k in range(int(rng.integers(1, 4))):
            _place(out, 1.5 * chirp, float(at) + 0.15 * k)
    return out


def _crickets(n: int, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(n) / RATE
    pulse = (np.sin(2 * np.pi * 30 * t) > 0.3) * (np.sin(2 * np.pi * 0.9 * t + rng.uniform(0, 6)) > -0.2)
    return 0.2 * _shaped(n, rng, 20, 400, -1.0) + 0.5 * pulse * np.sin(2 * np.pi * 4400 * t)


def _crowd(n: int, rng: np.random.Generator) -> np.ndarray:
    voices = sum(_shaped(n, rng, 250, 2500, -0.5) * _envelope(n, rng, 0.25, 0.9) for _ in range(3))
    return voices / 2


def _waves(n: int, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(n) / RATE
    swell = 0.35 + 0.65 * np.sin(np.pi * t / rng.uniform(6, 9)) ** 2
    return _shaped(n, rng, 60, 6000, -0.6) * swell


#: (pattern, layer, level): what a description names, and how loud that layer sits in the bed.
AMBIENCE: list[tuple[re.Pattern[str], Layer, float]] = [
    (re.compile(r"rain|drizzle|storm|雨", re.I), _rain, 0.5),
    (re.compile(r"wind|gale|breeze|风", re.I), _wind, 0.45),
    (re.compile(r"traffic|street|city|road|car|station|stop|街|车流|城市|马路|路口|站|公路", re.I), _traffic, 0.5),
    (re.compile(r"engine|bus|train|cabin|vehicle|发动机|引擎|车厢|车内|列车|公交|汽车", re.I), _engine, 0.5),
    (re.compile(r"bird|morning|dawn|park|forest|鸟|清晨|早晨|黎明|公园|树林|森林", re.I), _birds, 0.4),
    (re.compile(r"cricket|insect|countryside|虫|蟋蟀|乡村|田野", re.I), _crickets, 0.3),
    (re.compile(r"crowd|murmur|cafe|restaurant|market|bar|人群|人声|餐厅|咖啡|市场|酒吧|热闹", re.I), _crowd, 0.45),
    (re.compile(r"sea|ocean|wave|beach|shore|海|浪|沙滩|岸", re.I), _waves, 0.55),
]


def ambience(description: str, seconds: float, seed: int = 0) -> np.ndarray:
    """A stereo bed (float32, −1..1) of ``seconds`` that loops without a seam; room tone under everything."""
    rng = np.random.default_rng(_seed(description, seed))
    n = max(RATE // 10, int(seconds * RATE))
    fade = min(n // 4, RATE)
    total = n + fade
    layers = [(layer, level) for pattern, layer, level in AMBIENCE if pattern.search(description)]
    channels = []
    for _ in range(2):  # independent noise per side: a wide, natural bed
        bed = 0.3 * _room(total, rng)
        for layer, level in layers:
            bed = bed + level * layer(total, rng)
        channels.append(bed)
    stereo = np.stack(channels, axis=1)
    ramp = np.linspace(0, 1, fade)[:, None]
    stereo[:fade] = stereo[:fade] * ramp + stereo[n : n + fade] * (1 - ramp)  # the tail runs into the head
    stereo = stereo[:n]
    rms = float(np.sqrt(np.mean(stereo * stereo))) or 1.0
    return (stereo * (0.06 / rms)).clip(-1, 1).astype(np.float32)  # about −24 dBFS RMS


# --------------------------------------------------------------------------- effects


def _door(rng: np.random.Generator) -> np.ndarray:
    out = np.zeros(int(1.3 * RATE))
    creak_f = 300 + 200 * np.sin(np.linspace(0, 3.0, int(0.6 * RATE))) + rng.uniform(-20, 20)
    creak = np.sign(_tone(0.6, creak_f, 10.0)) * 0.15 * np.hanning(int(0.6 * RATE))
    _place(out, creak, 0.0)
    thump = _tone(0.35, 70, 0.07) + 0.4 * _shaped(int(0.35 * RATE), rng, 100, 2000) * _decay(int(0.35 * RATE), 0.02)
    _place(out, thump, 0.75)
    return out


def _bus_door(rng: np.random.Generator) -> np.ndarray:
    out = np.zeros(int(1.4 * RATE))
    hiss = _shaped(int(0.9 * RATE), rng, 2000, 12000) * np.hanning(int(0.9 * RATE)) * 0.35
    _place(out, hiss, 0.0)
    _place(
        out, _tone(0.3, 90, 0.05) + 0.3 * _shaped(int(0.3 * RATE), rng, 200, 3000) * _decay(int(0.3 * RATE), 0.02), 0.9
    )
    return out


def _footsteps(rng: np.random.Generator) -> np.ndarray:
    out = np.zeros(int(3.2 * RATE))
    step_n = int(0.12 * RATE)
    for k, at in enumerate(np.arange(0.05, 3.0, 0.52)):
        step = _tone(0.12, 110, 0.03) + 0.6 * _shaped(step_n, rng, 300, 4000) * _decay(step_n, 0.015)
        _place(out, (0.8 if k % 2 else 1.0) * step, float(at + rng.uniform(-0.02, 0.02)))
    return out


def _engine_pass(rng: np.random.Generator) -> np.ndarray:
    n = int(4.0 * RATE)
    rpm = np.interp(np.arange(n), [0, n * 0.6, n], [55, 38, 30])
    phase = 2 * np.pi * np.cumsum(rpm) / RATE
    hum = sum(np.sin(k * phase) / k for k in (1, 2, 3, 5))
    body = 0.6 * hum + 0.5 * _shaped(n, rng, 30, 500, -1.0)
    return body * np.interp(np.arange(n), [0, n * 0.2, n * 0.8, n], [0, 1, 0.8, 0])


def _brakes(rng: np.random.Generator) -> np.ndarray:
    n = int(1.0 * RATE)
    t = np.arange(n) / RATE
    squeal = 0.3 * np.sin(2 * np.pi * (2600 + 40 * np.sin(2 * np.pi * 7 * t)) * t) * np.hanning(n)
    return squeal + 0.4 * _shaped(n, rng, 1500, 9000) * _decay(n, 0.4)


def _knock(rng: np.random.Generator) -> np.ndarray:
    out = np.zeros(int(1.2 * RATE))
    hit_n = int(0.1 * RATE)
    for at in (0.0, 0.28, 0.56):
        _place(out, _tone(0.1, 180, 0.02) + 0.5 * _shaped(hit_n, rng, 400, 3000) * _decay(hit_n, 0.01), at)
    return out


def _ring(rng: np.random.Generator) -> np.ndarray:
    n = int(2.4 * RATE)
    t = np.arange(n) / RATE
    on = (t % 1.2) < 0.8
    return 0.4 * on * (np.sin(2 * np.pi * 440 * t) + np.sin(2 * np.pi * 480 * t)) * (np.sin(2 * np.pi * 20 * t) > 0)


def _thunder(rng: np.random.Generator) -> np.ndarray:
    n = int(5.0 * RATE)
    crack = _shaped(n, rng, 500, 8000) * _decay(n, 0.15)
    rumble = _shaped(n, rng, 20, 200, -1.0) * _decay(n, 1.5) * _envelope(n, rng, 0.4, 0.6)
    return 0.5 * crack + rumble


def _shatter(rng: np.random.Generator) -> np.ndarray:
    n = int(1.2 * RATE)
    out = 0.7 * _shaped(n, rng, 2000, 14000) * _decay(n, 0.12)
    for f in rng.uniform(3000, 9000, 8):
        _place(out, 0.1 * _tone(rng.uniform(0.2, 0.8), f, 0.15), float(rng.uniform(0, 0.4)))
    return out


def _bang(rng: np.random.Generator) -> np.ndarray:
    n = int(2.0 * RATE)
    return _shaped(n, rng, 100, 10000, -0.3) * _decay(n, 0.05) + _tone(2.0, 50, 0.4)


def _heartbeat(rng: np.random.Generator) -> np.ndarray:
    out = np.zeros(int(3.4 * RATE))
    for at in np.arange(0.0, 3.2, 0.85):
        _place(out, _tone(0.15, 55, 0.04), float(at))
        _place(out, 0.7 * _tone(0.15, 50, 0.04), float(at) + 0.22)
    return out


def _tick(rng: np.random.Generator) -> np.ndarray:
    out = np.zeros(int(3.0 * RATE))
    click = _shaped(int(0.02 * RATE), rng, 2000, 9000) * _decay(int(0.02 * RATE), 0.003)
    for k, at in enumerate(np.arange(0.0, 3.0, 0.5)):
        _place(out, (1.0 if k % 2 else 0.7) * click, float(at))
    return out


def _whoosh(rng: np.random.Generator) -> np.ndarray:
    n = int(1.0 * RATE)
    return _shaped(n, rng, 300, 5000, -0.5) * np.hanning(n)


#: (pattern, effect): what a description names and the sound made for it; the first match wins.
EFFECTS: list[tuple[re.Pattern[str], Callable[[np.random.Generator], np.ndarray]]] = [
    (re.compile(r"knock|敲门|敲击", re.I), _knock),
    (re.compile(r"bus door|车门|pneumatic", re.I), _bus_door),
    (re.compile(r"door|门", re.I), _door),
    (re.compile(r"footstep|step|walk|脚步|走", re.I), _footsteps),
    (re.compile(r"brake|screech|刹车|停下", re.I), _brakes),
    (re.compile(r"engine|car|bus|motor|truck|发动机|引擎|汽车|公交|车", re.I), _engine_pass),
    (re.compile(r"ring|bell|phone|alarm|chime|铃|电话|闹钟|钟声", re.I), _ring),
    (re.compile(r"thunder|雷", re.I), _thunder),
    (re.compile(r"glass|shatter|smash|玻璃|碎", re.I), _shatter),
    (re.compile(r"gun|shot|bang|explo|boom|枪|爆炸|炮|鞭炮", re.I), _bang),
    (re.compile(r"heart|心跳", re.I), _heartbeat),
    (re.compile(r"clock|tick|时钟|滴答", re.I), _tick),
]


def effect(description: str, seconds: float | None = None, seed: int = 0) -> np.ndarray:
    """A stereo sound effect (float32) for ``description``: its natural length, or ``seconds`` (trimmed
    with a fade, or a texture like rain run that long)."""
    rng = np.random.default_rng(_seed(description, seed))
    for pattern, make in EFFECTS:
        if pattern.search(description):
            mono = make(rng)
            break
    else:
        texture = next((layer for pattern, layer, _ in AMBIENCE if pattern.search(description)), None)
        mono = (
            texture(int((seconds or 3.0) * RATE), rng) * np.hanning(int((seconds or 3.0) * RATE)) ** 0.3
            if texture
            else _whoosh(rng)
        )
    if seconds is not None:
        n = max(1, int(seconds * RATE))
        mono = np.pad(mono, (0, max(0, n - len(mono))))[:n]
        fade = min(n // 4, int(0.05 * RATE))
        if fade:
            mono[-fade:] *= np.linspace(1, 0, fade)
    peak = float(np.max(np.abs(mono))) or 1.0
    mono = mono * (0.5 / peak)  # −6 dBFS peaks: the mix sets the level
    return np.stack([mono, mono], axis=1).astype(np.float32)


# --------------------------------------------------------------------------- files


def _seed(description: str, seed: int) -> int:
    return int.from_bytes(hashlib.sha256(f"{description}|{seed}".encode()).digest()[:8], "big")


def write_wav(path: Path, samples: np.ndarray, rate: int = RATE) -> float:
    """16-bit stereo WAV of float samples; returns its duration in seconds."""
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(pcm.shape[1] if pcm.ndim == 2 else 1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return len(pcm) / rate
