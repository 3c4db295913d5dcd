"""Previz clips: every camera move moves the picture the way its name says, in the keyframe's colours."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from kaipai.backends.base import ImageRequest, JobContext, UnsupportedRequest, VideoRequest
from kaipai.backends.previz import PrevizBackend
from kaipai.document.cast import Character
from kaipai.document.scenes import Scene
from kaipai.document.settings import Style
from kaipai.document.shots import Placement, Shot

W, H, FPS = 320, 180, 12
ANA = Character(id="ana", name="Ana", color="#e04040")
RED = np.array([0xE0, 0x40, 0x40])
SCENE = Scene(id="S1", heading="EXT. PARK - DAY", int_ext="EXT", time_of_day="day")


def clip(tmp: Path, move: str, seconds: float = 1.0) -> list[np.ndarray]:
    shot = Shot(id="S1-001", scene="S1", order=1, size="MS", move=move, composition=[Placement(character="ana")])
    backend = PrevizBackend()
    (tmp / "k").mkdir(exist_ok=True)
    (tmp / move).mkdir()
    key = backend.generate_image(
        ImageRequest(prompt="", width=W, height=H, shot=shot, scene=SCENE, characters=[ANA], style=Style()),
        JobContext(out_dir=tmp / "k"),
    ).files[0]
    out = backend.generate_video(
        VideoRequest(prompt="", image=key, width=W, height=H, fps=FPS, duration=seconds, shot=shot),
        JobContext(out_dir=tmp / move),
    )
    with av.open(str(out.files[0])) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    assert len(frames) == round(seconds * FPS) and out.duration == pytest.approx(seconds)
    return frames


def red_centre(frame: np.ndarray) -> tuple[float, float, float]:
    """Centre x, centre y and area share of Ana's red clothes in the picture above the caption band."""
    picture = frame[: int(H * 0.86)]
    mask = np.abs(picture.astype(int) - RED).sum(axis=2) < 60
    ys, xs = np.nonzero(mask)
    return float(xs.mean()), float(ys.mean()), float(mask.mean())


@pytest.mark.parametrize(
    ("move", "dx", "dy", "grows"),
    [
        ("pan_right", -1, 0, 0),  # the camera turns right: the subject slides left
        ("pan_left", 1, 0, 0),
        ("truck_right", -1, 0, 0),
        ("tilt_up", 0, 1, 0),  # the camera looks up: the subject sinks
        ("crane_down", 0, -1, 0),
        ("push_in", 0, 0, 1),
        ("pull_out", 0, 0, -1),
    ],
)
def test_each_move_moves_the_subject_its_way(tmp_path: Path, move: str, dx: int, dy: int, grows: int) -> None:
    frames = clip(tmp_path, move)
    (x0, y0, a0), (x1, y1, a1) = red_centre(frames[0]), red_centre(frames[-1])
    for sign, delta in ((dx, x1 - x0), (dy, y1 - y0)):
        assert (delta * sign > 4) if sign else abs(delta) < 3, (move, x0, x1, y0, y1)
    if grows:
        assert (a1 - a0) * grows > 0.1 * a0
    mid = red_centre(frames[len(frames) // 2])
    start_step = np.hypot(*np.subtract(red_centre(frames[1])[:2], (x0, y0)))
    middle_step = np.hypot(*np.subtract(red_centre(frames[len(frames) // 2 + 1])[:2], mid[:2]))
    if dx or dy:  # eased: it starts gently and moves fastest in the middle
        assert start_step < middle_step


def test_a_static_clip_keeps_the_keyframes_colours_and_a_handheld_one_drifts(tmp_path: Path) -> None:
    frames = clip(tmp_path, "static")
    key = np.asarray(Image.open(tmp_path / "k" / "keyframe.png").convert("RGB")).astype(int)
    assert np.abs(frames[0].astype(int) - key).mean() < 4  # colour survives the trip through yuv420p
    assert max(np.abs(frames[0].astype(int) - f).mean() for f in frames[1:]) < 1  # nothing moves
    shaky = clip(tmp_path, "handheld", 2.0)
    centres = np.array([red_centre(f)[:2] for f in shaky])
    assert np.ptp(centres[:, 0]) > 3 and np.ptp(centres[:, 1]) > 2  # it wanders in both directions
    assert np.abs(np.diff(centres, axis=0)).max() < 8  # but smoothly, never jumping


def test_an_odd_frame_size_is_refused_with_what_to_change(tmp_path: Path) -> None:
    frames_dir = tmp_path / "k"
    frames_dir.mkdir()
    shot = Shot(id="S1-001", scene="S1", order=1)
    key = (
        PrevizBackend()
        .generate_image(
            ImageRequest(prompt="", width=W, height=H, shot=shot, scene=SCENE, characters=[ANA]),
            JobContext(out_dir=frames_dir),
        )
        .files[0]
    )
    with pytest.raises(UnsupportedRequest, match="resolution"):
        PrevizBackend().generate_video(
            VideoRequest(prompt="", image=key, width=321, height=180, fps=FPS, duration=1.0, shot=shot),
            JobContext(out_dir=tmp_path),
        )
