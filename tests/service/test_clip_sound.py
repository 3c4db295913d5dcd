"""A video model that returns sound with its clip (Veo, Seedance, newer Kling; here the ``simulated``
backend with ``native_audio``): the clip's own sound stays in the film, under the dialogue, on the
effects stem; a shot that asks for the model's own dialogue takes its lines from that sound and lasts
as long as its clip."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np

from kaipai.backends.simulated import SOUND_HZ
from kaipai.document.io import update
from kaipai.service.cut import current_cut, export_all, make_cut
from kaipai.service.render import render
from tests.support.films import Film


def stereo(path: Path) -> np.ndarray:
    with av.open(str(path)) as c:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=48000)
        return np.concatenate(
            [f.to_ndarray().reshape(-1) for frame in c.decode(c.streams.audio[0]) for f in resampler.resample(frame)]
        )


def tone_level(x: np.ndarray, hz: float = SOUND_HZ) -> float:
    """Amplitude of the ``hz`` component (an FFT bin over a Hann window)."""
    if len(x) < 4800:
        return 0.0
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x)))) / (len(x) / 4)
    freqs = np.fft.rfftfreq(len(x), 1 / 48000)
    return float(spectrum[np.abs(freqs - hz) < 20].max())


def speech_level(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x**2)))


def sound_film(film: Callable[..., Film]) -> Film:
    f = film({"media": "real"}, {"video": {"native_audio": True}})
    summary = render(f.paths, settings=f.settings)
    assert summary.failed == 0, summary.failures
    return f


def test_a_clips_own_sound_stays_under_the_dialogue_in_the_master_and_the_stems(film: Callable[..., Film]) -> None:
    f = sound_film(film)
    master = stereo(make_cut(f.paths).film)
    export_all(f.paths, f.paths.output / "exports", ["stems"])
    stems = {n: stereo(f.paths.output / "exports" / "stems" / f"{n}.wav") for n in ("dialogue", "effects")}
    cut = current_cut(f.paths)
    assert all(s.sound is not None and not s.sound_is_dialogue for s in cut.shots)
    line = cut.lines[0]
    a, b = int((line.start + 0.1) * 48000), int((line.end - 0.05) * 48000)
    first = cut.shots[0]  # no dialogue: the clip's sound alone
    c, d = int((first.start + 0.3) * 48000), int((first.end - 0.2) * 48000)
    # in the stems: on the effects stem, not the dialogue, and ducked while the line is spoken
    assert tone_level(stems["effects"][c:d]) > 0.02 and tone_level(stems["dialogue"][c:d]) < 0.002
    assert tone_level(stems["effects"][a:b]) < 0.8 * tone_level(stems["effects"][c:d])
    # in the master: heard throughout, and under the line, which stays the loudest thing there
    assert tone_level(master[c:d]) > 0.02 and tone_level(master[a:b]) > 0.005
    assert speech_level(stems["dialogue"][a:b]) > 4 * tone_level(stems["effects"][a:b])


def test_a_shot_can_take_its_dialogue_from_the_clip_and_last_as_long_as_it(film: Callable[..., Film]) -> None:
    f = film({"media": "real"}, {"video": {"native_audio": True}})

    def from_the_clip(doc):  # the model speaks S3's line; no voice is made for it
        s3 = next(s for s in doc.shots if s.id == "S3")
        s3.generation.clip_dialogue = True
        s3.duration = 3.0

    update(f.paths.document, from_the_clip)
    assert render(f.paths, settings=f.settings).failed == 0
    takes = json.dumps([str(p) for p in (f.paths.store).rglob("*")])
    cut = current_cut(f.paths)
    s3 = next(s for s in cut.shots if s.shot == "S3")
    assert s3.sound is not None and s3.sound_is_dialogue and abs(s3.duration - 3.0) < 1e-6
    (line,) = [ln for ln in cut.lines if ln.line == "F1"]
    assert line.path is None and s3.start < line.start < line.end <= s3.end  # subtitled across the clip
    assert "F1" not in takes  # no voice take for it
    export_all(f.paths, f.paths.output / "exports", ["stems"])
    dialogue = stereo(f.paths.output / "exports" / "stems" / "dialogue.wav")
    a, b = int((s3.start + 0.2) * 48000), int((s3.end - 0.2) * 48000)
    assert tone_level(dialogue[a:b]) > 0.05  # the clip's own sound is the dialogue now
