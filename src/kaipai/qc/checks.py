"""The cheap technical checks: black, frozen and flash frames, silence and clipping, loudness, and
length, size and frame rate against what was asked.

Each takes a scan from :mod:`kaipai.qc.media` and returns a :class:`~kaipai.qc.report.Check`. The
thresholds are the ones an assistant editor would use on a dailies pass: a clip more than a quarter
black, frozen for more than half its length, a flash of a few frames, a line that is mostly silence.
"""

from __future__ import annotations

import numpy as np

from kaipai.qc.media import AudioScan, ImageScan, VideoScan
from kaipai.qc.report import Check

BLACK_SHARE = 0.25
FROZEN_SHARE = 0.5
FLASH_JUMP = 60.0  # mean brightness (0–255) that a flash frame jumps above its neighbours
SILENT_SHARE = 0.9
QUIET_LUFS = -40.0
CLIP_PEAK_DB = -0.1
CLIPPED_SAMPLES = 50


def _share(spans: list[tuple[float, float]], duration: float) -> float:
    return min(1.0, sum(max(0.0, e - s) for s, e in spans) / duration) if duration > 0 else 0.0


def black_video(scan: VideoScan) -> Check:
    share = _share(scan.black, scan.duration)
    ok = share <= BLACK_SHARE
    reason = "" if share == 0 else f"black for {share:.0%} of the clip"
    return Check(name="black", passed=ok, score=round(1 - share, 4), reason=reason, details={"share": share})


def black_image(scan: ImageScan) -> Check:
    dark = float((scan.grey < 26).mean())
    ok = dark < 0.98
    return Check(
        name="black",
        passed=ok,
        score=round(1 - dark, 4) if not ok else 1.0,
        reason="" if ok else "the picture is black",
    )


def frozen(scan: VideoScan) -> Check:
    share = _share(scan.frozen, scan.duration)
    ok = share <= FROZEN_SHARE
    reason = "" if share < 0.2 else f"frozen for {share:.0%} of the clip"
    return Check(name="frozen", passed=ok, score=round(1 - share, 4), reason=reason, details={"share": share})


def flash(scan: VideoScan) -> Check:
    """Frames much brighter (or darker) than both neighbours: a flash, a glitch frame, a stray cut."""
    luma = scan.luma
    if len(luma) < 3:
        return Check(name="flash")
    mid, before, after = luma[1:-1], luma[:-2], luma[2:]
    jump = np.minimum(np.abs(mid - before), np.abs(mid - after))
    spikes = np.flatnonzero((jump > FLASH_JUMP) & (np.sign(mid - before) == np.sign(mid - after))) + 1
    if not len(spikes):
        return Check(name="flash")
    at = ", ".join(f"{i / scan.fps:.2f} s" for i in spikes[:3]) if scan.fps else ""
    return Check(
        name="flash",
        passed=False,
        score=max(0.0, 1 - len(spikes) / max(1, len(luma)) * 10),
        reason=f"{len(spikes)} flash frame{'s' if len(spikes) > 1 else ''} at {at}",
        details={"frames": [int(i) for i in spikes[:20]]},
    )


def length(actual: float, wanted: float | None, *, fps: float | None = None, what: str = "clip") -> Check:
    """Shorter than asked fails (the edit would run out of picture); longer is trimmed, so it is only noted."""
    if not wanted:
        return Check(name="length", details={"seconds": actual})
    slack = max(1.0 / fps if fps else 0.05, 0.02 * wanted)
    details = {"seconds": round(actual, 3), "wanted": round(wanted, 3)}
    if actual < wanted - slack:
        return Check(
            name="length",
            passed=False,
            score=max(0.0, actual / wanted),
            reason=f"{actual:.2f} s, asked {wanted:.2f} s",
            details=details,
        )
    if actual > wanted * 1.5 + 1:
        return Check(
            name="length", hard=False, score=0.8, reason=f"{actual:.2f} s, asked {wanted:.2f} s", details=details
        )
    return Check(name="length", details=details)


def size(width: int, height: int, wanted: tuple[int, int] | None) -> Check:
    """Another shape fails (it would be cropped or boxed); another size of the same shape is only noted."""
    if not wanted or not all(wanted):
        return Check(name="size", details={"size": [width, height]})
    ww, wh = wanted
    details = {"size": [width, height], "wanted": [ww, wh]}
    if (width, height) == (ww, wh):
        return Check(name="size", details=details)
    shape = abs(width / max(1, height) - ww / wh) / (ww / wh)
    if shape > 0.02:
        return Check(
            name="size",
            passed=False,
            score=0.3,
            reason=f"{width}×{height}, asked {ww}×{wh} (another shape)",
            details=details,
        )
    return Check(name="size", hard=False, score=0.9, reason=f"{width}×{height}, asked {ww}×{wh}", details=details)


def frame_rate(fps: float, wanted: float | None) -> Check:
    if not wanted or not fps or abs(fps - wanted) < 0.01:
        return Check(name="fps", details={"fps": fps})
    return Check(name="fps", hard=False, score=0.9, reason=f"{fps:g} fps, asked {wanted:g}", details={"fps": fps})


def silence(scan: AudioScan, *, what: str = "sound") -> Check:
    share = _share(scan.silences, scan.duration) if scan.duration else 1.0
    if scan.peak_db == float("-inf") or share >= SILENT_SHARE:
        return Check(name="silence", passed=False, score=0.0, reason=f"the {what} is silent", details={"share": share})
    return Check(name="silence", score=round(1 - max(0.0, share - 0.5), 4), details={"share": round(share, 3)})


def clipping(scan: AudioScan) -> Check:
    if scan.peak_db >= CLIP_PEAK_DB and scan.peak_samples >= CLIPPED_SAMPLES:
        return Check(
            name="clipping",
            passed=False,
            score=0.2,
            reason=f"clipped: {scan.peak_samples} samples at full scale",
            details={"peak_db": scan.peak_db, "samples": scan.peak_samples},
        )
    return Check(name="clipping", details={"peak_db": scan.peak_db})


def loudness(scan: AudioScan) -> Check:
    if scan.lufs is None:
        return Check(name="loudness")
    if scan.lufs < QUIET_LUFS and scan.peak_db > float("-inf"):
        return Check(
            name="loudness",
            hard=False,
            score=0.6,
            reason=f"very quiet ({scan.lufs:.0f} LUFS)",
            details={"lufs": scan.lufs},
        )
    return Check(name="loudness", details={"lufs": scan.lufs})
