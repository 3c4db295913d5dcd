"""Two-pass EBU R128 loudness: measure the mix alone, then apply one linear gain in the encode.

The first pass runs only the audio graph through ffmpeg's ``ebur128`` meter (integrated loudness,
loudness range and true peak), which takes a fraction of a second for a short film. ``loudnorm``'s
own measuring mode resamples to 192 kHz and costs ~20× more; its linear second pass is exactly a
gain, so the encode applies that gain with ``volume`` and, only when the gain would push true peaks
past the profile's ceiling, a limiter.

The limiter is a compressor keyed on the gained mix (:func:`limiter`): the gain it takes off depends
only on that key, so applying it to each stem with the same key and adding them up gives exactly the
limited mix, and the stems stay the parts of the master.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kaipai.post.ffmpeg import AssemblyError, Graph, run

#: delivery profile → (integrated loudness target in LUFS, true-peak ceiling in dBTP)
PROFILES: dict[str, tuple[float, float]] = {"web": (-14.0, -1.0), "broadcast": (-23.0, -2.0)}
SILENCE = -70.0  # the meter's floor: nothing to normalise
MAX_GAIN = 40.0


@dataclass
class Loudness:
    integrated: float  # LUFS
    lra: float  # LU
    true_peak: float  # dBTP

    def as_dict(self) -> dict[str, float]:
        return {"input_i": self.integrated, "input_lra": self.lra, "input_tp": self.true_peak}


def parse_summary(log: str) -> Loudness:
    """The ``ebur128`` summary at the end of an ffmpeg log."""
    summary = log[log.rfind("Summary:") :] if "Summary:" in log else ""
    found = {key: re.search(rf"{key}:\s+(-?inf|-?[\d.]+)", summary) for key in ("I", "LRA", "Peak")}
    if not summary or any(m is None for m in found.values()):
        raise AssemblyError("ffmpeg did not report loudness; the mix may be empty")

    def value(key: str) -> float:
        m = found[key]
        assert m is not None
        return max(SILENCE, float(m.group(1))) if "inf" not in m.group(1) else SILENCE

    return Loudness(integrated=value("I"), lra=value("LRA") if found["LRA"] else 0.0, true_peak=value("Peak"))


def measure(g: Graph, mix: str) -> Loudness:
    """First pass over an audio-only graph whose mix is labelled ``mix``."""
    g.chains.append(f"[{mix}]ebur128=peak=true:framelog=verbose[measured]")
    log = run([*g.args(), *g.filter_args(), "-map", "[measured]", "-f", "null", "-"], what="measure loudness")
    return parse_summary(log)


def normalise(measured: Loudness, profile: str, trim: float = 0.0) -> str:
    """The filter chain of the second pass: a linear gain to the target, limited only if peaks need it.

    ``trim`` (dB) adds to the gain, to make up what the limiter takes off (see ``needs_limiter``).
    """
    if measured.integrated <= SILENCE:
        return "anull"
    chain = f"volume={gain_db(measured, profile, trim):.3f}dB"
    if needs_limiter(measured, profile):
        chain += f",asplit=2[lim_main][lim_key];[lim_key]apad[lim_pad];[lim_main][lim_pad]{limiter(profile)}"
    return chain


def limiter(profile: str) -> str:
    """The peak limiter as a ``sidechaincompress`` (main input, then the key that sets its gain): peaks of the
    key above the profile's ceiling, less half a dB, are held down at 20:1."""
    threshold = 10 ** ((PROFILES[profile][1] - 0.5) / 20)
    return (
        f"sidechaincompress=threshold={threshold:.5f}:ratio=20:attack=0.01:release=50:knee=1"
        ":detection=peak:link=maximum:makeup=1"
    )


def gain_db(measured: Loudness, profile: str, trim: float = 0.0) -> float:
    """The linear gain (dB) that brings the mix to the profile's loudness; 0 for silence."""
    if measured.integrated <= SILENCE:
        return 0.0
    return round(min(MAX_GAIN, PROFILES[profile][0] - measured.integrated + trim), 3)


def needs_limiter(measured: Loudness, profile: str) -> bool:
    target, ceiling = PROFILES[profile]
    return measured.integrated > SILENCE and measured.true_peak + min(MAX_GAIN, target - measured.integrated) > ceiling
