"""The visible AIGC notice: its text height is at least 5 % of the frame's shorter side measured in
decoded frames (ink, not font size), the corner mark stays on after the opening, and the detector
does not see notices in pictures that have none (labelling the opening alone: test_opening.py)."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kaipai.post import label
from kaipai.post.assemble import assemble
from tests.support.media import PATTERN_SIZE, Media, pattern_clip, pattern_cut, pictures_and_sound

W, H = PATTERN_SIZE
SHOTS = [("testsrc2", 2.0), ("smptebars", 1.6), ("mandelbrot", 2.4)]
ULTRAFAST = ("-preset", "ultrafast")


@settings(max_examples=25, deadline=None)
@given(
    w=st.integers(160, 3840).map(lambda v: v - v % 2),
    h=st.integers(160, 2160).map(lambda v: v - v % 2),
    text=st.sampled_from(["AI生成", "AI generated", "人工智能生成"]),
    corner=st.sampled_from(label.CORNERS),
)
def test_the_notice_is_sized_by_its_ink_and_sits_inside_the_frame(w: int, h: int, text: str, corner: str) -> None:
    n = label.notice(text, w, h, corner)
    assert n.ink >= 0.06 * min(w, h) - 1e-9 > 0.05 * min(w, h)
    assert n.x % 2 == 0 and n.y % 2 == 0  # 4:2:0 overlays land on even pixels
    assert n.x >= 0 and n.x + n.size[0] <= w and n.y >= 0 and n.y + n.size[1] <= h
    assert n.font_size < n.ink * 1.5  # the font is sized from the glyphs, not the other way round


def test_the_corner_mark_stays_after_the_opening(tmp_path: Path, media: Media) -> None:
    cut = pattern_cut(tmp_path, media, SHOTS, *ULTRAFAST)
    n = label.notice("AI generated", W, H, "bottom_right")
    picture = label.OnPicture(n, label.write_images(n, tmp_path / "labels"), 50, mark=True)
    film = tmp_path / "film.mp4"
    assemble(cut, film, slate=media.slate(), notice=picture, stream_copy=False)
    frames, _ = pictures_and_sound(film)
    sightings = [label.find(f, ["AI generated"]) for f in frames]
    assert all(s is not None and s.corner == "bottom_right" for s in sightings)
    # the mark is lighter than the opening notice but as tall
    assert np.median([s.contrast for s in sightings[60:]]) < 0.8 * np.median([s.contrast for s in sightings[:50]])
    assert min(s.ink for s in sightings) >= 0.05 * H


@pytest.mark.parametrize("source", ["testsrc2", "smptebars", "mandelbrot", "rgbtestsrc", "cellauto"])
def test_pictures_without_a_notice_show_none(tmp_path: Path, source: str) -> None:
    clip = pattern_clip(tmp_path, source, source, 1.0, *ULTRAFAST)
    with av.open(str(clip)) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    texts = [*label.TEXTS.values(), "人工智能生成"]
    assert [i for i, f in enumerate(frames) if label.find(f, texts) is not None] == []
