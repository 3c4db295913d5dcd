"""Lip sync: does the speaker's mouth move with their voice?

The mouth region is the lower middle of the speaker's face when a face is found, else the place
in the speaker's part of the frame that changes most while they speak (a drawn previz mouth, a
face the detector misses). Its openness per frame is the spread of brightness inside it (an open
mouth shows a dark cavity and teeth against the lips); the voice's is its loudness per frame.
Both are high-passed (the slow on/off of a line says little about sync) and correlated over a
small search of lags: in sync, the best lag is near zero and the correlation clearly positive;
a clip whose sound slipped by half a second peaks half a second away.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kaipai.qc.report import Check, FaceSeen

#: Lags searched for the verdict (the mouth may lead or trail the voice by this much and pass)…
SYNC_WINDOW = 0.2
#: …and for the report (how far off an out-of-sync clip is).
SEARCH = 1.0
MIN_FOLLOW = 0.25  # the best correlation below which the mouth does not follow the voice at all
#: A lag outside the window must beat the best one inside it by this much to call the clip out of sync
#: (speech is rhythmic: a lag a few syllables away can correlate almost as well by chance).
CLEARLY = 0.1


@dataclass
class Sync:
    score: float  # 0–1
    offset: float  # seconds the mouth leads (+) or trails (−) the voice at the best lag
    local: float  # best correlation within ±SYNC_WINDOW
    best: float  # best correlation within ±SEARCH
    region: tuple[int, int, int, int]  # x, y, w, h in scan pixels


def _high_pass(x: np.ndarray, k: int) -> np.ndarray:
    """``x`` less its moving average over ``k`` frames (averaged over the frames there are, at the ends)."""
    if len(x) < 3:
        return x - x.mean()
    k = max(3, min(k, len(x)))
    window = np.ones(k)
    return x - np.convolve(x, window, mode="same") / np.convolve(np.ones(len(x)), window, mode="same")


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) < 4:
        return 0.0
    a = a - a.mean()
    b = b - b.mean()
    d = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / d) if d > 1e-9 else 0.0


def _lagged(m: np.ndarray, e: np.ndarray, lag: int, keep: np.ndarray) -> float:
    """Correlation of the mouth at t with the voice at t + lag, over the frames ``keep``."""
    n = len(m)
    t = np.flatnonzero(keep)
    t = t[(t + lag >= 0) & (t + lag < n)]
    return _corr(m[t], e[t + lag])


def mouth_from_face(face: FaceSeen, width: int, height: int) -> tuple[int, int, int, int]:
    x = int((face.x + face.w * 0.25) * width)
    y = int((face.y + face.h * 0.62) * height)
    return x, y, max(2, int(face.w * 0.5 * width)), max(2, int(face.h * 0.33 * height))


def mouth_from_motion(frames: np.ndarray, keep: np.ndarray, columns: tuple[float, float]) -> tuple[int, int, int, int]:
    """The most-changing mouth-sized patch within ``columns`` (fractions of the width) while ``keep``."""
    import cv2

    n, h, w = frames.shape
    lo, hi = int(columns[0] * w), max(int(columns[0] * w) + 1, int(columns[1] * w))
    idx = np.flatnonzero(keep[1:]) + 1
    if len(idx) < 2:
        idx = np.arange(1, n)
    part = frames[:, :, lo:hi]
    diff = np.abs(part[idx].astype(np.int16) - part[idx - 1].astype(np.int16)).mean(axis=0).astype(np.float32)
    bw, bh = max(4, w // 16), max(4, h // 16)
    smooth = cv2.blur(diff, (bw, bh))
    y, x = np.unravel_index(int(np.argmax(smooth)), smooth.shape)
    return max(0, int(x) + lo - bw), max(0, int(y) - bh), 2 * bw, 2 * bh


def measure(
    frames: np.ndarray,
    fps: float,
    voice: np.ndarray,
    keep: np.ndarray,
    region: tuple[int, int, int, int],
) -> Sync:
    """Sync of the mouth in ``region`` with ``voice`` (loudness per frame) over the frames ``keep``."""
    x, y, w, h = region
    patch = frames[:, y : y + h, x : x + w].astype(np.float32)
    n = len(frames)
    openness = patch.reshape(n, -1).std(axis=1) if patch.size else np.zeros(n)
    k = max(3, round(fps * 0.5))
    m, e = _high_pass(openness, k), _high_pass(voice[:n].astype(np.float64), k)
    # A lag is only trusted where most of the speech still pairs up: a short line is searched less far.
    spoken = int(keep.sum())
    small = max(1, round(SYNC_WINDOW * fps))
    wide = max(small, min(round(SEARCH * fps), int(spoken * 0.4)))
    scores = {lag: _lagged(m, e, lag, keep) for lag in range(-wide, wide + 1)}
    local = max(scores[lag] for lag in range(-small, small + 1))
    lag, best = max(scores.items(), key=lambda kv: (kv[1], -abs(kv[0])))
    if abs(lag) <= small or best - local < CLEARLY:
        lag = max(range(-small, small + 1), key=lambda k: (scores[k], -abs(k)))
        best = local
        score = min(1.0, max(0.0, local) / 0.5)
    else:
        score = max(0.0, local) / max(best, 1e-6) * 0.5
    return Sync(round(score, 4), round(lag / fps, 3), round(local, 4), round(best, 4), region)


def speaking_frames(n: int, fps: float, spans: list[tuple[float, float]], pad: float = 0.4) -> np.ndarray:
    keep = np.zeros(n, dtype=bool)
    for start, end in spans:
        keep[max(0, int((start - pad) * fps)) : min(n, int((end + pad) * fps) + 1)] = True
    return keep


def sync_check(results: dict[str, Sync]) -> Check:
    """One check over every on-screen speaker: the worst of them decides."""
    if not results:
        return Check(name="lipsync", hard=False, reason="no on-screen speaker to check")
    who, worst = min(results.items(), key=lambda kv: kv[1].score)
    details = {
        cid: {
            "score": s.score,
            "offset": s.offset,
            "r": s.local,
            "best_r": s.best,
            "region": [int(v) for v in s.region],
        }
        for cid, s in results.items()
    }
    if worst.best < MIN_FOLLOW:
        reason = f"{who}'s mouth does not follow the voice (r = {worst.best:.2f})"
        return Check(name="lipsync", passed=False, score=worst.score, reason=reason, details=details)
    if abs(worst.offset) > SYNC_WINDOW + 1e-9:
        side = "before" if worst.offset > 0 else "after"
        reason = f"{who}'s mouth moves {abs(worst.offset):.2f} s {side} the voice"
        return Check(name="lipsync", passed=False, score=worst.score, reason=reason, details=details)
    return Check(name="lipsync", score=worst.score, details=details)
