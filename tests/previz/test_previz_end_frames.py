"""A previz clip that moves from the shot's start composition to its end one, and lip sync on it."""

from __future__ import annotations

import itertools
import wave
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from kaipai.backends.base import ImageRequest, JobContext, LipsyncRequest, VideoRequest
from kaipai.backends.previz import PrevizBackend
from kaipai.document.cast import Character
from kaipai.document.scenes import Scene
from kaipai.document.shots import Placement, Shot, ShotEnd

W, H, FPS = 320, 180, 12
CAST = [Character(id="lin", name="林晓", color="#E4572E"), Character(id="father", name="父亲", color="#2E86DE")]
SCENE = Scene(id="SC1", heading="1-1 日 内 厨房", int_ext="INT", time_of_day="day", location="kitchen")
SHOT = Shot(
    id="S3",
    scene="SC1",
    size="LS",
    composition=[Placement(character="father", third="left")],
    description="父亲站在门边",
    end=ShotEnd(
        composition=[Placement(character="father", third="right"), Placement(character="lin", third="left")],
        description="林晓走进厨房",
    ),
)
RED = np.array([0xE4, 0x57, 0x2E])  # Lin's coat
BLUE = np.array([0x2E, 0x86, 0xDE])  # the father's


def _job(tmp: Path, name: str) -> JobContext:
    (tmp / name).mkdir()
    return JobContext(out_dir=tmp / name)


def _frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(c.streams.video[0])]


def _centre(frame: np.ndarray, colour: np.ndarray, picture_h: int) -> float | None:
    """Mean x of the pixels near a coat's colour in the picture (above the caption band), or None."""
    near = np.abs(frame[:picture_h].astype(int) - colour).sum(axis=2) < 60
    xs = np.nonzero(near)[1]
    return float(xs.mean()) / frame.shape[1] if len(xs) > 40 else None


@pytest.fixture
def clip(tmp_path: Path) -> tuple[Path, Path, Path]:
    backend = PrevizBackend()

    def keyframe(shot: Shot, name: str, purpose: str) -> Path:
        request = ImageRequest(
            prompt="",
            width=W,
            height=H,
            shot=shot,
            scene=SCENE,
            characters=CAST,
            purpose=purpose,  # type: ignore[arg-type]
        )
        return backend.generate_image(request, _job(tmp_path, name)).files[0]

    start, end = keyframe(SHOT, "start", "keyframe"), keyframe(SHOT.end_state(), "end", "last_frame")
    request = VideoRequest(
        prompt="",
        image=start,
        last_image=end,
        width=W,
        height=H,
        fps=FPS,
        duration=3.0,
        shot=SHOT,
        scene=SCENE,
        characters=CAST,
    )
    return start, end, backend.generate_video(request, _job(tmp_path, "clip")).files[0]


def test_the_clip_walks_from_the_start_composition_to_the_end_one(clip: tuple[Path, Path, Path]) -> None:
    start, end, video = clip
    frames = _frames(video)
    assert len(frames) == 3 * FPS
    for still, frame in ((start, frames[0]), (end, frames[-1])):  # a static shot starts and ends on its keyframes
        assert np.abs(np.asarray(Image.open(still).convert("RGB")).astype(int) - frame.astype(int)).mean() < 3
    picture_h = int(H * 0.86)
    father = [_centre(f, BLUE, picture_h) for f in frames]
    assert all(x is not None for x in father)
    assert father[0] < 0.4 and father[-1] > 0.6  # from the left third to the right one
    assert all(b >= a - 0.01 for a, b in itertools.pairwise(father))  # walking, not jumping: steadily right
    lin = [_centre(f, RED, picture_h) for f in frames]
    assert lin[0] is None and lin[-1] is not None and lin[-1] < 0.45  # Lin comes in on the left


def test_the_lip_sync_finds_a_speakers_mouth_while_they_walk(clip: tuple[Path, Path, Path], tmp_path: Path) -> None:
    _, _, video = clip
    line = tmp_path / "line.wav"
    t = np.arange(3 * 24000) / 24000
    with wave.open(str(line), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(24000)
        w.writeframes((0.5 * np.sin(2 * np.pi * 220 * t) * 32767).astype("<i2").tobytes())
    synced = PrevizBackend().lipsync(
        LipsyncRequest(video=video, audio=line, speakers=[("father", 0.0, 3.0)], fps=FPS), _job(tmp_path, "lip")
    )
    before, after = _frames(video), _frames(synced.files[0])
    changed = [np.abs(a.astype(int) - b.astype(int)).sum(axis=2) > 60 for a, b in zip(before, after)]
    xs = [float(np.nonzero(c)[1].mean()) / W for c in changed if c.sum() > 3]
    assert len(xs) > len(before) * 0.8  # a mouth drawn on almost every frame
    assert xs[0] < 0.4 and xs[-1] > 0.6  # where the father is: it walks with him


def test_pictures_previz_did_not_draw_dissolve_into_each_other(tmp_path: Path) -> None:
    start, end = tmp_path / "start.png", tmp_path / "end.png"
    Image.new("RGB", (W, H), (200, 30, 30)).save(start)
    Image.new("RGB", (W, H), (30, 30, 200)).save(end)
    request = VideoRequest(prompt="", image=start, last_image=end, width=W, height=H, fps=FPS, duration=2.0, shot=SHOT)
    frames = _frames(PrevizBackend().generate_video(request, _job(tmp_path, "clip")).files[0])
    reds = [float(f[..., 0].mean()) for f in frames]
    assert reds[0] > 180 and reds[-1] < 50 and 60 < reds[len(reds) // 2] < 170
