"""Previz frames communicate the shot: size, placement, light, and who is speaking."""

from __future__ import annotations

import json
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
from kaipai.document.settings import Style
from kaipai.document.shots import Placement, Shot
from kaipai.previz.motion import window

W, H = 480, 270
ANA = Character(id="ana", name="Ana", color="#e04040")
BO = Character(id="bo", name="Bo", color="#3060e0")


def scene(tod: str = "day", int_ext: str = "EXT") -> Scene:
    return Scene(id="S1", heading="EXT. PARK - DAY", int_ext=int_ext, time_of_day=tod)


def shot(size: str = "MS", placements: list[Placement] | None = None, move: str = "static", angle: str = "eye") -> Shot:
    return Shot(
        id="S1-001",
        scene="S1",
        order=1,
        size=size,
        angle=angle,
        move=move,
        description="Ana waits",
        composition=placements if placements is not None else [Placement(character="ana")],
    )


def keyframe(
    tmp: Path, s: Shot, sc: Scene | None = None, chars: list[Character] | None = None
) -> tuple[np.ndarray, Path]:
    out = tmp / f"k{len(list(tmp.iterdir()))}"
    out.mkdir()
    r = PrevizBackend().generate_image(
        ImageRequest(
            prompt="", width=W, height=H, shot=s, scene=sc or scene(), characters=chars or [ANA, BO], style=Style()
        ),
        JobContext(out_dir=out),
    )
    return np.asarray(Image.open(r.files[0]).convert("RGB")), r.files[0]


def colour_mask(img: np.ndarray, rgb: tuple[int, int, int]) -> np.ndarray:
    return np.abs(img.astype(int) - np.array(rgb)).sum(axis=2) < 40


def test_close_up_figure_fills_much_more_of_the_frame_than_a_wide_shot(tmp_path: Path) -> None:
    cu, _ = keyframe(tmp_path, shot("CU"))
    ws, _ = keyframe(tmp_path, shot("WS"))
    red = (0xE0, 0x40, 0x40)
    assert colour_mask(cu, red).mean() > 4 * colour_mask(ws, red).mean() > 0


def test_left_and_right_follow_the_composition(tmp_path: Path) -> None:
    img, _ = keyframe(
        tmp_path, shot("MS", [Placement(character="ana", third="left"), Placement(character="bo", third="right")])
    )
    ana_x = np.nonzero(colour_mask(img, (0xE0, 0x40, 0x40)))[1].mean()
    bo_x = np.nonzero(colour_mask(img, (0x30, 0x60, 0xE0)))[1].mean()
    assert ana_x < W / 2 < bo_x


def test_night_is_darker_than_day(tmp_path: Path) -> None:
    day, _ = keyframe(tmp_path, shot(), scene("day"))
    night, _ = keyframe(tmp_path, shot(), scene("night"))
    assert night.mean() < 0.6 * day.mean()


def test_the_same_spec_draws_the_same_pixels(tmp_path: Path) -> None:
    a, _ = keyframe(tmp_path, shot("MCU"))
    b, _ = keyframe(tmp_path, shot("MCU"))
    assert np.array_equal(a, b)


def _frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def test_push_in_moves_the_picture_and_keeps_size_fps_and_length(tmp_path: Path) -> None:
    _, key = keyframe(tmp_path, shot("MS", move="push_in"))
    out = tmp_path / "clip"
    out.mkdir()
    r = PrevizBackend().generate_video(
        VideoRequest(prompt="", image=key, width=W, height=H, fps=12, duration=2.0, shot=shot("MS", move="push_in")),
        JobContext(out_dir=out),
    )
    frames = _frames(r.files[0])
    assert len(frames) == 24 and frames[0].shape == (H, W, 3) and r.fps == 12
    bottom = int(H * 0.14)  # where the first release drew its info bar: picture now, moving with the rest
    assert np.abs(frames[0][: H - bottom].astype(int) - frames[-1][: H - bottom].astype(int)).mean() > 5
    assert np.abs(frames[0][H - bottom :].astype(int) - frames[-1][H - bottom :].astype(int)).mean() > 5
    assert frames[0][H - bottom :].mean() > 40, "a dark info bar is drawn over the clip"


