"""Dual dialogue and an inner voice, rendered offline from screenplay to voices, clips and lip sync.

A dual-dialogue pair is heard at once: both voices start together, overlap in the shot's track,
and both speakers' mouths move. An inner voice (（OS） in a Chinese script) is heard over the
speaker's face with no lip sync.
"""

from __future__ import annotations

import json
import wave
from pathlib import Path

import av
import numpy as np

from kaipai.document.io import load
from kaipai.project import ProjectPaths
from kaipai.service.document import new_project, plan_project
from kaipai.service.render import render
from kaipai.service.takes import circled_media

DUAL = """INT. KITCHEN - NIGHT

MARY
You never listen to me!

JOHN ^
I am listening right now.
"""

INNER = """1-1 夜 内 病房
人物：林夏、老周
△林夏坐在床边，握着老周的手。
林夏（OS）：他还认得我吗？
老周：小夏，你来了。
"""


def rendered(tmp_path: Path, name: str, script: str) -> ProjectPaths:
    source = tmp_path / name
    source.write_text(script, encoding="utf-8")
    paths = new_project(tmp_path / "film", script=source)
    plan_project(paths)
    summary = render(paths)
    assert summary.failed == 0
    return paths


def samples(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768, w.getframerate()


def mouths_moving(clip: Path, synced: Path, frames: range) -> tuple[set[int], set[int]]:
    """Frames (of ``frames``) where the lip-synced picture differs from the clip in its left, right half."""
    left, right = set(), set()
    with av.open(str(clip)) as a, av.open(str(synced)) as b:
        for i, (fa, fb) in enumerate(zip(a.decode(video=0), b.decode(video=0), strict=True)):
            if i not in frames:
                continue
            diff = np.abs(fa.to_ndarray(format="rgb24").astype(np.int16) - fb.to_ndarray(format="rgb24")).sum(axis=2)
            changed = diff > 90  # beyond re-encoding noise
            half = changed.shape[1] // 2
            if changed[:, :half].any():
                left.add(i)
            if changed[:, half:].any():
                right.add(i)
    return left, right


def test_dual_dialogue_overlaps_in_the_mix_and_both_mouths_move(tmp_path: Path) -> None:
    paths = rendered(tmp_path, "dual.fountain", DUAL)
    shot = next(m for m in circled_media(paths).values() if m.voices)
    mary, john = shot.voices
    assert (mary.speaker, john.speaker) == ("mary", "john") and mary.on_screen and john.on_screen
    assert mary.start == john.start == 0.3  # spoken at once
    longer = max(mary.duration, john.duration)
    assert shot.duration == round(0.3 + longer + 0.5, 3)  # as long as the longer speech, not both in a row
    assert shot.duration < 0.3 + mary.duration + 0.25 + john.duration + 0.5

    track, rate = samples(shot.audio)
    both = (round(john.start * rate), round(min(mary.end, john.end) * rate))
    a, _ = samples(mary.path)
    b, _ = samples(john.path)
    n = min(both[1] - both[0], len(a), len(b))
    heard = track[both[0] : both[0] + n]
    assert np.sqrt(np.mean(heard**2)) > 0.02  # voices, not silence
    assert np.abs(heard - np.clip(a[:n] + b[:n], -1, 1)).max() < 2e-3  # the two voices summed, sample for sample

    # both speakers' mouths move while both speak: the lip-synced picture differs from the clip around each mouth
    assert shot.lipsync is not None and shot.clip is not None
    with av.open(str(shot.clip)) as c:
        meta = json.loads(c.metadata["comment"])
    mouths = json.loads(meta["layout"])["mouths"]
    assert set(mouths) == {"mary", "john"} and mouths["mary"][0] < mouths["john"][0]  # Mary left, John right
    fps = 24
    left, right = mouths_moving(
        shot.clip, shot.lipsync, range(int(john.start * fps) + 1, int(min(mary.end, john.end) * fps))
    )
    assert len(left & right) >= 3, (len(left), len(right))  # frames where both mouths are open


def test_an_inner_voice_is_heard_over_the_speakers_face_without_lip_sync(tmp_path: Path) -> None:
    paths = rendered(tmp_path, "inner.txt", INNER)
    media = circled_media(paths)
    thought = next(m for m in media.values() if m.voices and m.voices[0].speaker == "林夏")
    (line,) = thought.voices
    assert not line.on_screen
    assert thought.lipsync is None and thought.picture == thought.clip  # her mouth stays closed
    track, rate = samples(thought.audio)
    heard = track[round(line.start * rate) : round(line.end * rate)]
    assert np.sqrt(np.mean(heard**2)) > 0.02  # and we hear her
    doc = load(paths.document).doc
    planned = doc.shot(thought.shot)
    assert planned is not None and [p.character for p in planned.composition] == ["林夏"]
    spoken = next(m for m in media.values() if m.voices and m.voices[0].speaker == "老周")
    assert spoken.lipsync is not None  # he speaks on screen: lip sync as usual
