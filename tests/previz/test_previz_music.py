"""The previz music bed: a pad of the cue's length whose chord follows its mood, the same every time."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from kaipai.backends.base import JobContext, MusicRequest
from kaipai.backends.previz import PrevizBackend


def bed(tmp: Path, prompt: str, seconds: float) -> tuple[np.ndarray, float, int]:
    out = tmp / f"m{len(list(tmp.iterdir()))}"
    out.mkdir()
    r = PrevizBackend().generate_music(MusicRequest(prompt=prompt, duration=seconds), JobContext(out_dir=out))
    with wave.open(str(r.files[0])) as w:
        rate, channels = w.getframerate(), w.getnchannels()
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").reshape(-1, channels).astype(float)
    return pcm, r.duration or 0.0, rate


def third_of_the_chord(mono: np.ndarray, rate: int) -> float:
    """The interval above the root (the loudest partial) of the second-loudest chord tone below the fifth."""
    spectrum = np.abs(np.fft.rfft(mono * np.hanning(len(mono))))
    freqs = np.fft.rfftfreq(len(mono), 1 / rate)
    root = freqs[np.argmax(spectrum)]
    band = (freqs > root * 1.1) & (freqs < root * 1.4)
    return float(freqs[band][np.argmax(spectrum[band])] / root)


def test_the_bed_lasts_the_cue_fades_in_and_out_and_is_repeatable(tmp_path: Path) -> None:
    pcm, seconds, rate = bed(tmp_path, "warm morning, hopeful", 6.0)
    assert seconds == 6.0 and len(pcm) == 6 * rate and pcm.shape[1] == 2
    rms = lambda a: float(np.sqrt(np.mean(a**2)))  # noqa: E731
    assert rms(pcm[: rate // 10]) < 0.3 * rms(pcm[2 * rate : 4 * rate]) > 300  # audible, and it fades in
    assert rms(pcm[-rate // 10 :]) < 0.3 * rms(pcm[2 * rate : 4 * rate])
    again, _, _ = bed(tmp_path, "warm morning, hopeful", 6.0)
    assert np.array_equal(pcm, again)


def test_a_sad_cue_is_in_minor_and_a_hopeful_one_in_major(tmp_path: Path) -> None:
    sad, _, rate = bed(tmp_path, "悲伤的夜，孤独", 8.0)
    glad, _, _ = bed(tmp_path, "warm morning, hopeful", 8.0)
    assert abs(third_of_the_chord(sad[:, 0], rate) - 6 / 5) < 0.02
    assert abs(third_of_the_chord(glad[:, 0], rate) - 5 / 4) < 0.02