@pytest.mark.parametrize("move", ["static", "push_in"])
def test_only_the_speakers_mouth_moves_and_it_opens_with_the_loudness(tmp_path: Path, move: str) -> None:
    two = shot("MS", [Placement(character="ana", third="left"), Placement(character="bo", third="right")], move=move)
    _, key = keyframe(tmp_path, two)
    backend = PrevizBackend()
    (tmp_path / "c").mkdir()
    clip = backend.generate_video(
        VideoRequest(prompt="", image=key, width=W, height=H, fps=12, duration=2.0, shot=two),
        JobContext(out_dir=tmp_path / "c"),
    ).files[0]
    rate = 24000
    t = np.arange(2 * rate) / rate
    loudness = np.clip(np.sin(2 * np.pi * 1.5 * t), 0, None)  # three bursts of "speech" with silence between
    tone = (0.5 * np.sin(2 * np.pi * 180 * t) * loudness * 32767).astype("<i2")
    audio = tmp_path / "line.wav"
    with wave.open(str(audio), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(rate), w.writeframes(tone.tobytes())
    (tmp_path / "l").mkdir()
    synced = backend.lipsync(
        LipsyncRequest(video=clip, audio=audio, speakers=[("bo", 0.0, 2.0)], shot=two, characters=[ANA, BO], fps=12),
        JobContext(out_dir=tmp_path / "l"),
    ).files[0]
    before, after = np.stack(_frames(clip)).astype(int), np.stack(_frames(synced)).astype(int)
    assert before.shape == after.shape
    changed = np.abs(after - before).sum(axis=3) > 90  # beyond re-encoding noise
    with av.open(str(clip)) as c:
        meta = json.loads(c.metadata["comment"])
    bx, by = json.loads(meta["layout"])["mouths"]["bo"][:2]
    areas = changed.reshape(len(changed), -1).sum(axis=1)
    assert areas.max() > 0, "no mouth moved"
    for i in np.nonzero(areas)[0]:
        ys, xs = np.nonzero(changed[i])
        x, y, cw, ch = window(move, i / (len(changed) - 1), *meta["picture"], 0, (len(changed) - 1) / 12)
        ex, ey = (bx - x) * W / cw, (by - y) * (H - meta["band_h"]) / ch  # where Bo's mouth is in this frame
        assert xs.min() > W / 2 and np.hypot(xs.mean() - ex, ys.mean() - ey) < H * 0.05, i  # only around Bo's mouth
    frame_loudness = np.array(
        [loudness[int(i * rate / 12) : int((i + 1) * rate / 12)].mean() for i in range(len(areas))]
    )
    assert np.corrcoef(areas, frame_loudness)[0, 1] > 0.7  # open when loud, shut in the pauses


def sky_share(img: np.ndarray) -> float:
    picture = img[: int(H * 0.86)].astype(int)
    r, g, b = picture[..., 0], picture[..., 1], picture[..., 2]
    return float(((b > 150) & (b > g) & (g > r)).mean())  # the day sky's blues; the grass is green


def test_a_low_angle_looks_up_at_the_sky_and_a_high_angle_down_at_the_ground(tmp_path: Path) -> None:
    low, _ = keyframe(tmp_path, shot("MS", angle="low"))
    eye, _ = keyframe(tmp_path, shot("MS", angle="eye"))
    high, _ = keyframe(tmp_path, shot("MS", angle="high"))
    assert sky_share(low) > sky_share(eye) + 0.2 and sky_share(eye) > sky_share(high)


def test_an_insert_shows_its_object_as_big_as_the_shot_size_says(tmp_path: Path) -> None:
    def insert(size: str, description: str) -> np.ndarray:
        s = Shot(id="S1-002", scene="S1", order=2, size=size, kind="insert", description=description)
        return keyframe(tmp_path, s)[0][: int(H * 0.86)].astype(int)

    area = []
    for size in ("ECU", "LS"):
        empty = insert(size, "A quiet moment.")  # names no object: just the set
        lantern = insert(size, "Insert, close-up of the lantern.")
        area.append(float((np.abs(lantern - empty).sum(axis=2) > 60).mean()))
    assert area[0] > 0.15 and area[0] > 4 * area[1] > 0


def test_a_reference_sheet_shows_the_character_front_side_and_back_on_plain_grey(tmp_path: Path) -> None:
    request = ImageRequest(
        prompt="sheet",
        width=480,
        height=270,
        purpose="reference_sheet",
        characters=[ANA],
        style=Style(),
        language="en",
        seed=1,
    )
    out = tmp_path / "sheet"
    out.mkdir()
    result = PrevizBackend().generate_image(request, JobContext(out_dir=out, key="k"))
    with Image.open(result.files[0]) as im:
        img = np.asarray(im.convert("RGB"))
    assert tuple(img[2, 2]) == tuple(img[2, -3]) == (150, 150, 152)  # no set behind them
    body = colour_mask(img, (0xE0, 0x40, 0x40))
    columns = body.any(axis=0).astype(int)
    starts = np.flatnonzero(np.diff(np.concatenate([[0], columns])) == 1)
    assert len(starts) == 3  # the same figure three times, side by side
    widths = [int(columns[a:].argmin()) for a in starts]
    assert max(widths) - min(widths) <= 4  # at the same size
