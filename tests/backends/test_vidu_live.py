"""Live checks against Vidu; they run only when VIDU_API_KEY is set (VIDU_REGION=global for vidu.com).

Only the free check runs by default; set KAIPAI_LIVE_SPEND=1 to also make one short 540p clip.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kaipai.backends.base import JobContext, VideoRequest
from kaipai.backends.vidu import ViduBackend
from tests.backends.doubles.server import png_bytes

pytestmark = [pytest.mark.live, pytest.mark.skipif(not os.environ.get("VIDU_API_KEY"), reason="needs VIDU_API_KEY")]


def test_the_key_is_accepted() -> None:
    assert "key accepted" in ViduBackend().reachable()


@pytest.mark.skipif(os.environ.get("KAIPAI_LIVE_SPEND") != "1", reason="costs money: set KAIPAI_LIVE_SPEND=1")
def test_one_short_clip(tmp_path: Path) -> None:
    keyframe = tmp_path / "keyframe.png"
    keyframe.write_bytes(png_bytes(1280, 720, (90, 120, 160)))
    clip = ViduBackend(model="viduq2-turbo", resolution="540p", deadline=1200).generate_video(
        VideoRequest(prompt="slow push in", image=keyframe, width=1280, height=720, fps=24, duration=2),
        JobContext(out_dir=tmp_path, key="live-v"),
    )
    assert clip.files[0].stat().st_size > 10_000 and clip.cost_units > 0
